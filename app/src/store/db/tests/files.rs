//! The file itself: its modes, the legacy pins, and the files refused untouched.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use feige_core::wire::PublicKey;
use rusqlite::config::DbConfig;
use rusqlite::Connection;

use super::*;
use crate::store::pins::PINS_FILE;
use crate::store::Database;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The error opening `scratch`'s database, which must leave the file's bytes as they were.
fn refused_untouched(scratch: &Scratch) -> String {
    let before = fs::read(scratch.db_file()).unwrap();
    let error = Database::open(&scratch.storage(), &alice()).unwrap_err();
    assert_eq!(
        fs::read(scratch.db_file()).unwrap(),
        before,
        "the file changed"
    );
    error.to_string()
}

#[test]
fn the_directory_and_the_files_are_the_owner_s_only() {
    let scratch = Scratch::new("modes");
    let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
    db.apply(&queued(1, "bob", 7, 1, "hi", 1_000)).unwrap();
    assert_eq!(mode(&scratch.user_dir()), 0o700);
    assert_eq!(mode(&scratch.db_file()), 0o600);
    let wal = scratch.user_dir().join("feige.db-wal");
    assert_eq!(mode(&wal), 0o600);
    // Exclusive locking mode: the log's index is in memory, no shared file for others to use.
    assert!(!scratch.user_dir().join("feige.db-shm").exists());
    drop(db);
    // A clean close folds the log into the file.
    assert!(!wal.exists());
}

#[test]
fn legacy_pins_are_imported_once_and_their_file_left_as_it_is() {
    let scratch = Scratch::new("legacy");
    fs::create_dir_all(scratch.user_dir()).unwrap();
    let legacy = scratch.user_dir().join(PINS_FILE);
    let (one, two) = (
        PublicKey::from_bytes([1; 32]),
        PublicKey::from_bytes([2; 32]),
    );
    let text = format!("{one} bob smith\n{two} 小明\n");
    fs::write(&legacy, &text).unwrap();
    let db = Database::open(&scratch.storage(), &alice()).unwrap();
    let pins = db.pins().unwrap();
    assert_eq!(pins.len(), 2);
    assert_eq!(pins[&name("bob smith")], one);
    assert_eq!(pins[&name("小明")], two);
    assert_eq!(
        db.restored().unwrap().contacts,
        [name("bob smith"), name("小明")]
    );
    drop(db);
    assert_eq!(fs::read_to_string(&legacy).unwrap(), text);
    // Imported by the migration that made the tables: the file is not read again.
    fs::write(&legacy, format!("{two} bob smith\n")).unwrap();
    let db = Database::open(&scratch.storage(), &alice()).unwrap();
    assert_eq!(db.pins().unwrap()[&name("bob smith")], one);
}

#[test]
fn a_malformed_legacy_pins_file_is_refused_until_mended() {
    let scratch = Scratch::new("legacy-bad");
    fs::create_dir_all(scratch.user_dir()).unwrap();
    let legacy = scratch.user_dir().join(PINS_FILE);
    fs::write(&legacy, "garbage\n").unwrap();
    let error = Database::open(&scratch.storage(), &alice()).unwrap_err();
    let error = error.to_string();
    assert!(
        error.contains(PINS_FILE) && error.contains("line 1"),
        "{error}"
    );
    assert!(error.contains("left as it is"), "{error}");
    assert_eq!(fs::read_to_string(&legacy).unwrap(), "garbage\n");
    let key = PublicKey::from_bytes([7; 32]);
    fs::write(&legacy, format!("{key} bob\n")).unwrap();
    let db = Database::open(&scratch.storage(), &alice()).unwrap();
    assert_eq!(db.pins().unwrap()[&name("bob")], key);
}

#[test]
fn a_database_of_a_newer_feige_is_refused_untouched() {
    let scratch = Scratch::new("newer");
    {
        let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
        db.apply(&queued(1, "bob", 7, 1, "hi", 1_000)).unwrap();
    }
    let raw = Connection::open(scratch.db_file()).unwrap();
    raw.pragma_update(None, "user_version", 7).unwrap();
    drop(raw);
    let error = refused_untouched(&scratch);
    assert!(
        error.contains("made by a newer feige (schema 7, this one knows up to 2)"),
        "{error}"
    );
    assert!(error.contains("left as it is"), "{error}");
}

/// A newer feige killed with its last commits still in the log: closing the refused database must
/// not fold the log into the file (SQLite's checkpoint on close).
#[test]
fn a_newer_database_with_commits_in_its_log_is_refused_untouched() {
    let scratch = Scratch::new("newer-log");
    drop(Database::open(&scratch.storage(), &alice()).unwrap());
    let raw = Connection::open(scratch.db_file()).unwrap();
    raw.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .unwrap();
    raw.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA user_version = 3;")
        .unwrap();
    drop(raw);
    let wal = scratch.user_dir().join("feige.db-wal");
    let log = fs::read(&wal).unwrap();
    assert!(!log.is_empty());
    let error = refused_untouched(&scratch);
    assert!(
        error.contains("schema 3, this one knows up to 2"),
        "{error}"
    );
    assert_eq!(fs::read(&wal).unwrap(), log);
}

/// A newer feige's file not in WAL mode: switching it would rewrite its header, so the check
/// must come before.
#[test]
fn a_newer_database_in_rollback_mode_is_not_switched_to_wal() {
    let scratch = Scratch::new("newer-rollback");
    fs::create_dir_all(scratch.user_dir()).unwrap();
    let raw = Connection::open(scratch.db_file()).unwrap();
    raw.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 3;")
        .unwrap();
    drop(raw);
    let error = refused_untouched(&scratch);
    assert!(
        error.contains("schema 3, this one knows up to 2"),
        "{error}"
    );
    assert!(!scratch.user_dir().join("feige.db-wal").exists());
}

/// A database of schema 1 (before talks were recorded) is upgraded in place: what it held is
/// kept, and talks are recorded from then on.
#[test]
fn a_database_of_schema_1_is_upgraded_with_everything_it_held() {
    let scratch = Scratch::new("upgrade");
    {
        let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
        db.apply(&queued(1, "bob", 7, 1, "kept", 1_000)).unwrap();
    }
    let raw = Connection::open(scratch.db_file()).unwrap();
    raw.execute_batch(
        "DROP TRIGGER talked_id_unused; DROP TRIGGER outgoing_id_unused; DROP TABLE talked;
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(raw);
    let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
    assert_eq!(db.restored().unwrap().outbox.len(), 1);
    db.apply(&talked(2, "老王", "new", 2_000)).unwrap();
    assert!(db.apply(&talked(1, "老王", "taken", 2_001)).is_err());
    assert_eq!(db.history(&name("老王"), 10).unwrap().len(), 1);
    drop(db);
    let raw = Connection::open(scratch.db_file()).unwrap();
    let version: i64 = raw
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 2);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let scratch = Scratch::new("not-sqlite");
    fs::create_dir_all(scratch.user_dir()).unwrap();
    let junk: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(scratch.db_file(), &junk).unwrap();
    let error = refused_untouched(&scratch);
    assert!(error.contains("the database is damaged"), "{error}");
    assert!(error.contains("it was left as it is"), "{error}");
}

#[test]
fn a_database_with_a_damaged_page_is_refused_untouched() {
    let scratch = Scratch::new("damaged");
    {
        let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
        for id in 1..200 {
            let text = format!("message number {id} with some padding to fill pages");
            db.apply(&queued(id, "bob", 7, id, &text, 1_000 + id))
                .unwrap();
        }
    }
    let mut bytes = fs::read(scratch.db_file()).unwrap();
    let page_size = 4096;
    assert!(bytes.len() > 4 * page_size, "{} bytes", bytes.len());
    // Page 3 (a table's root) overwritten: what a bad sector or a stray write leaves.
    bytes[2 * page_size..3 * page_size].fill(0x5a);
    fs::write(scratch.db_file(), &bytes).unwrap();
    let error = refused_untouched(&scratch);
    assert!(error.contains("the database is damaged"), "{error}");
    assert!(error.contains("it was left as it is"), "{error}");
}

#[test]
fn a_second_client_with_the_same_directory_is_refused_while_the_first_runs() {
    let scratch = Scratch::new("second");
    let refused = |why: &str| {
        let error = Database::open(&scratch.storage(), &alice()).unwrap_err();
        let error = error.to_string();
        let expected = "another feige client is running as alice with this data directory";
        assert!(error.contains(expected), "{why}: {error}");
    };
    let mut first = Database::open(&scratch.storage(), &alice()).unwrap();
    refused("just opened");
    // The lock outlives the write transactions of WAL mode.
    first.apply(&queued(1, "bob", 7, 1, "hi", 1_000)).unwrap();
    first.apply(&delivered(1, 1_001)).unwrap();
    refused("after writes");
    assert_eq!(first.restored().unwrap().next_message_id, 2);
    refused("after reads");
    // Nothing else can read the file meanwhile either (a reader needs only a shared lock).
    let raw = Connection::open(scratch.db_file()).unwrap();
    raw.busy_timeout(Duration::ZERO).unwrap();
    let read = raw.query_row("SELECT count(*) FROM outgoing", [], |row| {
        row.get::<_, i64>(0)
    });
    assert!(read.is_err(), "{read:?}");
    drop(raw);
    drop(first);
    let second = Database::open(&scratch.storage(), &alice()).unwrap();
    assert_eq!(second.restored().unwrap().next_message_id, 2);
}

#[test]
fn a_closed_database_frees_the_directory_and_refuses_plainly() {
    let scratch = Scratch::new("closed");
    let mut first = Database::open(&scratch.storage(), &alice()).unwrap();
    first.apply(&queued(1, "bob", 7, 1, "hi", 1_000)).unwrap();
    first.close().unwrap();
    // Not dropped yet (a quitting process may still hold it): the next client gets the file.
    let second = Database::open(&scratch.storage(), &alice()).unwrap();
    assert_eq!(second.restored().unwrap().next_message_id, 2);
    let error = first.apply(&delivered(1, 1_001)).unwrap_err().to_string();
    assert!(error.contains("the database is closed"), "{error}");
    assert!(first.history(&name("bob"), 10).is_err());
    first.close().unwrap();
}
