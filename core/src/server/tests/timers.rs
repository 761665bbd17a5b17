//! The timers follow what is live — sessions, pending logins, connections — not how many came
//! and went; and a user withdrawing its own pending login is not a spoofer.

use super::*;

/// Timer entries may be a few per live thing, plus the queue's small slack.
fn assert_timers_bounded(h: &Harness) {
    let stats = h.server.stats();
    let live = stats.online + stats.pending + stats.unclaimed_connections;
    assert!(stats.timers <= 4 * live + 64, "{stats:?}");
}

#[test]
fn timers_stay_bounded_under_steady_pings() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    for _ in 0..1000 {
        h.advance(Duration::from_secs(1));
        h.bytes(alice, "ping\n");
    }
    assert!(h.server.stats().timers <= 3, "{:?}", h.server.stats());
}

#[test]
fn timers_stay_bounded_under_udp_login_logout_cycles() {
    let mut h = Harness::new();
    h.login("bob", "127.0.0.2:5000");
    for i in 0..10_000 {
        let name = format!("u{}", i % 7);
        h.datagram("127.0.0.1:5000", &format!("login,{name},127.0.0.1:5000"));
        h.datagram("127.0.0.1:5000", &format!("logout,{name},127.0.0.1:5000"));
    }
    assert_eq!(h.server.stats().pending, 0);
    assert_timers_bounded(&h);
}

#[test]
fn timers_stay_bounded_under_connect_close_cycles() {
    let mut h = Harness::new();
    h.login("bob", "127.0.0.2:5000");
    for _ in 0..10_000 {
        let c = h.open("127.0.0.1:40000");
        h.closed(c, CloseCause::Closed);
    }
    assert_eq!(h.server.stats().unclaimed_connections, 0);
    assert_timers_bounded(&h);
}

#[test]
fn timers_stay_bounded_under_claims_and_sessions_that_come_and_go() {
    let mut h = Harness::new();
    for i in 0..2_000 {
        let c = h.login(&format!("u{i}"), "127.0.0.1:5000");
        h.bytes(c, &format!("logout,u{i},127.0.0.1:5000\n"));
        h.classic("127.0.0.3:1", "login,old,127.0.0.3:43300");
        h.open("127.0.0.3:40000");
        h.classic("127.0.0.3:2", "logout,old,127.0.0.3:43300");
    }
    assert_eq!(h.server.stats().online, 0);
    assert_timers_bounded(&h);
}

#[test]
fn withdrawing_a_pending_login_is_not_a_spoof() {
    let mut h = Harness::new();
    h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    assert_eq!(
        h.datagram("127.0.0.1:5000", "logout,alice,127.0.0.1:5000"),
        vec![]
    );
    assert_eq!(h.server.stats().pending, 0);
    h.classic("127.0.0.2:1", "login,old,127.0.0.2:43300");
    h.classic("127.0.0.2:2", "logout,old,127.0.0.2:43300");
    assert_eq!(h.server.stats().pending, 0);
    assert_eq!(h.server.stats().spoofed_logouts, 0);
    // A logout from elsewhere withdraws nothing and is counted.
    h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    h.datagram("127.0.0.1:5001", "logout,alice,127.0.0.1:5000");
    assert_eq!(h.server.stats().pending, 1);
    assert_eq!(h.server.stats().spoofed_logouts, 1);
}
