//! Textbook (classic dialect) clients.

use super::*;

#[test]
fn a_silent_connection_gets_the_classic_login_beside_native_ones() {
    let mut h = Harness::new();
    h.datagram("127.0.0.2:6000", "login,new,127.0.0.2:6000");
    h.classic("127.0.0.2:1", "login,old,127.0.0.2:43300");
    let c = h.open("127.0.0.2:40000");
    assert_eq!(h.drain(), vec![]);
    h.advance(Duration::from_millis(500));
    let list = classic_list("old,127.0.0.2:43300;end");
    assert_eq!(
        h.drain(),
        vec![
            ServerTransmit::Snapshot {
                conn: c,
                data: Bytes::from(list)
            },
            close(c)
        ]
    );
    assert_eq!(h.server.stats().pending, 1);
}

#[test]
fn classic_login_is_answered_at_its_declared_endpoint_and_listed_there() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    h.drain();
    // A textbook client sends from a throw-away port and listens on the declared one.
    assert_eq!(
        h.classic("127.0.0.2:55942", "login,老王,127.0.0.2:43300"),
        vec![classic_datagram("127.0.0.2:43300", "Accept,9001")]
    );
    // Its list connection says nothing: served at once, then closed.
    let c = h.open("127.0.0.2:40000");
    let list = classic_list("alice,127.0.0.1:5000;老王,127.0.0.2:43300;end");
    assert_eq!(
        h.drain(),
        vec![
            send(alice, "login,老王,127.0.0.2:43300\ndialect,老王,classic\n"),
            ServerTransmit::Snapshot {
                conn: c,
                data: Bytes::from(list)
            },
            close(c),
        ]
    );
    // Closing early is nothing to the server.
    h.closed(c, CloseCause::Closed);
    assert_eq!(online(&h), ["alice,127.0.0.1:5000", "老王,127.0.0.2:43300"]);
    // A native newcomer learns who is classic right after its snapshot; the classic user
    // hears of the newcomer by UTF-16LE datagram.
    h.datagram("127.0.0.3:5000", "login,bob,127.0.0.3:5000");
    let bob = h.open("127.0.0.3:40000");
    assert_eq!(
        h.bytes(bob, "login,bob,127.0.0.3:5000\n"),
        vec![
            send(alice, "login,bob,127.0.0.3:5000\n"),
            classic_datagram("127.0.0.2:43300", "login,bob,127.0.0.3:5000"),
            snapshot(
                bob,
                "alice,127.0.0.1:5000;老王,127.0.0.2:43300;bob,127.0.0.3:5000;end\n\
                 dialect,老王,classic\n"
            ),
        ]
    );
}

#[test]
fn classic_logout_only_from_its_ip_and_naming_its_endpoint() {
    let mut h = Harness::new();
    let alice = h.login("alice", "127.0.0.1:5000");
    h.classic("127.0.0.2:55942", "login,old,127.0.0.2:43300");
    h.open("127.0.0.2:40000");
    h.drain();
    assert_eq!(
        h.classic("127.0.0.9:1234", "logout,old,127.0.0.2:43300"),
        vec![]
    );
    assert_eq!(
        h.classic("127.0.0.2:1234", "logout,old,127.0.0.2:43301"),
        vec![]
    );
    assert_eq!(h.server.stats().spoofed_logouts, 2);
    assert_eq!(
        h.classic("127.0.0.2:44022", "logout,old,127.0.0.2:43300"),
        vec![send(alice, "logout,old,127.0.0.2:43300\n")]
    );
}

#[test]
fn classic_login_declaring_another_ip_is_dropped() {
    let mut h = Harness::new();
    assert_eq!(
        h.classic("127.0.0.2:5555", "login,evil,127.0.0.3:43300"),
        vec![]
    );
    assert_eq!(h.server.stats().pending, 0);
}

#[test]
fn malformed_classic_datagrams_are_counted_and_harmless() {
    let mut h = Harness::new();
    h.login("alice", "127.0.0.1:5000");
    for junk in [
        &b"l\x00o"[..],
        b"l\x00\x00\xd8",
        &utf16("talk,1,a,b"),
        &utf16("hello"),
    ] {
        h.server.handle_datagram(h.now, ep("127.0.0.2:1"), junk);
        assert_eq!(h.drain(), vec![]);
    }
    assert_eq!(h.server.stats().malformed_datagrams, 4);
    assert_eq!(online(&h), ["alice,127.0.0.1:5000"]);
}

#[test]
fn classic_sessions_stay_until_logout_unless_a_lease_is_set() {
    let mut h = Harness::new();
    h.classic("127.0.0.2:1", "login,old,127.0.0.2:43300");
    h.open("127.0.0.2:40000");
    h.advance(Duration::from_secs(3600));
    assert_eq!(online(&h), ["old,127.0.0.2:43300"]);

    let mut h = Harness::with(ServerConfig {
        classic_lease: Some(Duration::from_secs(600)),
        ..ServerConfig::default()
    });
    h.classic("127.0.0.2:1", "login,old,127.0.0.2:43300");
    h.open("127.0.0.2:40000");
    h.advance(Duration::from_secs(599));
    assert_eq!(online(&h), ["old,127.0.0.2:43300"]);
    h.advance(Duration::from_secs(1));
    assert_eq!(online(&h), Vec::<String>::new());
}

#[test]
fn a_native_claim_never_takes_a_classic_login() {
    let mut h = Harness::new();
    h.classic("127.0.0.2:1", "login,old,127.0.0.2:43300");
    h.datagram("127.0.0.2:6000", "login,new,127.0.0.2:6000");
    // Mixed pending logins from one IP: nothing is bound at once.
    let c = h.open("127.0.0.2:40000");
    assert_eq!(h.drain(), vec![]);
    assert_eq!(
        h.bytes(c, "login,old,127.0.0.2:43300\n"),
        vec![send(c, "error,no-pending-login\n"), close(c)]
    );
}
