//! A client that loses nothing, with the real binaries (each alone and mixed): messages queued for
//! an offline contact survive `kill -9` of the sender and arrive once each, in order; history
//! outlives a restart; a damaged database and a second instance are refused with the file kept.
//! (A server restart is in `binary.rs`, for every pair of binaries.)

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use feige_tests::proc::{
    binary_path, start_chat, start_chat_with, start_server, ChatProc, RawTcp, RawUdp, Scratch,
    BINARY_PAIRS, STEP,
};
use serde_json::Value;

/// A client that keeps its keys and database in `scratch`.
fn chat(
    binary: &str,
    name: &str,
    server: &feige_tests::proc::ServerProc,
    scratch: &Scratch,
) -> ChatProc {
    let dir = scratch.path("data");
    start_chat_with(
        &binary_path(binary),
        name,
        server.udp,
        &["--data-dir", &dir],
    )
}

fn is_message(v: &Value) -> bool {
    v["event"] == "message"
}

/// Twenty messages to bob, who is offline, wait in alice's outbox (`queued`, never `sent`);
/// alice is killed with `kill -9` and started again: once bob is back he gets all twenty, once
/// each, in order, and alice hears each delivered. Neither side shows anything again after
/// either restarts once more (alice, then bob, each with `kill -9`).
#[test]
fn queued_messages_survive_kill_9_of_the_sender() {
    for (first, second) in BINARY_PAIRS {
        let scratch = Scratch::new("outbox");
        let server = start_server(&binary_path(first), "127.0.0.1");
        let mut alice = chat(first, "alice", &server, &scratch);
        let mut bob = chat(second, "bob", &server, &scratch);
        alice.wait_for("bob's key", |v| {
            v["event"] == "key_pinned" && v["name"] == "bob"
        });
        bob.send_line("/quit");
        bob.wait_event("logged_out");
        assert!(bob.wait_exit().success());
        alice.wait_for("bob left", |v| v["event"] == "left" && v["name"] == "bob");

        let texts: Vec<String> = (1..=20).map(|i| format!("queued {i}, 排队 {i}")).collect();
        for text in &texts {
            alice.send_line(&format!("/msg bob {text}"));
            let queued = alice.wait_event("queued");
            assert_eq!(queued["to"], "bob", "{queued}");
        }
        assert_eq!(
            alice.seen(|v| v["event"] == "sent"),
            0,
            "nothing goes out yet"
        );
        alice.kill();

        let mut alice = chat(first, "alice", &server, &scratch);
        let mut bob = chat(second, "bob", &server, &scratch);
        for text in &texts {
            let shown = bob.wait_for("the next queued message", is_message);
            assert_eq!(shown["from"], "alice", "{shown}");
            assert_eq!(shown["text"], text.as_str(), "in order, none twice");
            assert_eq!(shown["encrypted"], true, "{shown}");
        }
        for _ in &texts {
            alice.wait_event("delivered");
        }
        assert_eq!(
            alice.seen(|v| v["event"] == "sent"),
            texts.len(),
            "each reported sent once"
        );

        alice.kill();
        let mut alice = chat(first, "alice", &server, &scratch);
        alice.send_line("/msg bob after the second restart");
        let shown = bob.wait_for("the new message", is_message);
        assert_eq!(
            shown["text"], "after the second restart",
            "nothing shown again"
        );
        alice.wait_event("delivered");
        assert_eq!(bob.seen(is_message), texts.len() + 1);

        bob.kill();
        let mut bob = chat(second, "bob", &server, &scratch);
        alice.send_line("/msg bob after bob's restart");
        let shown = bob.wait_for("the message after his restart", is_message);
        assert_eq!(shown["text"], "after bob's restart", "nothing shown again");
        alice.wait_event("delivered");
        assert_eq!(bob.seen(is_message), 1);
    }
}

/// What alice and bob said, and how it went, is there after alice restarts: `/history` in JSON
/// with RFC 3339 times, the last N on request.
#[test]
fn history_outlives_a_restart() {
    for (first, second) in BINARY_PAIRS {
        let scratch = Scratch::new("history");
        let server = start_server(&binary_path(first), "127.0.0.1");
        let mut alice = chat(first, "alice", &server, &scratch);
        let mut bob = chat(second, "bob", &server, &scratch);
        alice.wait_for("bob joined", |v| v["event"] == "joined");
        alice.send_line("/msg bob hello, bob");
        bob.wait_for("alice's message", is_message);
        alice.wait_event("delivered");
        bob.send_line("/msg alice 你好, alice");
        alice.wait_for("bob's message", is_message);
        alice.send_line("/quit");
        alice.wait_event("logged_out");
        assert!(alice.wait_exit().success());

        let mut alice = chat(first, "alice", &server, &scratch);
        alice.send_line("/history bob");
        let mine = alice.wait_event("history");
        let theirs = alice.wait_event("history");
        assert_eq!(
            (&mine["with"], &mine["from"], &mine["text"], &mine["status"]),
            (
                &Value::from("bob"),
                &Value::from("alice"),
                &Value::from("hello, bob"),
                &Value::from("delivered")
            ),
            "{mine}"
        );
        assert_eq!(
            (
                &theirs["from"],
                &theirs["text"],
                &theirs["status"],
                &theirs["encrypted"]
            ),
            (
                &Value::from("bob"),
                &Value::from("你好, alice"),
                &Value::from("received"),
                &Value::from(true)
            ),
            "{theirs}"
        );
        for entry in [&mine, &theirs] {
            let at = entry["at"].as_str().unwrap_or_default();
            assert!(is_rfc3339_utc(at), "{entry}");
        }
        assert!(mine["at"].as_str() <= theirs["at"].as_str(), "oldest first");

        alice.send_line("/history bob 1");
        let last = alice.wait_event("history");
        assert_eq!(last["text"], "你好, alice", "only the last one");
        alice.send_line("/list");
        alice.wait_event("users");
        assert_eq!(alice.seen(|v| v["event"] == "history"), 3);
    }
}

/// `2026-12-06T21:05:07.123Z`.
fn is_rfc3339_utc(at: &str) -> bool {
    let b = at.as_bytes();
    b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z'
        && b.iter()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19, 23].contains(&i) || c.is_ascii_digit())
}

/// Runs a client that must not start: its exit status and what it printed on stderr.
fn refused(binary: &str, name: &str, data_dir: &Path) -> (ExitStatus, String) {
    let mut child = Command::new(binary_path(binary))
        .args([
            "chat",
            name,
            "--json",
            "--server",
            "127.0.0.1:9",
            "--data-dir",
        ])
        .arg(data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the client");
    let deadline = Instant::now() + STEP;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{binary} chat {name} still runs; it should have refused to start");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    (status, stderr)
}

/// A file that is not a database is refused (status 1, a message that says what to do) and left
/// byte for byte as it was.
#[test]
fn a_damaged_database_is_refused_and_kept() {
    for binary in ["feige", "feige-smol"] {
        let scratch = Scratch::new("damaged");
        let user = scratch.dir().join("carol");
        fs::create_dir_all(&user).expect("a user folder");
        let db = user.join("feige.db");
        let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
        fs::write(&db, &garbage).expect("write");
        let (status, stderr) = refused(binary, "carol", scratch.dir());
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("feige.db"), "names the file: {stderr}");
        assert!(stderr.contains("damaged"), "says what is wrong: {stderr}");
        assert_eq!(
            fs::read(&db).expect("still there"),
            garbage,
            "left as it was"
        );
    }
}

/// The same user started twice with one data directory: the second is refused (status 1) and
/// the first goes on chatting, its database whole.
#[test]
fn a_second_instance_is_refused() {
    for (first, second) in BINARY_PAIRS {
        let scratch = Scratch::new("twice");
        let server = start_server(&binary_path(first), "127.0.0.1");
        let mut alice = chat(first, "alice", &server, &scratch);
        let mut bob = chat(first, "bob", &server, &scratch);
        let (status, stderr) = refused(second, "alice", &scratch.dir().join("data"));
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("another feige client is running as alice"),
            "{stderr}"
        );
        alice.wait_for("bob joined", |v| v["event"] == "joined");
        alice.send_line("/msg bob still here");
        bob.wait_for("alice's message", is_message);
        alice.wait_event("delivered");
        alice.send_line("/history bob");
        let entry = alice.wait_event("history");
        assert_eq!(entry["text"], "still here", "{entry}");
    }
}

/// The records of a logout reach the store before it closes for the terminal event: an
/// ephemeral alice logging out with a message in flight (bob, a raw client with a key, never
/// answers) is told it failed, then `logged_out`, and never that the store could not keep it.
#[test]
fn a_logout_keeps_its_last_records_before_the_store_closes() {
    for binary in ["feige", "feige-smol"] {
        let server = start_server(&binary_path(binary), "127.0.0.1");
        let mut alice = start_chat(&binary_path(binary), "alice", server.udp);
        let bob = RawUdp::bind("127.0.0.1");
        let port = bob.accept_port(server.udp, "bob");
        let to = (server.udp.ip(), port).into();
        let key = "ab".repeat(32);
        let _session = RawTcp::claim_with_key("127.0.0.1", to, "bob", &bob, Some(&key));
        alice.wait_for("bob's key", |v| {
            v["event"] == "key_pinned" && v["name"] == "bob"
        });
        alice.send_line("/msg bob are you there?");
        alice.wait_event("sent");
        alice.send_line("/quit");
        let failed = alice.wait_event("failed");
        assert_eq!(failed["reason"], "logged-out", "{failed}");
        alice.wait_event("logged_out");
        assert!(alice.wait_exit().success());
        assert!(
            !alice.has_seen(|v| v["event"] == "error"),
            "a record was lost"
        );
    }
}
