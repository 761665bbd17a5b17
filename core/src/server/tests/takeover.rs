//! Who may replace whom: a login takes over an online session or a pending login only as the
//! same user coming back — the same listed endpoint, and never a classic login over a native one.

use super::*;

/// Nothing in `out` tells anyone that `name` left, or closes `conn`.
fn nobody_hears_of_leaving(out: &[ServerTransmit], name: &str, conn: ConnId) {
    let leaving = format!("logout,{name},");
    for t in out {
        match t {
            ServerTransmit::Send { data, .. }
            | ServerTransmit::Broadcast { data }
            | ServerTransmit::Snapshot { data, .. }
            | ServerTransmit::Datagram { data, .. } => {
                let text = String::from_utf8_lossy(data);
                assert!(!text.contains(&leaving), "{name} said to leave: {t:?}");
                let classic = String::from_utf16_lossy(
                    &data
                        .chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .collect::<Vec<_>>(),
                );
                assert!(!classic.contains(&leaving), "{name} said to leave: {t:?}");
            }
            ServerTransmit::Close { conn: c } => assert_ne!(*c, conn, "{name}'s session closed"),
            ServerTransmit::Store(command) => panic!("no cluster here: {command:?}"),
        }
    }
}

#[test]
fn a_classic_login_never_takes_over_a_native_session() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    let bob = h.login("bob", "127.0.0.2:5000");
    h.drain();
    // Someone else on alice's host declares her endpoint in the classic dialect…
    let out = h.classic("127.0.0.1:6666", "login,alice,127.0.0.1:5000");
    assert_eq!(
        out,
        vec![classic_datagram("127.0.0.1:5000", "Reject,name-taken")]
    );
    // …and follows with a silent connection from that host, as a textbook client would.
    let silent = h.open("127.0.0.1:40000");
    let mut out = h.drain();
    h.advance(Duration::from_secs(1));
    out.extend(h.drain());
    nobody_hears_of_leaving(&out, "alice", alice);
    assert_eq!(out, vec![]);
    h.advance(Duration::from_secs(9));
    assert_eq!(
        h.drain(),
        vec![send(silent, "error,claim-timeout\n"), close(silent)]
    );
    assert_eq!(online(&h), ["alice,127.0.0.1:5000", "bob,127.0.0.2:5000"]);
    assert!(h
        .events()
        .iter()
        .all(|e| !matches!(e, ServerEvent::Left { .. })));
    // alice is still herself: her own session pings on, and her re-login is the same user's.
    assert_eq!(h.bytes(alice, "ping\n"), vec![send(alice, "pong\n")]);
    assert_eq!(
        h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000"),
        vec![datagram("127.0.0.1:5000", "Accept,9001")]
    );
    h.bytes(bob, "ping\n");
}

#[test]
fn a_classic_login_declaring_a_native_users_endpoint_is_refused_even_when_silent_connections_wait()
{
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    h.drain();
    // The silent connection first, then the login it hopes to be bound to.
    let silent = h.open("127.0.0.1:40000");
    let mut out = h.classic("127.0.0.1:6666", "login,alice,127.0.0.1:5000");
    h.advance(Duration::from_secs(1));
    out.extend(h.drain());
    nobody_hears_of_leaving(&out, "alice", alice);
    assert_eq!(
        out,
        vec![classic_datagram("127.0.0.1:5000", "Reject,name-taken")]
    );
    h.advance(Duration::from_secs(9));
    assert_eq!(
        h.drain(),
        vec![send(silent, "error,claim-timeout\n"), close(silent)]
    );
    assert_eq!(online(&h), ["alice,127.0.0.1:5000"]);
}

#[test]
fn a_classic_login_never_takes_a_native_pending_login() {
    let mut h = Harness::new();
    h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
    assert_eq!(
        h.classic("127.0.0.1:6666", "login,alice,127.0.0.1:5000"),
        vec![classic_datagram("127.0.0.1:5000", "Reject,name-taken")]
    );
    let c = h.open("127.0.0.1:40000");
    assert_eq!(
        h.bytes(c, "login,alice,127.0.0.1:5000\n"),
        vec![snapshot(c, "alice,127.0.0.1:5000;end\n")]
    );
}

#[test]
fn a_native_login_takes_a_classic_name_only_from_its_listed_endpoint() {
    let mut h = Harness::new();
    let bob = h.login("bob", "127.0.0.3:5000");
    h.classic("127.0.0.2:1", "login,old,127.0.0.2:43300");
    h.open("127.0.0.2:40000");
    h.drain();
    // Another socket on the classic user's host: the name is taken.
    assert_eq!(
        h.datagram("127.0.0.2:6000", "login,old,127.0.0.2:6000"),
        vec![datagram("127.0.0.2:6000", "Reject,name-taken")]
    );
    // The very socket the classic user declared: whoever sends from it owns it now.
    assert_eq!(
        h.datagram("127.0.0.2:43300", "login,old,127.0.0.2:43300"),
        vec![datagram("127.0.0.2:43300", "Accept,9001")]
    );
    let c = h.open("127.0.0.2:40001");
    assert_eq!(
        h.bytes(c, "login,old,127.0.0.2:43300\n"),
        vec![
            send(bob, "logout,old,127.0.0.2:43300\n"),
            send(bob, "login,old,127.0.0.2:43300\n"),
            snapshot(c, "bob,127.0.0.3:5000;old,127.0.0.2:43300;end\n"),
        ]
    );
    // It is native now: a classic login cannot take it back.
    assert_eq!(
        h.classic("127.0.0.2:1", "login,old,127.0.0.2:43300"),
        vec![classic_datagram("127.0.0.2:43300", "Reject,name-taken")]
    );
}

#[test]
fn a_native_login_from_the_declared_endpoint_supersedes_a_pending_classic_one() {
    let mut h = Harness::new();
    h.classic("127.0.0.2:1", "login,old,127.0.0.2:43300");
    assert_eq!(
        h.datagram("127.0.0.2:6000", "login,old,127.0.0.2:6000"),
        vec![datagram("127.0.0.2:6000", "Reject,name-taken")]
    );
    assert_eq!(
        h.datagram("127.0.0.2:43300", "login,old,127.0.0.2:43300"),
        vec![datagram("127.0.0.2:43300", "Accept,9001")]
    );
    assert_eq!(h.server.stats().pending, 1);
    // The classic login is gone: a silent connection gets nothing, the claim gets the session.
    let silent = h.open("127.0.0.2:40000");
    h.advance(Duration::from_secs(1));
    assert_eq!(h.drain(), vec![]);
    let c = h.open("127.0.0.2:40001");
    assert_eq!(
        h.bytes(c, "login,old,127.0.0.2:43300\n"),
        vec![snapshot(c, "old,127.0.0.2:43300;end\n")]
    );
    assert!(h.server.is_unclaimed(silent));
}

#[test]
fn a_classic_user_comes_back_from_its_own_endpoint() {
    let mut h = Harness::new();
    let bob = h.login("bob", "127.0.0.3:5000");
    h.classic("127.0.0.2:1", "login,old,127.0.0.2:43300");
    h.open("127.0.0.2:40000");
    h.drain();
    assert_eq!(
        h.classic("127.0.0.2:2", "login,old,127.0.0.2:43301"),
        vec![classic_datagram("127.0.0.2:43301", "Reject,name-taken")]
    );
    assert_eq!(
        h.classic("127.0.0.2:2", "login,old,127.0.0.2:43300"),
        vec![classic_datagram("127.0.0.2:43300", "Accept,9001")]
    );
    let c = h.open("127.0.0.2:40001");
    let out = h.drain();
    assert_eq!(
        out[..2],
        [
            send(bob, "logout,old,127.0.0.2:43300\n"),
            send(bob, "login,old,127.0.0.2:43300\ndialect,old,classic\n"),
        ]
    );
    assert_eq!(out.last(), Some(&close(c)));
    assert_eq!(online(&h), ["bob,127.0.0.3:5000", "old,127.0.0.2:43300"]);
}
