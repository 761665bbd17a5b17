//! What `apply` committed survives `kill -9` of the process, and the lock goes with the process.
//! The child is this test binary again, running only [`child_applies_then_waits_to_be_killed`].

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::store::Database;

/// Set for the child: the data directory it writes to.
const CHILD_DIR: &str = "FEIGE_DB_TEST_CRASH_DIR";
/// The file the child creates once its records are applied.
const READY: &str = "applied";

/// In the child only (a no-op otherwise): applies records, says so, and waits to be killed.
#[test]
fn child_applies_then_waits_to_be_killed() {
    let Some(dir) = std::env::var_os(CHILD_DIR).map(PathBuf::from) else {
        return;
    };
    let mut db = Database::open(&Storage::Dir(dir.join("alice")), &alice()).unwrap();
    db.apply(&queued(1, "bob", 7, 1, "unacknowledged", 1_000))
        .unwrap();
    db.apply(&queued(2, "bob", 7, 2, "acknowledged", 1_001))
        .unwrap();
    db.apply(&delivered(2, 1_002)).unwrap();
    db.apply(&shown("bob", 9, 4, "shown", true, 1_003)).unwrap();
    fs::write(dir.join(READY), "").unwrap();
    // Killed long before this; bounded so that a child whose test died without killing it (its
    // own runner killed, say) ends by itself.
    thread::sleep(CHILD_LIFETIME);
}

/// The longest a child waits to be killed.
const CHILD_LIFETIME: Duration = Duration::from_secs(90);

/// The child, killed however the test ends (a failed assertion included), never left running.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn applied_records_survive_kill_9_and_the_lock_is_released() {
    let scratch = Scratch::new("crash");
    fs::create_dir_all(&scratch.dir).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store::db::tests::crash::child_applies_then_waits_to_be_killed",
        ])
        .args(["--test-threads", "1", "--nocapture"])
        .env(CHILD_DIR, &scratch.dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !scratch.dir.join(READY).exists() {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("the child ended before applying its records: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the child never applied its records"
        );
        thread::sleep(Duration::from_millis(20));
    }
    // Another process has the file: refused across processes too.
    let error = Database::open(&scratch.storage(), &alice()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("another feige client is running"),
        "{error}"
    );
    child.0.kill().unwrap(); // SIGKILL: no destructor, no checkpoint, no clean close.
    child.0.wait().unwrap();
    let db = Database::open(&scratch.storage(), &alice()).unwrap();
    let restored = db.restored().unwrap();
    assert_eq!(
        restored.outbox,
        [saved(1, "bob", 7, 1, "unacknowledged", 1_000)]
    );
    assert_eq!(restored.streams.len(), 1);
    assert_eq!(restored.streams[0].last_shown, 4);
    assert_eq!(restored.next_message_id, 3);
    assert_eq!(db.history(&name("bob"), 10).unwrap().len(), 3);
}
