//! Opening the database file: creating it owner-only, refusing it, untouched, when it cannot be
//! used, and locking it for this one client.
//!
//! The order matters. Nothing is written before the checks pass: the first write, switching the
//! file to write-ahead logging, comes after them. The lock comes first of all, so a second client
//! started with the same data directory fails at once, before it reads anything.

use std::fs::{DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use feige_core::wire::Name;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::schema;
use crate::store::StoreError;

/// The checked, locked connection to `path` (in `dir`, both created if missing), in WAL mode.
pub(super) fn open(dir: &Path, path: &Path, me: &Name) -> Result<Connection, StoreError> {
    create(dir, path)?;
    let refused = |doing: &'static str| move |e| refusal(path, me, doing, e);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(refused("open the database"))?;
    // No waiting for the lock: its holder is another client, which keeps it until it quits.
    conn.busy_timeout(Duration::ZERO)
        .map_err(refused("set the busy timeout"))?;
    // Closing a database in WAL mode checkpoints the log into the file; a refused file must stay
    // as it was byte for byte, so not until the checks have passed.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(refused("configure the database"))?;
    // Locks, once taken, are held until the connection closes. Set before the first read, so
    // that in WAL mode SQLite keeps the log's index in this process's memory instead of a shared
    // `-shm` file: the lock on the database file itself is then the only way in, and it is ours.
    let mode: String = conn
        .pragma_update_and_check(None, "locking_mode", "EXCLUSIVE", |row| row.get(0))
        .map_err(refused("set the locking mode"))?;
    if !mode.eq_ignore_ascii_case("exclusive") {
        return Err(StoreError::new(
            Some(path),
            format!("cannot lock the database (locking mode {mode})"),
        ));
    }
    check(&conn, path, me)?;
    let journal: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(refused("turn on write-ahead logging"))?;
    if !journal.eq_ignore_ascii_case("wal") {
        return Err(StoreError::new(
            Some(path),
            format!("cannot turn on write-ahead logging (journal mode {journal})"),
        ));
    }
    // In WAL mode a commit is durable once in the log, which survives the process being killed;
    // FULL would also fsync each commit, against power cuts, at a cost per message.
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(refused("set synchronous=NORMAL"))?;
    lock(&conn).map_err(refused("lock the database"))?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)
        .map_err(refused("configure the database"))?;
    Ok(conn)
}

/// Creates the directory (owner-only) and an empty file (owner-only; SQLite gives its `-wal`
/// file the same mode) when missing. An existing file is not touched.
fn create(dir: &Path, path: &Path) -> Result<(), StoreError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| StoreError::io(dir, "create the data directory", &e))?;
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::io(path, "create the database", &e)),
    }
}

/// Takes the write lock, and checks under it that the schema is one this code knows and that
/// the file is sound. Reads only: ending the transaction writes nothing.
fn check(conn: &Connection, path: &Path, me: &Name) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN EXCLUSIVE")
        .map_err(|e| refusal(path, me, "lock the database", e))?;
    let checked = inspect(conn, path, me);
    let end = if checked.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let ended = conn.execute_batch(end);
    checked?;
    ended.map_err(|e| refusal(path, me, "check the database", e))
}

fn inspect(conn: &Connection, path: &Path, me: &Name) -> Result<(), StoreError> {
    let refused = |doing: &'static str| move |e| refusal(path, me, doing, e);
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(refused("read the schema version"))?;
    schema::check_known(version, Some(path))?;
    // The quick check reads every page (milliseconds for a history of some megabytes) but skips
    // the slow index cross-checks of `integrity_check`.
    let mut verdict = Vec::new();
    conn.pragma_query(None, "quick_check", |row| {
        verdict.push(row.get::<_, String>(0)?);
        Ok(())
    })
    .map_err(refused("check the database"))?;
    if verdict != ["ok"] {
        let first: Vec<&str> = verdict.iter().take(3).map(String::as_str).collect();
        return Err(damaged(path, &first.join("; ")));
    }
    Ok(())
}

/// Takes the write lock, which exclusive locking mode then keeps until the connection closes.
/// A read would take only a shared lock, which a second client could share.
fn lock(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;")
}

/// Why the file at `path` was refused while `doing` something: another client has it, it is
/// damaged, or (any other failure) what SQLite said.
fn refusal(path: &Path, me: &Name, doing: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::new(
            Some(path),
            format!("another feige client is running as {me} with this data directory"),
        ),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => damaged(path, &e.to_string()),
        _ => StoreError::new(Some(path), format!("cannot {doing}: {e}")),
    }
}

/// The file at `path` is not a sound database: said plainly, and never mended or replaced here
/// (it holds the only copy of the history and of unsent messages).
pub(super) fn damaged(path: &Path, detail: &str) -> StoreError {
    StoreError::new(
        Some(path),
        format!(
            "the database is damaged: {detail}; it was left as it is: restore it from a backup, \
             or move it away to start with an empty history"
        ),
    )
}
