//! The receiving side: which `msg` datagrams are new, per (sender, sender session).

use std::collections::{HashMap, VecDeque};

use crate::wire::{Name, SessionId};

/// Sender sessions remembered per peer. A peer gets a new session id each time it starts, and
/// its outbox may still hold messages of earlier sessions (sent again with their own session
/// id), so a few more than a handful; the least recently updated is forgotten first. A store
/// keeps the same ones, so a restart forgets nothing the client would have remembered.
pub const SESSIONS_KEPT_PER_PEER: usize = 16;

/// Peers that left whose streams are still remembered. A peer that leaves and comes back (from
/// the same endpoint, say) may still have old datagrams in flight; remembering its streams a
/// while keeps them from being shown a second time, and this bound keeps memory finite.
pub(crate) const DEPARTED_PEERS_KEPT: usize = 1024;

/// Whether to show an accepted `msg`. Either way it is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// First time this (sid, seq) is seen and it comes after everything shown from that session.
    Show,
    /// Already shown, or older than what was shown.
    Duplicate,
}

/// Receive state of every peer we heard from.
#[derive(Debug, Default)]
pub(crate) struct Incoming {
    peers: HashMap<Name, Streams>,
    /// Departures in order, each tagged with its departure number.
    departed: VecDeque<(u64, Name)>,
    departures: u64,
}

#[derive(Debug, Default)]
struct Streams {
    /// (sender session, last seq shown), least recently updated first.
    sessions: VecDeque<(SessionId, u64)>,
    /// Departure number while the peer is offline.
    departed: Option<u64>,
}

impl Streams {
    fn last_shown(&self, sid: SessionId) -> Option<u64> {
        self.sessions
            .iter()
            .find(|(s, _)| *s == sid)
            .map(|&(_, last)| last)
    }

    /// `last` is now the last seq shown of `sid`, the session updated last.
    fn note(&mut self, sid: SessionId, last: u64) {
        if let Some(at) = self.sessions.iter().position(|(s, _)| *s == sid) {
            self.sessions.remove(at);
        } else if self.sessions.len() >= SESSIONS_KEPT_PER_PEER {
            self.sessions.pop_front();
        }
        self.sessions.push_back((sid, last));
    }
}

impl Incoming {
    /// Takes back what an earlier run showed (oldest first, per peer).
    pub(crate) fn restore(&mut self, streams: &[crate::client::persist::SavedStream]) {
        for stream in streams {
            let streams = self.peers.entry(stream.from.clone()).or_default();
            let last = streams.last_shown(stream.sid).unwrap_or(0);
            streams.note(stream.sid, last.max(stream.last_shown));
        }
    }

    /// Decides on a `msg` sealed by a listed peer's trusted key.
    pub(crate) fn accept(&mut self, from: &Name, sid: SessionId, seq: u64) -> Verdict {
        let streams = match self.peers.get_mut(from.as_str()) {
            Some(streams) => streams,
            None => self.peers.entry(from.clone()).or_default(),
        };
        match streams.last_shown(sid) {
            Some(last) if seq <= last => Verdict::Duplicate,
            _ => {
                streams.note(sid, seq);
                Verdict::Show
            }
        }
    }

    /// The peer is listed again: its remembered streams are live again.
    pub(crate) fn peer_joined(&mut self, name: &str) {
        if let Some(streams) = self.peers.get_mut(name) {
            streams.departed = None;
        }
    }

    /// The peer left: its streams are kept among the last [`DEPARTED_PEERS_KEPT`] departures.
    pub(crate) fn peer_left(&mut self, name: &Name) {
        let Some(streams) = self.peers.get_mut(name.as_str()) else {
            return;
        };
        let number = self.departures;
        self.departures += 1;
        streams.departed = Some(number);
        self.departed.push_back((number, name.clone()));
        while self.departed.len() > DEPARTED_PEERS_KEPT {
            let Some((number, name)) = self.departed.pop_front() else {
                break;
            };
            // A peer that came back (or left again since) is not forgotten by this old departure.
            let still_this_departure = self
                .peers
                .get(name.as_str())
                .is_some_and(|s| s.departed == Some(number));
            if still_this_departure {
                self.peers.remove(name.as_str());
            }
        }
    }

    /// Peers with receive state (for tests of the memory bound).
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> usize {
        self.peers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::persist::Record;
    use crate::client::ReferenceStore;

    fn name(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn shows_each_seq_once_and_only_forward() {
        let mut rx = Incoming::default();
        let bob = name("bob");
        let sid = SessionId::new(1);
        assert_eq!(rx.accept(&bob, sid, 1), Verdict::Show);
        assert_eq!(rx.accept(&bob, sid, 1), Verdict::Duplicate);
        assert_eq!(rx.accept(&bob, sid, 3), Verdict::Show);
        assert_eq!(rx.accept(&bob, sid, 2), Verdict::Duplicate);
        assert_eq!(rx.accept(&bob, SessionId::new(2), 1), Verdict::Show);
        assert_eq!(rx.accept(&bob, sid, 3), Verdict::Duplicate);
    }

    proptest::proptest! {
        /// A restart forgets nothing the client would have remembered: the streams a store
        /// keeps from the records of what was shown (the reference store's rule) restore
        /// exactly the sessions the running client holds, in the same order.
        #[test]
        fn a_store_restores_the_sessions_kept(
            shows in proptest::collection::vec((0u64..24, 1u64..6), 0..120),
        ) {
            let bob = name("bob");
            let mut running = Incoming::default();
            let mut store = ReferenceStore::default();
            for (sid, seq) in shows {
                let sid = SessionId::new(sid);
                if running.accept(&bob, sid, seq) == Verdict::Show {
                    store.apply(&Record::Shown {
                        from: bob.clone(),
                        sid,
                        seq,
                        text: String::new(),
                        encrypted: true,
                        at_ms: 0,
                    });
                }
            }
            let mut restarted = Incoming::default();
            restarted.restore(&store.restored().streams);
            let kept = |rx: &Incoming| rx.peers.get("bob").map(|s| s.sessions.clone());
            proptest::prop_assert_eq!(kept(&restarted), kept(&running));
        }
    }

    #[test]
    fn the_least_recently_updated_session_is_forgotten_beyond_the_bound() {
        let mut rx = Incoming::default();
        let bob = name("bob");
        for sid in 0..SESSIONS_KEPT_PER_PEER as u64 {
            assert_eq!(rx.accept(&bob, SessionId::new(sid), 5), Verdict::Show);
        }
        // Session 0 shows more: session 1 is now the least recently updated.
        assert_eq!(rx.accept(&bob, SessionId::new(0), 6), Verdict::Show);
        let newest = SESSIONS_KEPT_PER_PEER as u64;
        assert_eq!(rx.accept(&bob, SessionId::new(newest), 5), Verdict::Show);
        assert_eq!(rx.accept(&bob, SessionId::new(0), 6), Verdict::Duplicate);
        assert_eq!(rx.accept(&bob, SessionId::new(1), 5), Verdict::Show);
    }

    #[test]
    fn oldest_session_is_forgotten_beyond_the_bound() {
        let mut rx = Incoming::default();
        let bob = name("bob");
        for sid in 0..=SESSIONS_KEPT_PER_PEER as u64 {
            assert_eq!(rx.accept(&bob, SessionId::new(sid), 5), Verdict::Show);
        }
        // Session 0 was evicted, so it starts afresh; session 1 is still known.
        assert_eq!(rx.accept(&bob, SessionId::new(1), 5), Verdict::Duplicate);
        assert_eq!(rx.accept(&bob, SessionId::new(0), 5), Verdict::Show);
    }

    #[test]
    fn a_peer_that_comes_back_keeps_its_old_streams() {
        let mut rx = Incoming::default();
        let bob = name("bob");
        assert_eq!(rx.accept(&bob, SessionId::new(1), 1), Verdict::Show);
        rx.peer_left(&bob);
        rx.peer_joined("bob");
        assert_eq!(rx.accept(&bob, SessionId::new(1), 1), Verdict::Duplicate);
    }

    #[test]
    fn departed_peers_are_forgotten_beyond_the_bound() {
        let mut rx = Incoming::default();
        let stay = name("stay");
        rx.accept(&stay, SessionId::new(1), 1);
        for i in 0..DEPARTED_PEERS_KEPT + 10 {
            let peer = name(&format!("p{i}"));
            rx.accept(&peer, SessionId::new(1), 1);
            rx.peer_left(&peer);
        }
        assert_eq!(rx.remembered(), DEPARTED_PEERS_KEPT + 1);
        assert_eq!(rx.accept(&stay, SessionId::new(1), 1), Verdict::Duplicate);
    }

    #[test]
    fn an_old_departure_does_not_forget_a_returned_peer() {
        let mut rx = Incoming::default();
        let bob = name("bob");
        rx.accept(&bob, SessionId::new(1), 1);
        rx.peer_left(&bob);
        rx.peer_joined("bob");
        for i in 0..DEPARTED_PEERS_KEPT + 10 {
            let peer = name(&format!("p{i}"));
            rx.accept(&peer, SessionId::new(1), 1);
            rx.peer_left(&peer);
        }
        assert_eq!(rx.accept(&bob, SessionId::new(1), 1), Verdict::Duplicate);
    }
}
