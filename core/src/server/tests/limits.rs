//! Per-source bounds: what one address, or one network prefix, may hold of the pending logins,
//! the sessions, the classic users and the unclaimed connections — and that others still get in.

use super::*;

fn rejects(out: &[ServerTransmit], reason: &str) -> bool {
    matches!(out, [ServerTransmit::Datagram { data, .. }] if **data == *format!("Reject,{reason}").as_bytes())
}

fn classic_rejects(out: &[ServerTransmit], reason: &str) -> bool {
    matches!(out, [ServerTransmit::Datagram { data, .. }] if **data == utf16(&format!("Reject,{reason}")))
}

fn accepted(out: &[ServerTransmit]) -> bool {
    matches!(out, [ServerTransmit::Datagram { data, .. }] if **data == *b"Accept,9001")
}

impl Harness {
    /// A classic user `name` listening at `at` logs in and fetches its list; whether it got in.
    fn classic_user(&mut self, name: &str, at: &str) -> bool {
        let answer = self.classic(&format!("{}:1", ep(at).ip()), &format!("login,{name},{at}"));
        if answer != vec![classic_datagram(at, "Accept,9001")] {
            return false;
        }
        let port = 30_000 + self.next_conn as u16;
        self.open(&SocketAddr::new(ep(at).ip(), port).to_string());
        self.drain();
        true
    }

    /// Native logins `prefix0`, `prefix1`… from `source` ports 1, 2…, never claimed; how many
    /// were accepted before the first refusal, which must be `reason`.
    fn pending_until_refused(&mut self, prefix: &str, ip: &str, reason: &str) -> usize {
        for i in 0.. {
            let from = format!("{}:{}", ip, 1 + i % 60_000);
            let out = self.datagram(&from, &format!("login,{prefix}{i},{from}"));
            if !accepted(&out) {
                assert!(rejects(&out, reason), "login {i} from {ip}: {out:?}");
                return i;
            }
        }
        unreachable!()
    }
}

#[test]
fn classic_users_of_one_host_are_capped_and_native_users_still_get_in() {
    let mut h = Harness::new();
    let got_in = (0..20)
        .filter(|i| h.classic_user(&format!("c{i}"), &format!("127.0.0.2:{}", 43_000 + i)))
        .count();
    assert_eq!(got_in, 16, "classic users per IP");
    assert!(classic_rejects(
        &h.classic("127.0.0.2:1", "login,late,127.0.0.2:44000"),
        "rate-limited"
    ));
    // Its network (127.0.0.0/24) holds at most 64 of them.
    let more = (3..10)
        .flat_map(|host| (0..10).map(move |i| (host, i)))
        .filter(|(host, i)| {
            h.classic_user(
                &format!("c{host}.{i}"),
                &format!("127.0.0.{host}:{}", 43_000 + i),
            )
        })
        .count();
    assert_eq!(16 + more, 64, "classic users per /24");
    // A native user from elsewhere logs in and stays.
    let bob = h.login("bob", "192.0.2.7:5000");
    h.drain();
    h.advance(Duration::from_secs(30));
    h.bytes(bob, "ping\n");
    h.advance(Duration::from_secs(30));
    assert_eq!(h.server.stats().online, 65);
    assert!(online(&h).contains(&"bob,192.0.2.7:5000".to_string()));
}

#[test]
fn classic_users_are_capped_in_all_so_they_never_crowd_native_ones_out() {
    let mut h = Harness::with(ServerConfig {
        max_classic_sessions: 3,
        ..ServerConfig::default()
    });
    for host in 1..=3 {
        assert!(h.classic_user(&format!("c{host}"), &format!("10.0.{host}.1:43300")));
    }
    assert!(classic_rejects(
        &h.classic("10.0.9.1:1", "login,c9,10.0.9.1:43300"),
        "server-full"
    ));
    h.login("native", "10.0.9.1:5000");
    assert_eq!(h.server.stats().online, 4);
}

#[test]
fn pending_logins_of_one_ipv4_network_are_capped_and_others_get_in() {
    let mut h = Harness::new();
    assert_eq!(
        h.pending_until_refused("a", "10.1.2.3", "rate-limited"),
        16_384
    );
    assert_eq!(
        h.pending_until_refused("b", "10.1.2.4", "rate-limited"),
        16_384
    );
    // The /24 is full: a third address in it gets nothing, one elsewhere logs in.
    assert_eq!(h.pending_until_refused("c", "10.1.2.5", "rate-limited"), 0);
    h.login("alice", "10.1.3.1:5000");
    assert_eq!(h.server.stats().online, 1);
}

#[test]
fn pending_logins_of_one_ipv6_network_are_capped_and_others_get_in() {
    let mut h = Harness::new();
    assert_eq!(
        h.pending_until_refused("a", "[2001:db8::1]", "rate-limited"),
        16_384
    );
    assert_eq!(
        h.pending_until_refused("b", "[2001:db8::ffff:2]", "rate-limited"),
        16_384
    );
    assert_eq!(
        h.pending_until_refused("c", "[2001:db8::abcd:3]", "rate-limited"),
        0
    );
    h.login("alice", "[2001:db8:0:1::1]:5000");
    assert_eq!(h.server.stats().online, 1);
}

#[test]
fn sessions_are_capped_per_address_and_per_prefix() {
    let mut h = Harness::with(ServerConfig {
        max_sessions_per_ip: 3,
        max_sessions_per_prefix: 5,
        ..ServerConfig::default()
    });
    let a: Vec<ConnId> = (0..3)
        .map(|i| h.login(&format!("a{i}"), &format!("10.0.0.1:{}", 5000 + i)))
        .collect();
    // Online and pending count together.
    assert!(rejects(
        &h.datagram("10.0.0.1:6000", "login,a3,10.0.0.1:6000"),
        "rate-limited"
    ));
    assert!(accepted(
        &h.datagram("10.0.0.2:6000", "login,b0,10.0.0.2:6000")
    ));
    h.login("b1", "10.0.0.2:6001");
    assert!(rejects(
        &h.datagram("10.0.0.3:6000", "login,c0,10.0.0.3:6000"),
        "rate-limited"
    ));
    // The same user coming back takes no new place.
    assert!(accepted(
        &h.datagram("10.0.0.1:5000", "login,a0,10.0.0.1:5000")
    ));
    h.login("elsewhere", "10.0.1.1:5000");
    // Places freed are places to take.
    h.bytes(a[1], "logout,a1,10.0.0.1:5001\n");
    assert!(rejects(
        &h.datagram("10.0.0.3:6000", "login,c0,10.0.0.3:6000"),
        "rate-limited"
    ));
    h.bytes(a[2], "logout,a2,10.0.0.1:5002\n");
    assert!(accepted(
        &h.datagram("10.0.0.3:6000", "login,c0,10.0.0.3:6000")
    ));
}

#[test]
fn unclaimed_connections_of_one_host_are_refused_beyond_the_cap() {
    let mut h = Harness::new();
    for port in 0..64 {
        h.open(&format!("10.9.9.9:{}", 20_000 + port));
    }
    assert_eq!(h.drain(), vec![]);
    let over = h.open("10.9.9.9:30000");
    assert_eq!(
        h.drain(),
        vec![send(over, "error,too-many-connections\n"), close(over)]
    );
    assert_eq!(h.server.stats().refused_connections, 1);
    assert_eq!(h.server.stats().unclaimed_connections, 64);
    // Bytes and a close for the refused connection mean nothing.
    h.bytes(over, "login,x,10.9.9.9:1\n");
    h.closed(over, CloseCause::Closed);
    assert_eq!(h.drain(), vec![]);
    // Another host is served.
    h.login("alice", "10.9.8.1:5000");
    // Once the claim deadline closed them, the host may connect again.
    h.advance(Duration::from_secs(10));
    h.drain();
    assert_eq!(h.server.stats().unclaimed_connections, 0);
    h.open("10.9.9.9:30001");
    assert_eq!(h.drain(), vec![]);
}

#[test]
fn unclaimed_connections_of_one_network_are_refused_beyond_the_cap() {
    let mut h = Harness::new();
    for host in 1..=4 {
        for port in 0..64 {
            h.open(&format!("10.9.9.{host}:{}", 20_000 + port));
        }
    }
    assert_eq!(h.drain(), vec![]);
    let over = h.open("10.9.9.5:20000");
    assert_eq!(
        h.drain(),
        vec![send(over, "error,too-many-connections\n"), close(over)]
    );
    h.login("alice", "10.9.10.1:5000");
    assert_eq!(h.server.stats().online, 1);
}

#[test]
fn max_connections_bounds_them_all_and_each_source_to_a_quarter() {
    let mut h = Harness::with(ServerConfig {
        max_connections: Some(8),
        ..ServerConfig::default()
    });
    let a = h.login("a", "10.0.0.1:5000");
    h.login("b", "10.0.1.1:5000");
    h.drain();
    // A quarter of 8: two unclaimed connections per address and per network.
    h.open("10.0.0.1:40000");
    h.open("10.0.0.2:40000");
    let third = h.open("10.0.0.3:40000");
    assert_eq!(
        h.drain(),
        vec![send(third, "error,too-many-connections\n"), close(third)]
    );
    h.open("10.0.2.1:40000");
    h.open("10.0.3.1:40000");
    h.open("10.0.4.1:40000");
    // 2 sessions and 5 unclaimed: one place left in all.
    h.open("10.0.5.1:40000");
    let full = h.open("10.0.6.1:40000");
    assert_eq!(
        h.drain(),
        vec![send(full, "error,too-many-connections\n"), close(full)]
    );
    h.closed(a, CloseCause::Closed);
    h.drain();
    h.open("10.0.6.1:40001");
    assert_eq!(h.drain(), vec![]);
    assert_eq!(h.server.stats().refused_connections, 2);
}

#[test]
fn connections_are_counted_by_their_ipv4_address_when_mapped() {
    let mut h = Harness::with(ServerConfig {
        max_unclaimed_per_ip: 1,
        ..ServerConfig::default()
    });
    h.open("10.0.0.1:40000");
    let mapped = h.open("[::ffff:10.0.0.1]:40001");
    assert_eq!(
        h.drain(),
        vec![send(mapped, "error,too-many-connections\n"), close(mapped)]
    );
}

#[test]
fn a_repeated_login_cannot_keep_its_pending_login_past_its_life() {
    let mut h = Harness::new();
    for _ in 0..6 {
        h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000");
        h.advance(Duration::from_secs(5));
    }
    // 30 s after the first Accept it is gone, though the last repeat was 5 s ago.
    assert_eq!(h.server.stats().pending, 0);
    let c = h.open("127.0.0.1:40000");
    assert_eq!(
        h.bytes(c, "login,alice,127.0.0.1:5000\n"),
        vec![send(c, "error,no-pending-login\n"), close(c)]
    );
    // Once gone, a new login is a new login.
    assert_eq!(
        h.datagram("127.0.0.1:5000", "login,alice,127.0.0.1:5000"),
        vec![datagram("127.0.0.1:5000", "Accept,9001")]
    );
}
