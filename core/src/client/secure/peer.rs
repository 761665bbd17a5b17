//! What we hold for one peer: up to three sessions, our handshake in flight, and the plaintexts
//! waiting for a session.

use std::collections::VecDeque;
use std::time::Instant;

use snow::HandshakeState;

use super::limits::Limits;
use super::session::Session;
use crate::client::backoff::Backoff;
use crate::wire::PublicKey;

/// Where a session sits in its peer's rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// The session we seal on.
    Current,
    /// The one before: still opened, so datagrams in flight across a rekey are not lost.
    Previous,
    /// A session we answered as responder, not yet confirmed by a transport datagram from the
    /// initiator: opened, never sealed on (its initiator may not have got our response).
    Next,
}

/// Our initiation waiting for its response.
#[derive(Debug)]
pub(super) struct Pending {
    /// Our index for the session it will make.
    pub(super) local: u32,
    pub(super) state: HandshakeState,
    pub(super) backoff: Backoff,
}

#[derive(Debug)]
pub(super) struct PeerState {
    /// The key every session with this peer was made with.
    pub(super) key: PublicKey,
    pub(super) current: Option<Session>,
    pub(super) previous: Option<Session>,
    pub(super) next: Option<Session>,
    pub(super) handshake: Option<Pending>,
    pub(super) queue: VecDeque<Vec<u8>>,
}

impl PeerState {
    pub(super) fn new(key: PublicKey) -> Self {
        PeerState {
            key,
            current: None,
            previous: None,
            next: None,
            handshake: None,
            queue: VecDeque::new(),
        }
    }

    pub(super) fn slot_mut(&mut self, slot: Slot) -> &mut Option<Session> {
        match slot {
            Slot::Current => &mut self.current,
            Slot::Previous => &mut self.previous,
            Slot::Next => &mut self.next,
        }
    }

    /// The slot of the session whose index is `local`.
    pub(super) fn find(&self, local: u32) -> Option<Slot> {
        [
            (Slot::Current, &self.current),
            (Slot::Previous, &self.previous),
            (Slot::Next, &self.next),
        ]
        .into_iter()
        .find(|(_, s)| s.as_ref().is_some_and(|s| s.local == local))
        .map(|(slot, _)| slot)
    }

    /// Makes `session` current; the current one becomes previous and the previous one is
    /// returned, dropped from the rotation.
    pub(super) fn promote(&mut self, session: Session) -> Option<Session> {
        let dropped = self.previous.take();
        self.previous = self.current.replace(session);
        dropped
    }

    /// Queues a plaintext (once: a retransmission of one still queued adds nothing); returns
    /// the oldest one if it had to make room.
    pub(super) fn enqueue(&mut self, plaintext: &[u8], limits: &Limits) -> Option<Vec<u8>> {
        if self.queue.iter().any(|queued| queued == plaintext) {
            return None;
        }
        self.queue.push_back(plaintext.to_vec());
        (self.queue.len() > limits.queue_per_peer.max(1))
            .then(|| self.queue.pop_front())
            .flatten()
    }

    /// Every index we hold for this peer: its sessions' and our handshake's.
    pub(super) fn indices(&self) -> impl Iterator<Item = u32> + '_ {
        [&self.current, &self.previous, &self.next]
            .into_iter()
            .flatten()
            .map(|s| s.local)
            .chain(self.handshake.as_ref().map(|p| p.local))
    }

    /// When the oldest session expires.
    pub(super) fn earliest_expiry(&self, limits: &Limits) -> Option<Instant> {
        [&self.current, &self.previous, &self.next]
            .into_iter()
            .flatten()
            .map(|s| s.expiry(limits))
            .min()
    }

    /// Nothing held: the entry can go.
    pub(super) fn is_idle(&self) -> bool {
        self.current.is_none()
            && self.previous.is_none()
            && self.next.is_none()
            && self.handshake.is_none()
            && self.queue.is_empty()
    }
}
