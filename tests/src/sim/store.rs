//! Each user's store, as its data directory keeps it: the records its client asked to make
//! durable, applied in order the moment they are transmitted (a crash in the simulator comes
//! between two inputs, after the driver performed every transmit of the last one), and what a
//! new incarnation restores from them, by the core's reference rules ([`ReferenceStore`]), which the
//! application's SQLite store is tested against too.
//!
//! A store is held by one running incarnation at a time, as the database's lock enforces: an
//! incarnation started while another of the same user runs gets none (it runs ephemeral).

use feige_core::client::{Record, ReferenceStore, Restored};

use super::event::IncId;

/// One install's store.
#[derive(Debug, Default)]
pub struct Store {
    records: ReferenceStore,
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
        Some(self.records.restored())
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
        // The client never reuses a message id, so no record is refused.
        let accepted = self.records.apply(record);
        assert!(accepted, "a record a store refuses: {record:?}");
    }
}
