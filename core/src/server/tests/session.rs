//! Sessions: keepalive, idle timeout, every way of leaving, replacement, shutdown.

use super::*;

#[test]
fn ping_keeps_a_session_and_silence_ends_it() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    h.login("bob", "127.0.0.2:5000");
    h.drain();
    for _ in 0..5 {
        h.advance(Duration::from_secs(20));
        let out = h.bytes(alice, "ping\n");
        assert_eq!(out.last(), Some(&send(alice, "pong\n")));
    }
    assert_eq!(online(&h), ["alice,127.0.0.1:5000"]);
    let events = h.events();
    assert!(events.contains(&ServerEvent::Left {
        name: Name::new("bob").unwrap(),
        endpoint: ep("127.0.0.2:5000"),
        reason: LeaveReason::IdleTimeout
    }));
}

#[test]
fn idle_timeout_tells_the_session_and_everyone() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    h.advance(Duration::from_secs(30));
    let bob = h.login("bob", "127.0.0.2:5000");
    h.drain();
    h.advance(Duration::from_secs(30));
    assert_eq!(
        h.drain(),
        vec![
            send(alice, "error,idle-timeout\n"),
            close(alice),
            send(bob, "logout,alice,127.0.0.1:5000\n"),
        ]
    );
}

#[test]
fn tcp_logout_broadcasts_once_and_a_late_close_is_ignored() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    let bob = h.login("bob", "127.0.0.2:5000");
    h.drain();
    assert_eq!(
        h.bytes(alice, "logout,alice,127.0.0.1:5000\n"),
        vec![close(alice), send(bob, "logout,alice,127.0.0.1:5000\n")]
    );
    h.closed(alice, CloseCause::Closed);
    assert_eq!(h.drain(), vec![]);
    assert_eq!(online(&h), ["bob,127.0.0.2:5000"]);
}

#[test]
fn udp_logout_only_from_the_login_endpoint() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    let bob = h.login("bob", "127.0.0.2:5000");
    h.drain();
    assert_eq!(
        h.datagram("127.0.0.1:5001", "logout,alice,127.0.0.1:5000"),
        vec![]
    );
    assert_eq!(
        h.datagram("127.0.0.9:5000", "logout,alice,127.0.0.1:5000"),
        vec![]
    );
    assert_eq!(h.server.stats().spoofed_logouts, 2);
    assert_eq!(
        h.datagram("127.0.0.1:5000", "logout,alice,127.0.0.1:5000"),
        vec![close(alice), send(bob, "logout,alice,127.0.0.1:5000\n")]
    );
}

#[test]
fn connection_loss_and_slow_consumer_leave_once() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    let bob = h.login("bob", "127.0.0.2:5000");
    let carol = h.login("carol", "127.0.0.3:5000");
    h.drain();
    h.closed(bob, CloseCause::SlowConsumer);
    assert_eq!(
        h.drain(),
        vec![
            send(alice, "logout,bob,127.0.0.2:5000\n"),
            send(carol, "logout,bob,127.0.0.2:5000\n"),
        ]
    );
    h.closed(bob, CloseCause::Closed);
    assert_eq!(h.drain(), vec![]);
    let left: Vec<_> = h
        .events()
        .into_iter()
        .filter_map(|e| match e {
            ServerEvent::Left { name, reason, .. } => Some((name.to_string(), reason)),
            _ => None,
        })
        .collect();
    assert_eq!(left, [("bob".to_string(), LeaveReason::SlowConsumer)]);
}

#[test]
fn same_endpoint_relogin_replaces_the_session_and_stale_events_do_nothing() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    let bob = h.login("bob", "127.0.0.2:5000");
    h.drain();
    let again = h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    assert_eq!(again, vec![datagram("127.0.0.1:5000", "Accept,9001")]);
    let alice2 = h.open("127.0.0.1:40100");
    assert_eq!(
        h.bytes(alice2, "login,alice,127.0.0.1:5000\n"),
        vec![
            send(alice, "error,replaced\n"),
            close(alice),
            send(bob, "logout,alice,127.0.0.1:5000\n"),
            send(bob, "login,alice,127.0.0.1:5000\n"),
            snapshot(alice2, "bob,127.0.0.2:5000;alice,127.0.0.1:5000;end\n"),
        ]
    );
    // The old connection's late close and its old idle timer must not remove the new login.
    h.closed(alice, CloseCause::Closed);
    h.advance(Duration::from_secs(59));
    h.bytes(alice2, "ping\n");
    h.bytes(bob, "ping\n");
    h.advance(Duration::from_secs(2));
    assert_eq!(online(&h), ["bob,127.0.0.2:5000", "alice,127.0.0.1:5000"]);
}

#[test]
fn a_join_is_one_broadcast_whatever_the_number_of_sessions() {
    let mut h = Harness::new();
    for i in 0..5 {
        h.login(&format!("u{i}"), &format!("127.0.0.{}:5000", i + 1));
    }
    h.drain();
    h.datagram("127.0.0.100:5000", "login,last,127.0.0.100:5000");
    let conn = h.open("127.0.0.100:40000");
    h.server
        .handle_bytes(h.now, conn, b"login,last,127.0.0.100:5000\n");
    let out: Vec<ServerTransmit> = std::iter::from_fn(|| h.server.poll_transmit()).collect();
    let broadcast = ServerTransmit::Broadcast {
        data: Bytes::from_static(b"login,last,127.0.0.100:5000\n"),
    };
    // Told to everyone before the newcomer is on the roster (its snapshot comes after).
    assert!(matches!(
        out.as_slice(),
        [first, ServerTransmit::Snapshot { conn: c, .. }] if *first == broadcast && *c == conn
    ));
}

#[test]
fn a_session_sending_garbage_is_dropped_and_others_told() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    let bob = h.login("bob", "127.0.0.2:5000");
    h.drain();
    assert_eq!(
        h.bytes(alice, "login,alice,127.0.0.1:5000\n"),
        vec![
            send(alice, "error,bad-line\n"),
            close(alice),
            send(bob, "logout,alice,127.0.0.1:5000\n"),
        ]
    );
}

#[test]
fn shutdown_tells_every_session() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    h.drain();
    h.server.shutdown(h.now);
    assert_eq!(
        h.drain(),
        vec![send(alice, "error,shutdown\n"), close(alice)]
    );
    assert_eq!(online(&h), Vec::<String>::new());
    assert_eq!(h.server.poll_timeout(), None);
}
