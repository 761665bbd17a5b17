//! Reliable peer-to-peer chat: the sending side (stop-and-wait per peer, retransmission) and the
//! receiving side (duplicate suppression per sender session).

mod incoming;
mod outgoing;

use std::time::Instant;

use bytes::Bytes;

use super::output::ClientEvent;
use super::persist::Record;
use crate::wire::Name;

/// Where the chat layer's datagrams and events go. Every `msg` and `ack` is a plaintext here:
/// the session seals it for its peer.
pub(crate) trait Wire {
    /// Whether `peer` may be sent to now: not while its key is held for the user to trust.
    fn may_send(&self, peer: &Name) -> bool;
    /// Puts one plaintext on its way to `peer`.
    fn send(&mut self, now: Instant, peer: &Name, plaintext: &Bytes);
    /// Tells the user.
    fn event(&mut self, event: ClientEvent);
    /// Asks for a durable write, before whatever is sent after it.
    fn persist(&mut self, record: Record);
    /// The wall clock at `now`, in Unix milliseconds (what records are stamped with).
    fn unix_ms(&self, now: Instant) -> u64;
}

pub use incoming::SESSIONS_KEPT_PER_PEER;
pub(crate) use incoming::{Incoming, Verdict};
pub(crate) use outgoing::{NewMessage, Outgoing};
