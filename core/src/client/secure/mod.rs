//! The secure layer: every peer datagram sealed in Noise (`docs/protocol.md`, section 8.1).
//!
//! Sans-IO like the rest of the client: time comes in as `now`, randomness from a seed and the
//! wall clock from a [`WallClock`]. One [`Secure`] holds every session of one client, keyed by
//! the peer's name; which key a name has is the caller's business (a [`Directory`] of trusted
//! keys), and a key that changes is [`forget`]-ten first. Datagrams go out into [`Sends`],
//! addressed by name: where a peer is reachable is the path layer's business, not this one's.
//!
//! Per peer it keeps at most three sessions (current, previous, and next: answered but not yet
//! confirmed), one handshake of its own in flight, and a short queue of plaintexts waiting for a
//! session. The initiator speaks first on a new session, which confirms it to the responder:
//! until then the responder never seals on it.
//!
//! [`forget`]: Secure::forget

#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod chaos;
mod handshake;
mod initiator;
mod keys;
mod limits;
mod peer;
mod receive;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod remote;
mod replay;
mod responder;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod rig;
pub(crate) mod rng;
mod sends;
mod session;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::Instant;

use snow::params::NoiseParams;

pub use keys::{StaticKeys, WallClock};
pub(crate) use limits::Limits;
pub(crate) use sends::Sends;

use crate::timer::DeadlineQueue;
use crate::wire::{Name, PublicKey, SealedDatagram, MAX_SEALED_PLAINTEXT};
use peer::{PeerState, Slot};
use rng::SeededRng;
use session::Session;

/// A peer to seal for: its name and the key the caller trusts for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Peer {
    pub(crate) name: Name,
    pub(crate) key: PublicKey,
}

/// Who is who, as far as the caller trusts: a name's key, only if it is trusted (a changed key
/// is held back until the user accepts it).
pub(crate) trait Directory {
    fn trusted_key(&self, name: &Name) -> Option<PublicKey>;
}

/// A datagram that proved to come from `peer`: a fresh handshake message, or a transport
/// datagram within the replay window. Only such a datagram may teach where the peer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authentic {
    /// The name its key is trusted for.
    pub(crate) peer: Name,
    /// What a transport datagram carried; `None` for a handshake message or a keepalive.
    pub(crate) plaintext: Option<Vec<u8>>,
}

/// A plaintext that came in an authenticated transport datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Opened {
    /// Whose session it came on: the name its key is trusted for.
    pub(crate) peer: Name,
    pub(crate) plaintext: Vec<u8>,
}

impl Authentic {
    /// The plaintext, if the datagram carried one.
    pub(crate) fn opened(self) -> Option<Opened> {
        let peer = self.peer;
        self.plaintext.map(|plaintext| Opened { peer, plaintext })
    }
}

/// A session [`Secure::forget`] dropped that the peer may still seal on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// The key it was made with.
    pub(crate) key: PublicKey,
    /// Past this, the peer cannot use it either.
    pub(crate) usable_until: Instant,
}

/// Why a datagram was refused. The caller counts them; none is ever answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not a sealed datagram, or an authentic initiation whose payload is not one.
    Malformed,
    /// A tag that does not verify, an index we do not hold, a handshake that fails.
    Unauthenticated,
    /// A counter already opened, or too far behind the window.
    Replayed,
    /// An initiation from a key the directory does not give for the name it claims.
    Untrusted,
    /// An initiation whose timestamp is not newer than the last accepted with that key.
    Stale,
}

/// What [`Secure::seal`] did with a plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sealed {
    /// Sent in a transport datagram.
    Sent,
    /// Held until a session comes up (a handshake is under way).
    Queued,
}

/// A plaintext that cannot be sealed: the caller's mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SealError {
    /// Longer than one transport datagram carries.
    TooLong { max: usize },
}

/// The secure layer's timers, one of each kind per peer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Timer {
    /// Our initiation is due again, or given up.
    Handshake(Name),
    /// The peer's oldest session is too old.
    Expiry(Name),
}

/// Every secure session of one client.
#[derive(Debug)]
pub(crate) struct Secure {
    me: Name,
    keys: StaticKeys,
    clock: WallClock,
    limits: Limits,
    params: NoiseParams,
    /// Indices and a seed for each handshake's own generator.
    rng: SeededRng,
    peers: HashMap<Name, PeerState>,
    /// Our index of every session and handshake we hold, to the peer it is with.
    indices: HashMap<u32, Name>,
    /// The newest initiation timestamp accepted from each key. Kept when a peer is forgotten, so
    /// an initiation recorded before never comes back; it grows only by handshakes with trusted
    /// keys.
    timestamps: HashMap<PublicKey, u64>,
    /// The timestamp of our last initiation: ours strictly grow.
    last_timestamp: u64,
    timers: DeadlineQueue<Timer>,
}

impl Secure {
    /// The secure layer of `me`. `seed` must be secret and fresh for every process: every
    /// ephemeral key is drawn from it.
    pub(crate) fn new(me: Name, keys: StaticKeys, seed: [u8; 32], clock: WallClock) -> Self {
        Secure::with_limits(me, keys, seed, clock, Limits::default())
    }

    /// [`new`](Self::new) with other timers and bounds.
    pub(crate) fn with_limits(
        me: Name,
        keys: StaticKeys,
        seed: [u8; 32],
        clock: WallClock,
        limits: Limits,
    ) -> Self {
        Secure {
            me,
            keys,
            clock,
            limits,
            params: handshake::params(),
            rng: SeededRng::new(seed),
            peers: HashMap::new(),
            indices: HashMap::new(),
            timestamps: HashMap::new(),
            last_timestamp: 0,
            timers: DeadlineQueue::default(),
        }
    }

    /// Seals `plaintext` for `peer`: one transport datagram if a session can carry it, else queued (the oldest dropped past the bound) behind a handshake, and sent in
    /// order when the session comes up. Sealing on an old or worn session, or one the peer has
    /// stopped answering, also starts a new handshake.
    pub(crate) fn seal(
        &mut self,
        now: Instant,
        peer: &Peer,
        plaintext: &[u8],
        out: &mut Sends,
    ) -> Result<Sealed, SealError> {
        if plaintext.len() > MAX_SEALED_PLAINTEXT {
            return Err(SealError::TooLong {
                max: MAX_SEALED_PLAINTEXT,
            });
        }
        let limits = self.limits;
        let state = self.entry(peer);
        let handshaking = state.handshake.is_some();
        let session = state.current.as_mut().filter(|s| s.can_seal(now, &limits));
        if let Some(session) = session {
            if let Some(datagram) = session.seal(now, plaintext) {
                let rekey = session.wants_rekey(now, &limits) && !handshaking;
                out.push(&peer.name, datagram);
                if rekey {
                    self.start_handshake(now, &peer.name, out);
                }
                return Ok(Sealed::Sent);
            }
        }
        state.enqueue(plaintext, &limits);
        if !handshaking {
            self.start_handshake(now, &peer.name, out);
        }
        Ok(Sealed::Queued)
    }

    /// A datagram that [`is_sealed`](crate::wire::is_sealed), from wherever it came: identity is
    /// the key, not the address. An initiation from a trusted key is answered (to the name it
    /// claims), a response completes our handshake, a transport datagram gives its plaintext.
    pub(crate) fn open(
        &mut self,
        now: Instant,
        datagram: &[u8],
        directory: &impl Directory,
        out: &mut Sends,
    ) -> Result<Authentic, Refusal> {
        match SealedDatagram::parse(datagram).map_err(|_| Refusal::Malformed)? {
            SealedDatagram::Initiation { sender, noise } => {
                let peer = self.on_initiation(now, sender, noise, directory, out)?;
                Ok(Authentic {
                    peer,
                    plaintext: None,
                })
            }
            SealedDatagram::Response {
                sender,
                receiver,
                noise,
            } => {
                let peer = self.on_response(now, sender, receiver, noise, out)?;
                Ok(Authentic {
                    peer,
                    plaintext: None,
                })
            }
            SealedDatagram::Transport {
                receiver,
                counter,
                ciphertext,
            } => self.on_transport(now, receiver, counter, ciphertext, out),
        }
    }

    /// Retransmits or gives up handshakes, and drops sessions too old to use.
    pub(crate) fn handle_timeout(&mut self, now: Instant, out: &mut Sends) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Handshake(name) => self.handshake_due(now, &name, out),
                Timer::Expiry(name) => self.expire(now, &name),
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Drops everything held for `peer` (it left, or its key changed): sessions, our handshake
    /// and its queue. Datagrams of those sessions are refused from now on. Says so if a session
    /// the peer may still seal on was dropped: a peer that did not really go (only the server
    /// lost it for a while) goes on using it until it learns otherwise.
    pub(crate) fn forget(&mut self, peer: &Name) -> Option<Dropped> {
        self.timers.cancel(&Timer::Handshake(peer.clone()));
        self.timers.cancel(&Timer::Expiry(peer.clone()));
        let state = self.peers.remove(peer)?;
        for index in state.indices() {
            self.indices.remove(&index);
        }
        let usable_until = [&state.current, &state.next]
            .into_iter()
            .flatten()
            .map(|session| session.expiry(&self.limits))
            .max()?;
        Some(Dropped {
            key: state.key,
            usable_until,
        })
    }

    /// Something that proves us to `peer` at once, to open the NATs between us: a keepalive on
    /// the current session, else a fresh initiation (sent now, even if one is under way).
    pub(crate) fn probe(&mut self, now: Instant, peer: &Peer, out: &mut Sends) {
        let limits = self.limits;
        let state = self.entry(peer);
        if let Some(session) = state.current.as_mut().filter(|s| s.can_seal(now, &limits)) {
            if let Some(datagram) = session.seal(now, &[]) {
                out.push(&peer.name, datagram);
                return;
            }
        }
        match state.handshake.take() {
            Some(pending) => {
                self.indices.remove(&pending.local);
                self.send_initiation(now, &peer.name, pending.backoff, out);
            }
            None => self.start_handshake(now, &peer.name, out),
        }
    }

    /// An empty transport datagram on the current session with `name`, if there is one: it
    /// proves us to the peer (a direct probe) without a handshake.
    pub(crate) fn keepalive(&mut self, now: Instant, name: &Name) -> Option<bytes::Bytes> {
        let limits = self.limits;
        self.peers
            .get_mut(name)?
            .current
            .as_mut()
            .filter(|s| s.can_seal(now, &limits))?
            .seal(now, &[])
    }

    /// The peer's state, made for `peer` if new, started afresh if its key changed.
    fn entry(&mut self, peer: &Peer) -> &mut PeerState {
        if self
            .peers
            .get(&peer.name)
            .is_some_and(|s| s.key != peer.key)
        {
            self.forget(&peer.name);
        }
        let state = self
            .peers
            .entry(peer.name.clone())
            .or_insert_with(|| PeerState::new(peer.key));
        state
    }

    /// A random index no session or handshake of ours holds.
    fn new_index(&mut self) -> u32 {
        loop {
            let index = self.rng.next_u32();
            if !self.indices.contains_key(&index) {
                return index;
            }
        }
    }

    /// A session leaves the rotation: its index is free again.
    fn release(&mut self, session: Option<Session>) {
        if let Some(session) = session {
            self.indices.remove(&session.local);
        }
    }

    /// Drops the peer's sessions that are too old, then settles it.
    fn expire(&mut self, now: Instant, name: &Name) {
        let limits = self.limits;
        let Some(state) = self.peers.get_mut(name) else {
            return;
        };
        let mut dropped = Vec::new();
        for slot in [Slot::Current, Slot::Previous, Slot::Next] {
            let held = state.slot_mut(slot);
            if held.as_ref().is_some_and(|s| now >= s.expiry(&limits)) {
                dropped.push(held.take());
            }
        }
        for session in dropped {
            self.release(session);
        }
        self.settle(name);
    }

    /// After any change to a peer's sessions: its expiry timer follows its oldest session, and a
    /// peer with nothing left is dropped.
    fn settle(&mut self, name: &Name) {
        let Some(state) = self.peers.get(name) else {
            return;
        };
        if state.is_idle() {
            self.peers.remove(name);
            self.timers.cancel(&Timer::Expiry(name.clone()));
            return;
        }
        match state.earliest_expiry(&self.limits) {
            Some(at) => self.timers.set(at, Timer::Expiry(name.clone())),
            None => self.timers.cancel(&Timer::Expiry(name.clone())),
        }
    }

    /// Sends the peer's queue on its current session, in order; with `keepalive` and nothing
    /// queued, an empty datagram, so the responder learns the session is confirmed.
    fn flush(&mut self, now: Instant, name: &Name, keepalive: bool, out: &mut Sends) {
        let limits = self.limits;
        let Some(state) = self.peers.get_mut(name) else {
            return;
        };
        let Some(session) = state.current.as_mut().filter(|s| s.can_seal(now, &limits)) else {
            return;
        };
        if keepalive && state.queue.is_empty() {
            if let Some(datagram) = session.seal(now, &[]) {
                out.push(name, datagram);
            }
            return;
        }
        while let Some(plaintext) = state.queue.pop_front() {
            match session.seal(now, &plaintext) {
                Some(datagram) => out.push(name, datagram),
                None => {
                    state.queue.push_front(plaintext);
                    break;
                }
            }
        }
    }
}
