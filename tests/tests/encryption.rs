//! End-to-end encryption with the real binaries, both transports and mixed: what crosses the
//! network between two clients says neither the text nor who wrote it; keys are pinned across
//! restarts; a changed key is reported, chat with it held until trusted; safety numbers agree.

use std::fs;

use feige_tests::forwarder::Forwarder;
use feige_tests::proc::{
    binary_path, start_chat, start_chat_with, start_server, Scratch, BINARY_PAIRS,
};
use serde_json::Value;

fn message<'a>(from: &'a str, text: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |v| v["event"] == "message" && v["from"] == from && v["text"] == text
}

fn delivered(v: &Value) -> bool {
    v["event"] == "delivered"
}

/// Each client sits behind a forwarder that keeps every datagram between it and its peer that
/// passes there (the peer may answer the other's datagrams where they came from, past the other's
/// forwarder: each direction still crosses one): none may hold the text or the sender's name,
/// and every message still arrives, exactly once.
#[test]
fn nothing_readable_crosses_the_network() {
    for (first, second) in BINARY_PAIRS {
        let server = start_server(&binary_path(first), "127.0.0.1");
        let (fa, fb) = (
            Forwarder::start("127.0.0.1", server.udp),
            Forwarder::start("127.0.0.1", server.udp),
        );
        let mut alice = start_chat(&binary_path(first), "alice-secret", fa.server_face());
        let mut bob = start_chat(&binary_path(second), "bob-secret", fb.server_face());
        assert_eq!(
            bob.endpoint(),
            fb.public().to_string(),
            "bob listed at his forwarder"
        );
        alice.wait_for("bob", |v| v["event"] == "joined");
        let texts = ["attack at dawn, 黎明进攻", "the password is swordfish"];
        for text in texts {
            alice.send_line(&format!("/msg bob-secret {text}"));
            let shown = bob.wait_for("alice's message", message("alice-secret", text));
            assert_eq!(shown["encrypted"], true, "{shown}");
            let done = alice.wait_for("delivered", delivered);
            assert_eq!(done["encrypted"], true, "{done}");
        }
        bob.send_line("/msg alice-secret swordfish received");
        alice.wait_for("bob's answer", message("bob-secret", "swordfish received"));
        bob.wait_for("delivered", delivered);
        let seen: Vec<Vec<u8>> = [fa.peer_traffic(), fb.peer_traffic()].concat();
        assert!(
            seen.len() >= 6,
            "handshakes, messages and acks went through: {}",
            seen.len()
        );
        for datagram in &seen {
            for secret in [
                &b"alice-secret"[..],
                b"bob-secret",
                b"dawn",
                b"swordfish",
                "黎明".as_bytes(),
            ] {
                assert!(
                    !datagram.windows(secret.len()).any(|w| w == secret),
                    "{first}/{second}: {:?} readable in {datagram:?}",
                    String::from_utf8_lossy(secret)
                );
            }
        }
        // Shown once each, even though the forwarders relay everything.
        for text in texts {
            assert_eq!(
                bob.seen(message("alice-secret", text)),
                1,
                "{text} shown once"
            );
        }
    }
}

/// bob pins alice's key; alice restarting with her data directory changes nothing; alice with a
/// new identity is reported, held, trusted, and then her message gets through. Both sides
/// compute the same safety number.
#[test]
fn keys_are_pinned_changes_held_until_trusted() {
    for (first, second) in BINARY_PAIRS {
        let scratch = Scratch::new("pins");
        let server = start_server(&binary_path(first), "127.0.0.1");
        let alice_dir = ["--data-dir", &scratch.path("alice")];
        let bob_dir = ["--data-dir", &scratch.path("bob")];
        let mut bob = start_chat_with(&binary_path(second), "bob", server.udp, &bob_dir);
        let mut alice = start_chat_with(&binary_path(first), "alice", server.udp, &alice_dir);
        let pinned = bob.wait_for("alice's key pinned", |v| {
            v["event"] == "key_pinned" && v["name"] == "alice"
        });

        alice.send_line("/verify bob");
        bob.send_line("/verify alice");
        let ours = alice.wait_event("safety_number");
        let theirs = bob.wait_event("safety_number");
        assert_eq!(
            ours["number"], theirs["number"],
            "the same number on both sides"
        );
        assert_eq!(ours["number"].as_str().map(str::len), Some(60));

        // The same identity from its data directory: no change to report.
        alice.send_line("/quit");
        alice.wait_event("logged_out");
        bob.wait_for("alice leaving", |v| v["event"] == "left");
        let mut alice = start_chat_with(&binary_path(first), "alice", server.udp, &alice_dir);
        alice.send_line("/msg bob same key");
        bob.wait_for("alice's message", message("alice", "same key"));
        assert!(!bob.has_seen(|v| v["event"] == "key_changed"));

        // A new identity (a new data directory): reported, and chat held both ways.
        alice.send_line("/quit");
        alice.wait_event("logged_out");
        bob.wait_for("alice leaving", |v| v["event"] == "left");
        let new_dir = ["--data-dir", &scratch.path("alice-reinstalled")];
        let mut alice = start_chat_with(&binary_path(first), "alice", server.udp, &new_dir);
        let changed = bob.wait_event("key_changed");
        assert_eq!(changed["name"], "alice");
        assert_eq!(changed["old"], pinned["fingerprint"], "{changed}");
        assert_ne!(changed["new"], changed["old"]);
        bob.send_line("/msg alice are you really alice?");
        // Held: bob has sent nothing yet, so no `sent` at all while the key is not trusted.
        bob.send_line("/list");
        bob.wait_event("users");
        assert_eq!(bob.seen(|v| v["event"] == "sent"), 0, "held, not sent");
        bob.send_line("/trust alice");
        let trusted = bob.wait_for("alice's new key pinned", |v| {
            v["event"] == "key_pinned" && v["name"] == "alice" && v["fingerprint"] == changed["new"]
        });
        assert_eq!(trusted["fingerprint"], changed["new"]);
        alice.wait_for("the held message", message("bob", "are you really alice?"));
        bob.wait_for("delivered", delivered);
        // Pinned on disk: bob restarting knows alice's new key.
        bob.send_line("/quit");
        bob.wait_event("logged_out");
        let mut bob = start_chat_with(&binary_path(second), "bob", server.udp, &bob_dir);
        bob.send_line("/msg alice back again");
        alice.wait_for("bob's message", message("bob", "back again"));
        assert!(!bob.has_seen(|v| v["event"] == "key_changed"));
    }
}

/// A corrupt identity file is an error (status 1) and is left as it was.
#[test]
fn a_corrupt_identity_is_refused_and_kept() {
    for binary in ["feige", "feige-smol"] {
        let scratch = Scratch::new("corrupt");
        let user = scratch.dir().join("carol");
        fs::create_dir_all(&user).expect("a user folder");
        let key = user.join("identity.key");
        fs::write(&key, "garbage").expect("write");
        let output = std::process::Command::new(binary_path(binary))
            .args(["chat", "carol", "--json", "--data-dir"])
            .arg(scratch.dir())
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("not an identity key"), "{stderr}");
        assert_eq!(fs::read_to_string(&key).expect("still there"), "garbage");
    }
}
