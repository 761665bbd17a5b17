//! Reliable peer-to-peer chat: the sending side (stop-and-wait per peer, retransmission) and the
//! receiving side (duplicate suppression per sender session).

mod incoming;
mod outgoing;

#[cfg(test)]
pub(crate) use incoming::SESSIONS_KEPT_PER_PEER;
pub(crate) use incoming::{Incoming, Verdict};
pub(crate) use outgoing::{NewMessage, Outgoing};
