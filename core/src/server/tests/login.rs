//! Logins, claims and pending logins.

use super::*;

#[test]
fn login_claim_snapshot_then_join_broadcast_in_order() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    let bob_accept = h.datagram("127.0.0.2:6000", "login,bob,127.0.0.2:6000");
    assert_eq!(bob_accept, vec![datagram("127.0.0.2:6000", "Accept,9001")]);
    let bob = h.open("127.0.0.2:40000");
    let out = h.bytes(bob, "login,bob,127.0.0.2:6000\r\n");
    assert_eq!(
        out,
        vec![
            send(alice, "login,bob,127.0.0.2:6000\n"),
            snapshot(bob, "alice,127.0.0.1:5000;bob,127.0.0.2:6000;end\n"),
        ]
    );
    assert_eq!(online(&h), ["alice,127.0.0.1:5000", "bob,127.0.0.2:6000"]);
}

#[test]
fn first_snapshot_lists_the_newcomer() {
    let mut h = Harness::new();
    h.datagram("[::1]:7000", "login,小明,[::1]:7000");
    let conn = h.open("[::1]:40000");
    let out = h.bytes(conn, "login,小明,[::1]:7000\n");
    assert_eq!(out, vec![snapshot(conn, "小明,[::1]:7000;end\n")]);
}

#[test]
fn listed_endpoint_is_the_observed_source_not_the_declared_one() {
    let mut h = Harness::new();
    h.datagram("127.0.0.1:6000", "login,nat,192.168.1.5:5000");
    let conn = h.open("127.0.0.1:40000");
    let out = h.bytes(conn, "login,nat,192.168.1.5:5000\n");
    assert_eq!(out, vec![snapshot(conn, "nat,127.0.0.1:6000;end\n")]);
}

#[test]
fn claim_split_across_any_chunks() {
    let mut h = Harness::new();
    h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    let conn = h.open("127.0.0.1:40000");
    let mut out = Vec::new();
    for byte in "login,alice,127.0.0.1:5000\n".as_bytes() {
        h.server
            .handle_bytes(h.now, conn, std::slice::from_ref(byte));
        out.extend(h.drain());
    }
    assert_eq!(out, vec![snapshot(conn, "alice,127.0.0.1:5000;end\n")]);
}

#[test]
fn a_login_is_pending_from_its_accept_until_its_claim() {
    let mut h = Harness::new();
    assert!(!h.server.has_pending_logins());
    h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    assert!(h.server.has_pending_logins());
    let conn = h.open("127.0.0.1:40000");
    h.bytes(conn, "login,alice,127.0.0.1:5000\n");
    assert!(!h.server.has_pending_logins());
}

#[test]
fn repeated_login_gets_the_same_accept_and_creates_nothing() {
    let mut h = Harness::new();
    for _ in 0..3 {
        let out = h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000\n");
        assert_eq!(out, vec![datagram("127.0.0.1:5000", "Accept,9001")]);
    }
    assert_eq!(h.server.stats().pending, 1);
}

#[test]
fn every_reject_reason() {
    let config = ServerConfig {
        max_sessions: 2,
        max_pending_per_ip: 1,
        ..ServerConfig::default()
    };
    let mut h = Harness::with(config);
    h.login("alice", "127.0.0.1:5000");
    let reject = |r: RejectReason| format!("Reject,{r}");
    assert_eq!(
        h.datagram("127.0.0.9:5000", "login,alice,127.0.0.9:5000"),
        vec![datagram("127.0.0.9:5000", &reject(RejectReason::NameTaken))]
    );
    assert_eq!(
        h.datagram("127.0.0.9:5000", "login,a;b,127.0.0.9:5000"),
        vec![datagram("127.0.0.9:5000", &reject(RejectReason::BadName))]
    );
    assert_eq!(
        h.datagram("127.0.0.9:5000", "login,carol"),
        vec![datagram(
            "127.0.0.9:5000",
            &reject(RejectReason::BadRequest)
        )]
    );
    h.datagram("127.0.0.2:5000", "login,bob,127.0.0.2:5000");
    assert_eq!(
        h.datagram("127.0.0.2:5001", "login,bob2,127.0.0.2:5001"),
        vec![datagram(
            "127.0.0.2:5001",
            &reject(RejectReason::ServerFull)
        )]
    );
    let mut h = Harness::with(ServerConfig {
        max_pending_per_ip: 1,
        ..ServerConfig::default()
    });
    h.datagram("127.0.0.2:5000", "login,bob,127.0.0.2:5000");
    assert_eq!(
        h.datagram("127.0.0.2:5001", "login,carol,127.0.0.2:5001"),
        vec![datagram(
            "127.0.0.2:5001",
            &reject(RejectReason::RateLimited)
        )]
    );
    // A name pending from another source is taken too.
    assert_eq!(
        h.datagram("127.0.0.3:5000", "login,bob,127.0.0.3:5000"),
        vec![datagram("127.0.0.3:5000", &reject(RejectReason::NameTaken))]
    );
}

#[test]
fn garbage_datagrams_are_dropped_without_reply() {
    let mut h = Harness::new();
    h.login("alice", "127.0.0.1:5000");
    for junk in [
        &b"\xff\xfe\x00"[..],
        b"",
        b"hello",
        b"logout",
        &[b'x'; 70_000],
    ] {
        h.server.handle_datagram(h.now, ep("127.0.0.7:1"), junk);
        assert_eq!(h.drain(), vec![]);
    }
    assert_eq!(h.server.stats().malformed_datagrams, 5);
    assert_eq!(online(&h), ["alice,127.0.0.1:5000"]);
}

#[test]
fn claim_errors_close_the_connection() {
    let mut h = Harness::new();
    let c = h.open("127.0.0.1:40000");
    assert_eq!(
        h.bytes(c, "login,ghost,127.0.0.1:1\n"),
        vec![send(c, "error,no-pending-login\n"), close(c)]
    );
    h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    let c = h.open("127.0.0.2:40000");
    assert_eq!(
        h.bytes(c, "login,alice,127.0.0.1:5000\n"),
        vec![send(c, "error,ip-mismatch\n"), close(c)]
    );
    let c = h.open("127.0.0.1:40001");
    assert_eq!(
        h.bytes(c, "ping\n"),
        vec![send(c, "error,bad-line\n"), close(c)]
    );
    let c = h.open("127.0.0.1:40002");
    assert_eq!(
        h.bytes(c, &"x".repeat(600)),
        vec![send(c, "error,line-too-long\n"), close(c)]
    );
    // The pending login survived all of that.
    let c = h.open("127.0.0.1:40003");
    assert_eq!(
        h.bytes(c, "login,alice,127.0.0.1:5000\n"),
        vec![snapshot(c, "alice,127.0.0.1:5000;end\n")]
    );
    assert_eq!(h.server.stats().refused_connections, 4);
}

#[test]
fn a_silent_connection_never_takes_a_native_login() {
    let mut h = Harness::new();
    h.datagram("127.0.0.1:5000", "login,seed,127.0.0.1:5000");
    let c = h.open("127.0.0.1:40000");
    h.advance(Duration::from_secs(1));
    assert_eq!(h.drain(), vec![]);
    h.advance(Duration::from_secs(9));
    assert_eq!(h.drain(), vec![send(c, "error,claim-timeout\n"), close(c)]);
}

#[test]
fn a_claim_must_name_the_endpoint_its_login_declared() {
    let mut h = Harness::new();
    h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    // Another client on the same host, claiming the same name for itself.
    let c = h.open("127.0.0.1:40000");
    assert_eq!(
        h.bytes(c, "login,alice,127.0.0.1:5001\n"),
        vec![send(c, "error,no-pending-login\n"), close(c)]
    );
    let c = h.open("127.0.0.1:40001");
    assert_eq!(
        h.bytes(c, "login,alice,127.0.0.1:5000\n"),
        vec![snapshot(c, "alice,127.0.0.1:5000;end\n")]
    );
}

#[test]
fn a_repeated_login_keeps_its_pending_window_open() {
    let mut h = Harness::new();
    h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    h.advance(Duration::from_secs(8));
    h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    h.advance(Duration::from_secs(8));
    assert_eq!(h.server.stats().pending, 1);
    h.advance(Duration::from_secs(2));
    assert_eq!(h.server.stats().pending, 0);
}

#[test]
fn pending_login_expires() {
    let mut h = Harness::new();
    h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    h.advance(Duration::from_secs(10));
    assert_eq!(h.server.stats().pending, 0);
    let c = h.open("127.0.0.1:40000");
    assert_eq!(
        h.bytes(c, "login,alice,127.0.0.1:5000\n"),
        vec![send(c, "error,no-pending-login\n"), close(c)]
    );
}
