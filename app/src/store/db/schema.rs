//! The schema and its versions. `PRAGMA user_version` is the number of migrations applied; each
//! migration runs in its own transaction together with the version bump, so a crash or an error
//! leaves the database at one version or the next, never between. A migration is never changed
//! once released: a change of schema is a new migration at the end of [`MIGRATIONS`].

use std::path::Path;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::sql_error;
use crate::store::{pins, StoreError};

/// What a migration may need besides the database.
pub(super) struct Upgrade<'a> {
    /// The data directory (`None`: in memory), where files of earlier versions may be.
    dir: Option<&'a Path>,
    /// The database file, for messages.
    path: Option<&'a Path>,
}

type Migration = fn(&Transaction<'_>, &Upgrade<'_>) -> Result<(), StoreError>;

/// Every migration in order: migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[create_tables, create_talked];

/// The newest schema version this code knows.
fn latest() -> i64 {
    // A handful of migrations: never near i64::MAX.
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Refuses a database of a schema version this code does not know: one made by a newer feige,
/// whose tables this code could misread or damage.
pub(super) fn check_known(version: i64, path: Option<&Path>) -> Result<(), StoreError> {
    if (0..=latest()).contains(&version) {
        return Ok(());
    }
    Err(StoreError::new(
        path,
        format!(
            "this database was made by a newer feige (schema {version}, this one knows up to {}); \
             it was left as it is: run that newer feige",
            latest()
        ),
    ))
}

/// Applies the migrations the database lacks, each in its own transaction.
pub(super) fn migrate(
    conn: &mut Connection,
    dir: Option<&Path>,
    path: Option<&Path>,
) -> Result<(), StoreError> {
    let upgrade = Upgrade { dir, path };
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(sql_error(path, "begin a schema migration"))?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(sql_error(path, "read the schema version"))?;
        check_known(version, path)?;
        // `version` is within 0..=latest(): a valid index, or the end.
        let Some(migration) = usize::try_from(version)
            .ok()
            .and_then(|index| MIGRATIONS.get(index))
        else {
            return Ok(());
        };
        migration(&tx, &upgrade)?;
        tx.pragma_update(None, "user_version", version + 1)
            .map_err(sql_error(path, "record the schema version"))?;
        tx.commit()
            .map_err(sql_error(path, "commit a schema migration"))?;
    }
}

/// Version 1: the tables, and the keys pinned by earlier versions imported from their text file
/// (which is left in place, untouched).
///
/// Every u64 of the core (message ids, session ids, seqs, Unix milliseconds) is stored as the
/// i64 with the same bits, so the whole u64 range round-trips (see `columns.rs`). `entry`
/// numbers every message, ours and theirs, in the order it was recorded: the history's
/// tie-break, and the order in which streams were last updated.
fn create_tables(tx: &Transaction<'_>, upgrade: &Upgrade<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TABLE outgoing (
            id          INTEGER PRIMARY KEY,
            entry       INTEGER NOT NULL UNIQUE,
            peer        TEXT NOT NULL,
            sid         INTEGER NOT NULL,
            seq         INTEGER NOT NULL,
            text        TEXT NOT NULL,
            written_ms  INTEGER NOT NULL,
            status      TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'failed')),
            reason      TEXT,
            resolved_ms INTEGER,
            CHECK ((status = 'failed') = (reason IS NOT NULL)),
            CHECK ((status = 'queued') = (resolved_ms IS NULL))
        ) STRICT;
        CREATE INDEX outgoing_by_peer ON outgoing (peer);
        CREATE INDEX outbox ON outgoing (id) WHERE status = 'queued';

        CREATE TABLE incoming (
            entry     INTEGER PRIMARY KEY,
            peer      TEXT NOT NULL,
            sid       INTEGER,
            seq       INTEGER,
            text      TEXT NOT NULL,
            encrypted INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
            shown_ms  INTEGER NOT NULL,
            CHECK ((encrypted = 1) = (sid IS NOT NULL AND seq IS NOT NULL))
        ) STRICT;
        CREATE INDEX incoming_by_peer ON incoming (peer);

        CREATE TABLE streams (
            peer       TEXT NOT NULL,
            sid        INTEGER NOT NULL,
            last_shown INTEGER NOT NULL,
            updated    INTEGER NOT NULL,
            PRIMARY KEY (peer, sid)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE pins (
            name TEXT PRIMARY KEY,
            key  TEXT NOT NULL
        ) STRICT, WITHOUT ROWID;",
    )
    .map_err(sql_error(upgrade.path, "create the tables"))?;
    let Some(dir) = upgrade.dir else {
        return Ok(());
    };
    let legacy = pins::read_legacy(&dir.join(pins::PINS_FILE))?;
    let mut insert = tx
        .prepare("INSERT INTO pins (name, key) VALUES (?1, ?2)")
        .map_err(sql_error(upgrade.path, "import the pinned keys"))?;
    for (name, key) in legacy {
        insert
            .execute((name.as_str(), key.to_string()))
            .map_err(sql_error(upgrade.path, "import the pinned keys"))?;
    }
    Ok(())
}

/// Version 2: our messages to textbook peers, for the history. Each went out as one `talk` that
/// nothing acknowledges, so it has no seq, no status and no place in the outbox; its id is
/// drawn from the same count as the outgoing ones (the triggers keep the two apart), and
/// `entry` from the same as every message.
fn create_talked(tx: &Transaction<'_>, upgrade: &Upgrade<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TABLE talked (
            id      INTEGER PRIMARY KEY,
            entry   INTEGER NOT NULL UNIQUE,
            peer    TEXT NOT NULL,
            text    TEXT NOT NULL,
            sent_ms INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX talked_by_peer ON talked (peer);
        CREATE TRIGGER talked_id_unused BEFORE INSERT ON talked
            WHEN EXISTS (SELECT 1 FROM outgoing WHERE id = NEW.id)
            BEGIN SELECT RAISE(ABORT, 'message id recorded already'); END;
        CREATE TRIGGER outgoing_id_unused BEFORE INSERT ON outgoing
            WHEN EXISTS (SELECT 1 FROM talked WHERE id = NEW.id)
            BEGIN SELECT RAISE(ABORT, 'message id recorded already'); END;",
    )
    .map_err(sql_error(upgrade.path, "create the table of talks"))
}
