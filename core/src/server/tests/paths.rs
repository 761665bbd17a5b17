//! Introductions and the relay: who may ask, what each side is told, the budgets, and a relay
//! that is off.

use super::*;
use crate::wire::{RelayPayload, MAX_CHAT_DATAGRAM};

fn relay_line(to: &str, datagram: &[u8]) -> String {
    let payload = RelayPayload::encode(datagram).expect("fits");
    format!("relay,{to},{}\n", payload.as_str())
}

#[test]
fn an_introduction_tells_both_sides_at_once() {
    let mut h = Harness::new();
    let alice = h.login("alice", "198.51.100.1:4000");
    let bob = h.login("bob", "198.51.100.2:5000");
    h.drain();
    assert_eq!(
        h.bytes(alice, "intro,bob\n"),
        vec![
            send(alice, "intro,bob,198.51.100.2:5000\n"),
            send(bob, "intro,alice,198.51.100.1:4000\n"),
        ]
    );
    // To someone not online, to ourselves, or to a textbook user: nothing, counted.
    h.classic("198.51.100.3:6000", "login,老王,198.51.100.3:6000");
    h.open("198.51.100.3:50000");
    h.advance(Duration::from_millis(600));
    h.drain();
    for name in ["nobody", "alice", "老王"] {
        assert_eq!(h.bytes(alice, &format!("intro,{name}\n")), vec![]);
    }
    let stats = h.server.stats();
    assert_eq!((stats.introductions, stats.introductions_refused), (1, 3));
    // Every line is a sign of life, and the session stays.
    assert_eq!(online(&h).len(), 3);
}

#[test]
fn introductions_are_rate_limited_per_session() {
    let config = ServerConfig::default();
    let (burst, rate) = (config.intro_burst, config.intros_per_sec);
    let mut h = Harness::with(config);
    let alice = h.login("alice", "198.51.100.1:4000");
    h.login("bob", "198.51.100.2:5000");
    h.drain();
    let made = (0..burst * 2)
        .filter(|_| !h.bytes(alice, "intro,bob\n").is_empty())
        .count();
    assert_eq!(made, burst as usize);
    h.advance(Duration::from_secs(1));
    let made = (0..burst)
        .filter(|_| !h.bytes(alice, "intro,bob\n").is_empty())
        .count();
    assert_eq!(made, rate as usize);
    assert_eq!(
        h.server.stats().introductions_refused,
        u64::from(burst * 2 - rate)
    );
}

#[test]
fn a_relayed_datagram_goes_to_its_recipient_in_the_senders_name() {
    let mut h = Harness::new();
    let alice = h.login("alice", "198.51.100.1:4000");
    let bob = h.login("bob", "198.51.100.2:5000");
    h.drain();
    let datagram = [0xf7u8; MAX_CHAT_DATAGRAM];
    let out = h.bytes(alice, &relay_line("bob", &datagram));
    let expected = relay_line("alice", &datagram);
    assert_eq!(out, vec![send(bob, &expected)]);
    let stats = h.server.stats();
    assert_eq!(
        (stats.relayed, stats.relayed_bytes),
        (1, expected.len() as u64)
    );
    // Nobody else gets it; to a name not online, or to ourselves: dropped and counted.
    assert_eq!(h.bytes(alice, &relay_line("nobody", b"x")), vec![]);
    assert_eq!(h.bytes(alice, &relay_line("alice", b"x")), vec![]);
    assert_eq!(h.server.stats().relay_refused, 2);
}

#[test]
fn relay_lines_are_bounded_by_size_and_by_a_byte_budget() {
    let config = ServerConfig {
        relay_bytes_per_sec: 4_000,
        relay_burst_bytes: 8_000,
        ..ServerConfig::default()
    };
    let mut h = Harness::with(config);
    let alice = h.login("alice", "198.51.100.1:4000");
    h.login("bob", "198.51.100.2:5000");
    h.drain();
    // 1,600 base64 bytes each: five fit the burst, the sixth waits for the rate.
    let line = relay_line("bob", &[1u8; MAX_CHAT_DATAGRAM]);
    let relayed = (0..6).filter(|_| !h.bytes(alice, &line).is_empty()).count();
    assert_eq!(relayed, 5);
    h.advance(Duration::from_millis(400));
    assert_eq!(h.bytes(alice, &line).len(), 1);
    assert_eq!(h.server.stats().relay_refused, 1);
    // A payload over the largest datagram is too long, like any other line: the session ends.
    let over = format!("relay,bob,{}\n", "A".repeat(1604));
    let out = h.bytes(alice, &over);
    assert_eq!(out[0], send(alice, "error,line-too-long\n"));
    assert_eq!(online(&h), ["bob,198.51.100.2:5000"]);
}

#[test]
fn a_server_without_relay_refuses_every_relay_line() {
    let mut h = Harness::with(ServerConfig {
        relay: false,
        ..ServerConfig::default()
    });
    let alice = h.login("alice", "198.51.100.1:4000");
    h.login("bob", "198.51.100.2:5000");
    h.drain();
    assert_eq!(h.bytes(alice, &relay_line("bob", b"sealed")), vec![]);
    assert_eq!(h.server.stats().relay_refused, 1);
    // Introductions still work: they cost the server two lines.
    assert_eq!(h.bytes(alice, "intro,bob\n").len(), 2);
}

#[test]
fn relay_lines_are_longer_than_other_lines_only_once_claimed() {
    let mut h = Harness::new();
    h.datagram("198.51.100.1:4000", "login,alice,198.51.100.1:4000");
    let c = h.open("198.51.100.1:50000");
    let long = relay_line("bob", &[1u8; 600]);
    assert_eq!(
        h.bytes(c, &long),
        vec![send(c, "error,line-too-long\n"), close(c)]
    );
}
