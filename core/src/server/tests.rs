//! Unit tests of the server rules, driven with hand-made input and virtual time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::wire::RejectReason;

struct Harness {
    server: Server,
    now: Instant,
    next_conn: u64,
}

fn ep(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

impl Harness {
    fn new() -> Self {
        Self::with(ServerConfig::default())
    }

    fn with(config: ServerConfig) -> Self {
        Harness {
            server: Server::new(config),
            now: Instant::now(),
            next_conn: 1,
        }
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        while let Some(t) = self.server.poll_timeout() {
            if t > self.now {
                break;
            }
            self.server.handle_timeout(self.now);
        }
    }

    fn drain(&mut self) -> Vec<ServerTransmit> {
        std::iter::from_fn(|| self.server.poll_transmit()).collect()
    }

    fn events(&mut self) -> Vec<ServerEvent> {
        std::iter::from_fn(|| self.server.poll_event()).collect()
    }

    fn datagram(&mut self, from: &str, data: &str) -> Vec<ServerTransmit> {
        self.server
            .handle_datagram(self.now, ep(from), data.as_bytes());
        self.drain()
    }

    fn open(&mut self, peer: &str) -> ConnId {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.server
            .handle_connection_opened(self.now, conn, ep(peer));
        conn
    }

    fn bytes(&mut self, conn: ConnId, data: &str) -> Vec<ServerTransmit> {
        self.server.handle_bytes(self.now, conn, data.as_bytes());
        self.drain()
    }

    /// UDP login from `source`, then the TCP claim from the same IP.
    fn login(&mut self, name: &str, source: &str) -> ConnId {
        let accepted = self.datagram(source, &format!("login,{name},{source}"));
        assert_eq!(accepted, vec![datagram(source, "Accept,9001")]);
        let ip = ep(source).ip();
        let conn = self.open(&SocketAddr::new(ip, 50000 + self.next_conn as u16).to_string());
        self.bytes(conn, &format!("login,{name},{source}\n"));
        conn
    }
}

fn datagram(to: &str, text: &str) -> ServerTransmit {
    ServerTransmit::Datagram {
        to: ep(to),
        data: Bytes::copy_from_slice(text.as_bytes()),
    }
}

fn send(conn: ConnId, text: &str) -> ServerTransmit {
    ServerTransmit::Send {
        conn,
        data: Bytes::copy_from_slice(text.as_bytes()),
    }
}

fn close(conn: ConnId) -> ServerTransmit {
    ServerTransmit::Close { conn }
}

fn online(h: &Harness) -> Vec<String> {
    h.server
        .online()
        .map(|e| format!("{},{}", e.name, e.endpoint))
        .collect()
}

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
            send(bob, "alice,127.0.0.1:5000;bob,127.0.0.2:6000;end\n"),
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
    assert_eq!(out, vec![send(conn, "小明,[::1]:7000;end\n")]);
}

#[test]
fn listed_endpoint_is_the_observed_source_not_the_declared_one() {
    let mut h = Harness::new();
    h.datagram("127.0.0.1:6000", "login,nat,192.168.1.5:5000");
    let conn = h.open("127.0.0.1:40000");
    let out = h.bytes(conn, "login,nat,192.168.1.5:5000\n");
    assert_eq!(out, vec![send(conn, "nat,127.0.0.1:6000;end\n")]);
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
    assert_eq!(out, vec![send(conn, "alice,127.0.0.1:5000;end\n")]);
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
        vec![send(c, "alice,127.0.0.1:5000;end\n")]
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
        vec![send(c, "alice,127.0.0.1:5000;end\n")]
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
            ServerTransmit::Send {
                conn: c,
                data: Bytes::from(list)
            },
            close(c)
        ]
    );
    assert_eq!(h.server.stats().pending, 1);
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
    h.server
        .handle_connection_closed(h.now, alice, CloseCause::Closed);
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
    h.server
        .handle_connection_closed(h.now, bob, CloseCause::SlowConsumer);
    assert_eq!(
        h.drain(),
        vec![
            send(alice, "logout,bob,127.0.0.2:5000\n"),
            send(carol, "logout,bob,127.0.0.2:5000\n"),
        ]
    );
    h.server
        .handle_connection_closed(h.now, bob, CloseCause::Closed);
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
            send(alice2, "bob,127.0.0.2:5000;alice,127.0.0.1:5000;end\n"),
        ]
    );
    // The old connection's late close and its old idle timer must not remove the new login.
    h.server
        .handle_connection_closed(h.now, alice, CloseCause::Closed);
    h.advance(Duration::from_secs(59));
    h.bytes(alice2, "ping\n");
    h.bytes(bob, "ping\n");
    h.advance(Duration::from_secs(2));
    assert_eq!(online(&h), ["bob,127.0.0.2:5000", "alice,127.0.0.1:5000"]);
}

#[test]
fn a_broadcast_shares_one_buffer() {
    let mut h = Harness::new();
    for i in 0..5 {
        h.login(&format!("u{i}"), &format!("127.0.0.{}:5000", i + 1));
    }
    h.drain();
    h.datagram("127.0.0.100:5000", "login,last,127.0.0.100:5000");
    let conn = h.open("127.0.0.100:40000");
    let joins: Vec<Bytes> = h
        .bytes(conn, "login,last,127.0.0.100:5000\n")
        .into_iter()
        .filter_map(|t| match t {
            ServerTransmit::Send { data, .. } if data.starts_with(b"login,") => Some(data),
            _ => None,
        })
        .collect();
    assert_eq!(joins.len(), 5);
    assert!(joins.iter().all(|d| d.as_ptr() == joins[0].as_ptr()));
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

fn utf16(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    crate::wire::encode_utf16le(text, &mut out);
    out
}

fn classic_datagram(to: &str, text: &str) -> ServerTransmit {
    ServerTransmit::Datagram {
        to: ep(to),
        data: Bytes::from(utf16(text)),
    }
}

impl Harness {
    fn classic(&mut self, from: &str, text: &str) -> Vec<ServerTransmit> {
        self.server
            .handle_datagram(self.now, ep(from), &utf16(text));
        self.drain()
    }
}

fn classic_list(text: &str) -> Vec<u8> {
    let mut out = vec![u8::try_from(text.len()).unwrap()];
    out.extend_from_slice(text.as_bytes());
    out
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
            ServerTransmit::Send {
                conn: c,
                data: Bytes::from(list)
            },
            close(c),
        ]
    );
    // Closing early is nothing to the server.
    h.server
        .handle_connection_closed(h.now, c, CloseCause::Closed);
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
            send(
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
