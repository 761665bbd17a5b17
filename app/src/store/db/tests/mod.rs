//! The database against real SQLite files in a scratch directory, and in memory.

mod crash;
mod files;
mod model;
mod records;

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use feige_core::client::{FailReason, MessageId, Outcome, Record, SavedMessage};
use feige_core::wire::{Name, SessionId};

use crate::store::Storage;

/// A directory of its own for one test, removed when dropped (a failed test included).
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(label: &str) -> Scratch {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "feige-db-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        Scratch { dir }
    }

    /// Alice's data directory (not created: opening the database creates it).
    fn user_dir(&self) -> PathBuf {
        self.dir.join("alice")
    }

    fn storage(&self) -> Storage {
        Storage::Dir(self.user_dir())
    }

    fn db_file(&self) -> PathBuf {
        self.user_dir().join(super::DB_FILE)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn name(text: &str) -> Name {
    Name::new(text).expect("a valid name")
}

fn alice() -> Name {
    name("alice")
}

fn queued(id: u64, to: &str, sid: u64, seq: u64, text: &str, written_ms: u64) -> Record {
    Record::Queued(saved(id, to, sid, seq, text, written_ms))
}

fn saved(id: u64, to: &str, sid: u64, seq: u64, text: &str, written_ms: u64) -> SavedMessage {
    SavedMessage {
        id: MessageId(id),
        to: name(to),
        sid: SessionId::new(sid),
        seq,
        text: text.to_owned(),
        written_ms,
    }
}

fn delivered(id: u64, at_ms: u64) -> Record {
    Record::Resolved {
        id: MessageId(id),
        outcome: Outcome::Delivered,
        at_ms,
    }
}

fn failed(id: u64, reason: FailReason, at_ms: u64) -> Record {
    Record::Resolved {
        id: MessageId(id),
        outcome: Outcome::Failed(reason),
        at_ms,
    }
}

fn talked(id: u64, to: &str, text: &str, at_ms: u64) -> Record {
    Record::Talked {
        id: MessageId(id),
        to: name(to),
        text: text.to_owned(),
        at_ms,
    }
}

fn shown(from: &str, sid: u64, seq: u64, text: &str, encrypted: bool, at_ms: u64) -> Record {
    Record::Shown {
        from: name(from),
        sid: SessionId::new(sid),
        seq,
        text: text.to_owned(),
        encrypted,
        at_ms,
    }
}
