//! Each user's store, as its data directory keeps it: the records its client asked to make
//! durable, applied in order the moment they are transmitted (a crash in the simulator comes
//! between two inputs, after the driver performed every transmit of the last one), and what a
//! new incarnation restores from them. The same rules as the application's SQLite store
//! (`app/src/store/db/`): the outbox holds what was queued and not resolved, a stream keeps the
//! highest seq shown, at most [`STREAMS_PER_PEER`] streams per peer.
//!
//! A store is held by one running incarnation at a time, as the database's lock enforces: an
//! incarnation started while another of the same user runs gets none (it runs ephemeral).

use std::collections::{BTreeMap, BTreeSet};

use feige_core::client::{
    MessageId, Record, Restored, SavedMessage, SavedStream, SESSIONS_KEPT_PER_PEER,
};
use feige_core::wire::{Name, SessionId};

use super::event::IncId;

/// Streams remembered per peer, as many as the client remembers (the least recently updated
/// pruned beyond it).
pub const STREAMS_PER_PEER: usize = SESSIONS_KEPT_PER_PEER;

/// One install's store.
#[derive(Debug, Default)]
pub struct Store {
    outbox: BTreeMap<MessageId, SavedMessage>,
    /// (sender, sid) → (last shown, when last updated, as a record count).
    streams: BTreeMap<(Name, u64), (u64, u64)>,
    contacts: BTreeSet<Name>,
    next_message_id: u64,
    /// Records applied so far (orders the streams' updates).
    applied: u64,
    /// The running incarnation that holds the store, if any.
    held_by: Option<IncId>,
}

impl Store {
    /// Takes the store for `inc` and returns what it restores; `None` if another running
    /// incarnation holds it.
    pub fn open(&mut self, inc: IncId) -> Option<Restored> {
        if self.held_by.is_some() {
            return None;
        }
        self.held_by = Some(inc);
        Some(Restored {
            outbox: self.outbox.values().cloned().collect(),
            streams: self
                .streams
                .iter()
                .map(|((from, sid), (last, _))| SavedStream {
                    from: from.clone(),
                    sid: SessionId::new(*sid),
                    last_shown: *last,
                })
                .collect(),
            contacts: self.contacts.iter().cloned().collect(),
            next_message_id: self.next_message_id.max(1),
        })
    }

    /// Whether `inc` holds the store.
    pub fn held_by(&self, inc: IncId) -> bool {
        self.held_by == Some(inc)
    }

    /// `inc` ended: the store is free again.
    pub fn release(&mut self, inc: IncId) {
        if self.held_by == Some(inc) {
            self.held_by = None;
        }
    }

    /// A record of the holding incarnation, made durable.
    pub fn apply(&mut self, record: &Record) {
        self.applied += 1;
        match record {
            Record::Queued(message) => {
                self.contacts.insert(message.to.clone());
                self.next_message_id = self.next_message_id.max(message.id.0 + 1);
                self.outbox.insert(message.id, message.clone());
            }
            Record::Resolved { id, .. } => {
                self.outbox.remove(id);
            }
            Record::Shown {
                from,
                sid,
                seq,
                encrypted,
                ..
            } => {
                self.contacts.insert(from.clone());
                if !encrypted {
                    return;
                }
                let key = (from.clone(), sid.value());
                let last = self.streams.get(&key).map_or(*seq, |(l, _)| (*l).max(*seq));
                self.streams.insert(key, (last, self.applied));
                self.prune(from);
            }
        }
    }

    /// Keeps the peer's most recently updated streams.
    fn prune(&mut self, from: &Name) {
        let mut theirs: Vec<((Name, u64), u64)> = self
            .streams
            .iter()
            .filter(|((f, _), _)| f == from)
            .map(|(k, (_, updated))| (k.clone(), *updated))
            .collect();
        if theirs.len() <= STREAMS_PER_PEER {
            return;
        }
        theirs.sort_by_key(|(_, updated)| *updated);
        for (key, _) in theirs.iter().take(theirs.len() - STREAMS_PER_PEER) {
            self.streams.remove(key);
        }
    }
}
