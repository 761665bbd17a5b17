//! Unit tests driving a whole client with hand-made datagrams and lines in virtual time, and
//! peers of its own ([`TestPeer`]) that seal, open and handshake as a real one would.

mod chat;
mod classic_login;
mod classic_peers;
mod keys;
mod login;
mod paths;
mod peer;
mod presence;
mod receiver_props;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Client, ClientConfig, ClientEvent, ClientTransmit, StaticKeys};
use crate::wire::{Name, PeerDatagram, SessionId, UserEntry};
use peer::{keys_of, other_keys, TestPeer};

pub(super) const SERVER: &str = "10.0.0.1:9000";
pub(super) const LOCAL: &str = "192.168.1.5:40001";
/// Where the server sees us (behind NAT).
pub(super) const OBSERVED: &str = "203.0.113.5:40001";
pub(super) const OUR_SID: u64 = 0x0123_4567_89ab_cdef;
pub(super) const BOB: &str = "198.51.100.7:5000";
pub(super) const CAROL: &str = "[2001:db8::3]:6000";

pub(super) fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub(super) fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

pub(super) fn entry(n: &str, ep: &str) -> UserEntry {
    UserEntry::new(name(n), addr(ep))
}

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// alice, with her key: native chat needs one.
pub(super) fn config() -> ClientConfig {
    peer_config("alice", LOCAL, OUR_SID)
}

/// A client named `who` on `local`, with [`keys_of`] `who` as its identity.
pub(super) fn peer_config(who: &str, local: &str, sid: u64) -> ClientConfig {
    let mut config = ClientConfig::new(name(who), addr(SERVER), addr(local), SessionId::new(sid));
    config.identity = Some(keys_of(who));
    config
}

/// A `path` event.
pub(super) fn path(peer: &str, via: super::Via, endpoint: SocketAddr) -> ClientEvent {
    ClientEvent::Path {
        peer: name(peer),
        via,
        endpoint,
    }
}

/// The plaintext of a `msg`.
pub(super) fn msg(from: &str, sid: u64, seq: u64, text: &str) -> Vec<u8> {
    PeerDatagram::Msg {
        from: name(from),
        sid: SessionId::new(sid),
        seq,
        text,
    }
    .to_vec()
}

/// The plaintext of an `ack`.
pub(super) fn ack(from: &str, sid: u64, seq: u64) -> Vec<u8> {
    PeerDatagram::Ack {
        from: name(from),
        sid: SessionId::new(sid),
        seq,
    }
    .to_vec()
}

/// A client, its virtual clock, and its test peers with the network between them.
///
/// Every input (a line, a datagram, a send, time passing) is followed by a *pump*: the client's
/// sealed datagrams go to the test peer listed at their destination (or named by a `relay`
/// line: the rig plays the server), whose answers (handshake responses, and whatever a test had
/// it seal) go back to the client, until both are quiet. So a test sees the chat itself:
/// [`chat`](Self::chat) gives the plaintexts the peers opened, and
/// [`transmits`](Self::transmits) everything else the client asked for but its durable writes,
/// which are kept apart in [`records`](Self::records). How paths are found —
/// `intro` lines and `path` events — is kept apart ([`intros`](Self::intros),
/// [`path_events`](Self::path_events)), so that a test about something else is not about them.
pub(super) struct Rig {
    pub(super) client: Client,
    pub(super) t0: Instant,
    pub(super) now: Instant,
    pub(super) peers: Vec<TestPeer>,
    /// The client's transmits other than sealed datagrams, not yet looked at.
    held: VecDeque<ClientTransmit>,
    /// What the peers opened, with the endpoint the client sent it to.
    opened: VecDeque<(SocketAddr, String)>,
    /// Every sealed datagram the client sent, with its destination, not yet looked at.
    wire: VecDeque<(SocketAddr, Bytes)>,
    /// Every datagram a peer delivered to the client, with its source, for replays.
    pub(super) delivered: Vec<(SocketAddr, Bytes)>,
    /// The names the client asked introductions to, not yet looked at.
    intros: VecDeque<String>,
    /// The client's `path` events, not yet looked at.
    path_events: VecDeque<ClientEvent>,
    /// Every record the client asked to make durable, in order: what a store would hold.
    pub(super) records: Vec<crate::client::Record>,
}

impl Rig {
    /// A client that has just queued its first login datagram.
    pub(super) fn new() -> Rig {
        Rig::with(config())
    }

    pub(super) fn with(config: ClientConfig) -> Rig {
        let t0 = Instant::now();
        Rig {
            client: Client::new(config, t0),
            t0,
            now: t0,
            peers: Vec::new(),
            held: VecDeque::new(),
            opened: VecDeque::new(),
            wire: VecDeque::new(),
            delivered: Vec::new(),
            intros: VecDeque::new(),
            path_events: VecDeque::new(),
            records: Vec::new(),
        }
    }

    /// Online with `peers` listed after us, each with its key line, all output drained.
    pub(super) fn online(peers: &[(&str, &str)]) -> Rig {
        Rig::online_with(config(), peers)
    }

    /// [`online`](Self::online) with another configuration; every peer's key is pinned anew.
    pub(super) fn online_with(config: ClientConfig, peers: &[(&str, &str)]) -> Rig {
        let mut rig = Rig::logged_in(config, OBSERVED, peers);
        rig.transmits();
        let mut expected = vec!["logged_in".to_owned()];
        expected.extend(peers.iter().map(|(n, _)| format!("key_pinned {n}")));
        let events: Vec<String> = rig
            .events()
            .iter()
            .map(|e| match e {
                ClientEvent::LoggedIn { .. } => "logged_in".to_owned(),
                ClientEvent::KeyPinned { name, key } => {
                    assert_eq!(*key, keys_of(name.as_str()).public());
                    format!("key_pinned {name}")
                }
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(events, expected);
        rig
    }

    /// Online with `peers` listed after us but no key line at all (a classic peer has none, a
    /// test may add them with [`key_line`](Self::key_line)), all output drained.
    pub(super) fn online_unkeyed(config: ClientConfig, peers: &[(&str, &str)]) -> Rig {
        let mut rig = Rig::snapshot(config, OBSERVED, peers);
        rig.transmits();
        let events = rig.events();
        assert!(
            matches!(events.as_slice(), [ClientEvent::LoggedIn { .. }]),
            "{events:?}"
        );
        rig
    }

    /// The snapshot listing us at `me` and `peers` after us, then the key line of each (ours
    /// first, as the server sends them); the output is left for the test.
    pub(super) fn logged_in(config: ClientConfig, me: &str, peers: &[(&str, &str)]) -> Rig {
        let mut rig = Rig::snapshot(config, me, peers);
        rig.our_key_line();
        for (n, _) in peers {
            rig.key_line(n);
        }
        rig
    }

    /// Accepted, connected, and the snapshot listing us at `me` then `peers`, each of which gets
    /// a test peer with its usual key.
    fn snapshot(config: ClientConfig, me: &str, peers: &[(&str, &str)]) -> Rig {
        let mut rig = Rig::with(config);
        rig.answer_login(me, peers);
        for (n, ep) in peers {
            rig.add_peer(n, keys_of(n), ep);
        }
        rig
    }

    /// The server accepts the login, the connection opens, and the snapshot lists us at `me`
    /// then `peers`.
    fn answer_login(&mut self, me: &str, peers: &[(&str, &str)]) {
        let ours = self.client.config().name.clone();
        self.server_datagram(b"Accept,9001");
        self.client.handle_connected(self.now);
        let mut snapshot = format!("{ours},{};", addr(me));
        for (n, ep) in peers {
            snapshot.push_str(&format!("{n},{};", addr(ep)));
        }
        snapshot.push_str("end");
        self.line(&snapshot);
    }

    /// The server lists our own key, as it does after our snapshot.
    fn our_key_line(&mut self) {
        let ours = self.client.config().name.clone();
        self.line(&format!("key,{ours},{}", keys_of(ours.as_str()).public()));
    }

    /// The link with the server is lost and the client logs in again (its first wait is at most
    /// a second), first of all: the new snapshot lists only us. The transmits are drained, the
    /// events left for the test.
    pub(super) fn log_in_again(&mut self) {
        self.client.handle_tcp_closed(self.now);
        self.advance(Duration::from_secs(1));
        self.answer_login(OBSERVED, &[]);
        self.our_key_line();
        self.transmits();
    }

    /// `send_message`, then the network carries what it sent.
    pub(super) fn send(
        &mut self,
        to: &str,
        text: &str,
    ) -> Result<crate::client::MessageId, crate::client::SendError> {
        let result = self.client.send_message(self.now, to, text);
        self.pump();
        result
    }

    /// `/trust`, then the network carries what it let go.
    pub(super) fn trust(&mut self, n: &str) -> Result<(), crate::client::TrustError> {
        let result = self.client.trust(self.now, n);
        self.pump();
        result
    }

    /// Moves the clock forward and fires the client's and the peers' timers.
    pub(super) fn advance(&mut self, by: Duration) {
        self.now += by;
        self.client.handle_timeout(self.now);
        self.peer_timers();
    }

    /// Jumps to the client's next deadline and fires it.
    pub(super) fn fire_next(&mut self) {
        let at = self.client.poll_timeout().expect("a deadline");
        self.now = self.now.max(at);
        self.client.handle_timeout(self.now);
        self.peer_timers();
    }

    pub(super) fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    /// The datagrams queued other than sealed ones (as text), failing on any other transmit.
    pub(super) fn datagrams(&mut self) -> Vec<(SocketAddr, String)> {
        self.transmits()
            .into_iter()
            .map(|t| match t {
                ClientTransmit::Datagram { to, data } => {
                    (to, String::from_utf8(data.to_vec()).unwrap())
                }
                other => panic!("not a datagram: {other:?}"),
            })
            .collect()
    }

    /// The client's events, but for `path` events (see [`path_events`](Self::path_events)).
    pub(super) fn events(&mut self) -> Vec<ClientEvent> {
        self.pump();
        let mut events = Vec::new();
        while let Some(event) = self.client.poll_event() {
            match event {
                ClientEvent::Path { .. } => self.path_events.push_back(event),
                other => events.push(other),
            }
        }
        events
    }

    /// The client's `path` events since last asked.
    pub(super) fn path_events(&mut self) -> Vec<ClientEvent> {
        self.events();
        self.path_events.drain(..).collect()
    }

    /// The names the client asked the server to introduce since last asked.
    pub(super) fn intros(&mut self) -> Vec<String> {
        self.pump();
        self.intros.drain(..).collect()
    }

    pub(super) fn server_datagram(&mut self, data: &[u8]) {
        self.client.handle_datagram(self.now, addr(SERVER), data);
        self.pump();
    }

    /// Raw bytes from `from`: plain datagrams, replays, garbage.
    pub(super) fn peer_datagram(&mut self, from: &str, data: &[u8]) {
        self.client.handle_datagram(self.now, addr(from), data);
        self.pump();
    }

    /// One server line; the `\n` is added.
    pub(super) fn line(&mut self, line: &str) {
        self.client
            .handle_tcp_bytes(self.now, format!("{line}\n").as_bytes());
        self.pump();
    }
}

/// `text` in UTF-16LE, as the classic dialect writes every datagram.
pub(super) fn utf16(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    crate::wire::encode_utf16le(text, &mut out);
    out
}

impl Rig {
    /// The classic (UTF-16LE) datagrams queued, as text, failing on any other transmit.
    pub(super) fn classic_datagrams(&mut self) -> Vec<(SocketAddr, String)> {
        self.transmits()
            .into_iter()
            .map(|t| match t {
                ClientTransmit::Datagram { to, data } => {
                    (to, crate::wire::decode_utf16le(&data).unwrap())
                }
                other => panic!("not a datagram: {other:?}"),
            })
            .collect()
    }
}

pub(super) fn send_line(text: &str) -> ClientTransmit {
    ClientTransmit::Send {
        data: bytes::Bytes::copy_from_slice(text.as_bytes()),
    }
}
