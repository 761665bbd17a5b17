//! What a client keeps across restarts, and the writes that keep it (protocol.md 10.7).
//!
//! The core does no I/O: it asks for every write as a [`ClientTransmit::Persist`] in its
//! transmit queue, *before* the transmits and events that depend on it — a message is recorded
//! in the outbox before it is reported `sent` or `queued` (a `talk` to a textbook peer, in the
//! history before its datagram goes and it is reported `sent`), a message is recorded as shown
//! before its `ack` leaves. A driver that performs the transmits in order, each write made durable
//! before the next transmit, therefore never acknowledges what a crash could lose; what it
//! recorded comes back at the next start as a [`Restored`] in the configuration.
//!
//! [`ClientTransmit::Persist`]: super::ClientTransmit::Persist

use super::output::{FailReason, MessageId};
use crate::wire::{Name, SessionId};

/// A message of ours not known to be delivered: enough to send it again as the same message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMessage {
    /// Its handle, kept across restarts.
    pub id: MessageId,
    /// The recipient.
    pub to: Name,
    /// The session id and seq it was given when first queued. It is always sent with them, so
    /// that a receiver that showed it already (before either side restarted) takes the copy for
    /// the duplicate it is.
    pub sid: SessionId,
    /// Its number in that (session, recipient) stream.
    pub seq: u64,
    /// The text.
    pub text: String,
    /// When the user wrote it, in Unix milliseconds: it expires 7 days later.
    pub written_ms: u64,
}

/// The last message shown from one sender session: a copy of it or of an earlier one, sent
/// again after either side restarted, is acknowledged but not shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedStream {
    /// The sender.
    pub from: Name,
    /// Its session id.
    pub sid: SessionId,
    /// The highest seq shown from it.
    pub last_shown: u64,
}

/// How a message of ours left the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The recipient acknowledged it.
    Delivered,
    /// It was given up, for this reason.
    Failed(FailReason),
}

/// A write to make durable before performing the transmits that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A message entered the outbox (it is `sent` or `queued` next).
    Queued(SavedMessage),
    /// A message left the outbox, at `at_ms` (Unix milliseconds).
    Resolved {
        /// Which.
        id: MessageId,
        /// Delivered, or failed and why.
        outcome: Outcome,
        /// When.
        at_ms: u64,
    },
    /// A message to a textbook peer went out as its one `talk` datagram, at `at_ms` (Unix
    /// milliseconds): history only, as nothing will ever acknowledge it; its id is used.
    Talked {
        /// Its handle (the one its `sent` event names).
        id: MessageId,
        /// The recipient.
        to: Name,
        /// The text.
        text: String,
        /// When.
        at_ms: u64,
    },
    /// A message was shown to the user: its history, and its stream's receive state.
    Shown {
        /// The sender.
        from: Name,
        /// The sender's session id.
        sid: SessionId,
        /// Its seq in that stream: the stream's new `last_shown`.
        seq: u64,
        /// The text.
        text: String,
        /// It came sealed (false: a textbook peer's plain `talk`, which has no stream).
        encrypted: bool,
        /// When, in Unix milliseconds.
        at_ms: u64,
    },
}

/// What an earlier run recorded, for a client to go on from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// Messages of ours not resolved yet, oldest first: sent again, in order, as their
    /// recipients come online.
    pub outbox: Vec<SavedMessage>,
    /// The receive state of every sender session remembered.
    pub streams: Vec<SavedStream>,
    /// Everyone we have exchanged messages or keys with: a message to one of them who is offline
    /// is queued rather than refused.
    pub contacts: Vec<Name>,
    /// The first message id this run may hand out (above every id recorded).
    pub next_message_id: u64,
}
