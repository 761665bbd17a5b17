//! The client's database, `feige.db` in its data directory (in memory with `--ephemeral`): the
//! outbox and receive state the core asks to keep ([`Record`]s in, a [`Restored`] out at the next
//! start), the message history the user reads back, and the pinned keys.
//!
//! SQLite, because the core asks for one write per message and each must be durable before the
//! next datagram leaves: in write-ahead-log mode with `synchronous=NORMAL` a commit is one append
//! to the log, no fsync, and survives the process being killed (`kill -9`, a panic, a closed
//! terminal), which is what the core's ordering needs; only a power cut may lose the last
//! commits. Transactions also keep related rows together: a message shown and its stream's state
//! are written both or neither.
//!
//! The file is this client's alone while it runs (an exclusive lock, see `file.rs`), so nothing
//! here is written for concurrent writers.
//!
//! [`Record`]: feige_core::client::Record
//! [`Restored`]: feige_core::client::Restored

mod columns;
mod file;
mod history;
mod pinned;
mod record;
mod restore;
mod schema;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use feige_core::wire::Name;
use rusqlite::Connection;

use super::{Storage, StoreError};

pub use history::{HistoryEntry, HistoryStatus};

/// The database file's name in the user's data directory.
const DB_FILE: &str = "feige.db";

/// One client's database. Closing it (or dropping it) releases the file and its lock.
#[derive(Debug)]
pub struct Database {
    /// `None` once closed.
    conn: Option<Connection>,
    /// The file, for messages (`None`: in memory).
    path: Option<PathBuf>,
    /// Whose database it is: the sender of our messages in the history.
    me: Name,
}

impl Database {
    /// Opens `me`'s database in `storage` (`Dir(d)`: `d/feige.db`, created with the directory if
    /// missing; `Ephemeral`: a new one in memory), bringing its schema up to date.
    ///
    /// Refused, with the file left exactly as it is: a file that is not a database or fails
    /// SQLite's quick check, a file made by a newer feige, and a file another client has open (the
    /// same user started twice with one data directory).
    pub fn open(storage: &Storage, me: &Name) -> Result<Database, StoreError> {
        let (mut conn, dir, path) = match storage {
            Storage::Ephemeral => {
                let conn = Connection::open_in_memory().map_err(|e| {
                    StoreError::new(None, format!("cannot open an in-memory database: {e}"))
                })?;
                (conn, None, None)
            }
            Storage::Dir(dir) => {
                let path = dir.join(DB_FILE);
                (file::open(dir, &path, me)?, Some(dir.as_path()), Some(path))
            }
        };
        let fail = |doing: &'static str| sql_error(path.as_deref(), doing);
        // Foreign keys are off by default in SQLite, per connection; later migrations may rely
        // on them.
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(fail("turn on foreign keys"))?;
        schema::migrate(&mut conn, dir, path.as_deref())?;
        Ok(Database {
            conn: Some(conn),
            path,
            me: me.clone(),
        })
    }

    /// Closes the file now, releasing its lock for the next client of this data directory (the
    /// process may still be ending). Everything after fails with a plain error.
    pub fn close(&mut self) -> Result<(), StoreError> {
        match self.conn.take().map(Connection::close) {
            // The connection handed back is dropped here, which closes it for good.
            Some(Err((_, e))) => Err(self.fail("close the database")(e)),
            _ => Ok(()),
        }
    }

    /// The open connection, or why there is none.
    fn conn(&self) -> Result<&Connection, StoreError> {
        self.conn.as_ref().ok_or_else(|| self.closed())
    }

    fn closed(&self) -> StoreError {
        StoreError::new(
            self.path.as_deref(),
            "the database is closed: the client has ended",
        )
    }

    /// An SQL failure while `doing` something, told with this database's file.
    fn fail<'a>(&'a self, doing: &'a str) -> impl FnOnce(rusqlite::Error) -> StoreError + 'a {
        sql_error(self.path.as_deref(), doing)
    }
}

/// An SQL failure while `doing` something to the database at `path`.
fn sql_error<'a>(
    path: Option<&'a Path>,
    doing: &'a str,
) -> impl FnOnce(rusqlite::Error) -> StoreError + 'a {
    move |e| StoreError::new(path, format!("cannot {doing}: {e}"))
}
