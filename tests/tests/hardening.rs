//! The server against hostile peers, both binaries, each hole of issue 20 as an attacker would
//! use it on loopback: a classic login that names a native user's endpoint, classic users
//! crowding one host's share, idle connections under a low open-file limit, pending logins from
//! many addresses of one network, login/logout loops against the timer heap, oversized
//! datagrams, a snapshot larger than a session's output bound, and a burst of joins larger than
//! that bound.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use feige_core::wire::encode_utf16le;
use feige_tests::proc::{
    binary_path, raw_login, sample, scrape, start_chat, start_server_with, Proc, RawTcp, RawUdp,
    STEP,
};
use serde_json::Value;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// Several of these flood the machine: one at a time, so each one's waits mean what they say.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Polls `metric` on the server's `/metrics` until `done` holds; panics after [`STEP`].
fn wait_metric(at: SocketAddr, metric: &str, done: impl Fn(f64) -> bool) -> f64 {
    let deadline = Instant::now() + STEP;
    loop {
        let value = sample(&scrape(at), metric);
        if done(value) {
            return value;
        }
        assert!(Instant::now() < deadline, "{metric} stuck at {value}");
        thread::sleep(Duration::from_millis(50));
    }
}

fn utf16(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    encode_utf16le(text, &mut out);
    out
}

fn left(name: &str) -> impl Fn(&Value) -> bool + '_ {
    move |v| v["event"] == "left" && v["name"] == name
}

/// A classic login declaring a native user's listed endpoint, then a silent connection from the
/// same IP (another program on the victim's host), must not replace the victim.
fn no_takeover_through_the_classic_dialect(binary: &str) {
    let _alone = alone();
    let binary = binary_path(binary);
    let server = start_server_with(&binary, "127.0.0.1", &["--metrics"], true);
    let metrics = server.metrics.expect("--metrics");
    let mut alice = start_chat(&binary, "alice", server.udp);
    let mut bob = start_chat(&binary, "bob", server.udp);
    alice.wait_for("bob joining", |v| {
        v["event"] == "joined" && v["name"] == "bob"
    });

    let neighbour = RawUdp::bind("127.0.0.1");
    let claim = utf16(&format!("login,alice,{}", alice.endpoint()));
    neighbour.send(server.udp, &claim);
    let _silent = RawTcp::connect_from("127.0.0.1", server.tcp);
    wait_metric(
        metrics,
        "feige_logins_rejected_total{reason=\"name-taken\"}",
        |v| v >= 1.0,
    );
    // Past the silent-claim wait: a takeover would have happened by now.
    thread::sleep(Duration::from_millis(800));

    alice.send_line("/msg bob still me");
    bob.wait_for("alice's message", |v| {
        v["event"] == "message" && v["from"] == "alice"
    });
    assert!(!bob.has_seen(left("alice")), "bob saw alice leave");
    assert!(
        !alice.has_seen(|v| v["event"] == "disconnected"),
        "alice lost her session"
    );
    assert_eq!(sample(&scrape(metrics), "feige_sessions_online"), 2.0);
}

#[test]
fn std_no_takeover_through_the_classic_dialect() {
    no_takeover_through_the_classic_dialect("feige");
}

#[test]
fn smol_no_takeover_through_the_classic_dialect() {
    no_takeover_through_the_classic_dialect("feige-smol");
}

/// One host registers classic users by the hundred: it gets its share (16) and no more, and a
/// native user from another address logs in and stays, even with a small output bound.
fn classic_users_cannot_crowd_out_native_ones(binary: &str) {
    let _alone = alone();
    let binary = binary_path(binary);
    let server = start_server_with(
        &binary,
        "127.0.0.1",
        &["--metrics", "--max-queued-bytes", "2048"],
        true,
    );
    let metrics = server.metrics.expect("--metrics");
    let mut accepted = 0;
    for i in 0..100 {
        let textbook = RawUdp::bind("127.0.0.7");
        textbook.send(
            server.udp,
            &utf16(&format!("login,c{i},{}", textbook.local())),
        );
        let answer = textbook
            .recv(STEP)
            .map(|(data, _)| data)
            .unwrap_or_default();
        if answer == utf16(&format!("Accept,{}", server.tcp.port())) {
            accepted += 1;
            // The textbook client fetches its list on a silent connection.
            let mut list = RawTcp::connect_from("127.0.0.7", server.tcp);
            let _ = list.read_line();
        } else {
            assert_eq!(answer, utf16("Reject,rate-limited"), "c{i}");
        }
    }
    assert_eq!(accepted, 16, "one host's share of classic users");
    let mut dave = start_chat(&binary, "dave", server.udp);
    let classic = dave.logged_in["users"].as_array().map_or(0, Vec::len) - 1;
    assert_eq!(classic, 16, "{}", dave.logged_in);
    let _erin = start_chat(&binary, "erin", server.udp);
    dave.wait_for("erin joining", |v| {
        v["event"] == "joined" && v["name"] == "erin"
    });
    assert!(!dave.has_seen(|v| v["event"] == "disconnected"));
    let online = sample(&scrape(metrics), "feige_sessions_online");
    assert_eq!(online, 18.0);
}

#[test]
fn std_classic_users_cannot_crowd_out_native_ones() {
    classic_users_cannot_crowd_out_native_ones("feige");
}

#[test]
fn smol_classic_users_cannot_crowd_out_native_ones() {
    classic_users_cannot_crowd_out_native_ones("feige-smol");
}

/// A TCP connection from `ip` to `to` that gives up after a second (a full backlog, say).
fn try_connect(ip: &str, to: SocketAddr) -> Option<TcpStream> {
    let ip: IpAddr = ip.parse().ok()?;
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).ok()?;
    socket.bind(&SockAddr::from(SocketAddr::new(ip, 0))).ok()?;
    socket
        .connect_timeout(&SockAddr::from(to), Duration::from_secs(1))
        .ok()?;
    Some(socket.into())
}

/// Hundreds of idle connections from one address, on a server with only 64 descriptors, while a
/// user from another address (and network: the neighbours of a /24 share its budget) logs in.
fn idle_connections_cannot_take_every_descriptor(binary: &str) {
    let _alone = alone();
    let binary = binary_path(binary);
    let script = r#"ulimit -n 64 && exec "$0" server --json --udp 127.0.0.1:0 --tcp 127.0.0.1:0"#;
    let binary_arg = binary.to_str().expect("a UTF-8 path");
    let mut server = Proc::spawn("server", "sh".as_ref(), &["-c", script, binary_arg]);
    let listening = server.next_json();
    let addr = |key: &str| -> SocketAddr {
        listening[key]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("an address")
    };
    let (udp, tcp) = (addr("udp"), addr("tcp"));
    let idle: Vec<TcpStream> = (0..300)
        .filter_map(|_| try_connect("127.0.5.8", tcp))
        .collect();
    assert!(!idle.is_empty(), "the attacker got no connection at all");
    let carol = start_chat(&binary, "carol", udp);
    assert_eq!(carol.logged_in["event"], "logged_in");
    drop(idle);
}

#[test]
fn std_idle_connections_cannot_take_every_descriptor() {
    idle_connections_cannot_take_every_descriptor("feige");
}

#[test]
fn smol_idle_connections_cannot_take_every_descriptor() {
    idle_connections_cannot_take_every_descriptor("feige-smol");
}

/// Seven addresses of one /24 ask for more logins than the network's share: the rest are
/// refused, and a user from another network logs in.
fn one_network_cannot_hold_every_pending_slot(binary: &str) {
    let _alone = alone();
    let binary = binary_path(binary);
    let server = start_server_with(&binary, "127.0.0.1", &["--metrics"], true);
    let metrics = server.metrics.expect("--metrics");
    let floods: Vec<_> = (1..=7)
        .map(|host| {
            let udp = server.udp;
            thread::spawn(move || {
                let flooder = RawUdp::bind(&format!("127.0.1.{host}"));
                let mut refused = 0;
                for i in 0..5_500 {
                    let login = format!("login,h{host}-{i},{}", flooder.local());
                    flooder.send(udp, login.as_bytes());
                    // Paced by the answers, so the socket buffers never overflow.
                    if let Some((answer, _)) = flooder.recv(Duration::from_secs(2)) {
                        if answer == b"Reject,rate-limited" {
                            refused += 1;
                        }
                    }
                }
                refused
            })
        })
        .collect();
    let refused: usize = floods.into_iter().map(|f| f.join().unwrap()).sum();
    assert!(refused > 0, "one network got more than its share");
    let pending = sample(&scrape(metrics), "feige_logins_pending");
    assert!(pending <= 32_768.0, "{pending} logins pending from one /24");
    let frank = start_chat(&binary, "frank", server.udp);
    assert_eq!(frank.logged_in["event"], "logged_in");
}

#[test]
fn std_one_network_cannot_hold_every_pending_slot() {
    one_network_cannot_hold_every_pending_slot("feige");
}

#[test]
fn smol_one_network_cannot_hold_every_pending_slot() {
    one_network_cannot_hold_every_pending_slot("feige-smol");
}

/// Logins withdrawn at once, thousands of times, and a flood of 64 KiB datagrams: the timers
/// follow what is live, a withdrawal is no spoof, and the server goes on serving.
fn loops_and_floods_leave_nothing_behind(binary: &str) {
    let _alone = alone();
    let binary = binary_path(binary);
    let server = start_server_with(&binary, "127.0.0.1", &["--metrics"], true);
    let metrics = server.metrics.expect("--metrics");
    let client = RawUdp::bind("127.0.0.1");
    for i in 0..2_000 {
        let name = format!("loop{i}");
        assert!(client.login(server.udp, &name).starts_with("Accept,"));
        client.send(
            server.udp,
            format!("logout,{name},{}", client.local()).as_bytes(),
        );
    }
    wait_metric(metrics, "feige_logins_pending", |v| v == 0.0);
    let text = scrape(metrics);
    let timers = sample(&text, "feige_timers");
    assert!(
        timers <= 16.0,
        "{timers} timers after 2,000 withdrawn logins"
    );
    assert_eq!(sample(&text, "feige_logouts_spoofed_total"), 0.0, "{text}");

    let flooder = RawUdp::bind("127.0.0.9");
    let big = vec![b'x'; 64_000];
    for _ in 0..2_000 {
        let _ = flooder.socket.send_to(&big, server.udp);
    }
    wait_metric(metrics, "feige_datagrams_malformed_total", |v| v > 0.0);
    let gina = start_chat(&binary, "gina", server.udp);
    assert_eq!(gina.logged_in["event"], "logged_in");
}

#[test]
fn std_loops_and_floods_leave_nothing_behind() {
    loops_and_floods_leave_nothing_behind("feige");
}

#[test]
fn smol_loops_and_floods_leave_nothing_behind() {
    loops_and_floods_leave_nothing_behind("feige-smol");
}

/// With an output bound smaller than the snapshot, a newcomer still gets the whole snapshot and
/// stays: the bound is for what a session fails to read, not for what it must be told.
fn a_large_snapshot_is_no_slow_consumer(binary: &str) {
    let _alone = alone();
    let binary = binary_path(binary);
    let server = start_server_with(&binary, "127.0.0.1", &["--max-queued-bytes", "1024"], true);
    let mut online = Vec::new();
    for i in 0..60 {
        let name = format!("member-with-a-long-name-{i}");
        let (udp, mut tcp) = raw_login("127.0.0.1", server.udp, &name);
        assert!(tcp.read_line().is_some_and(|l| l.ends_with(";end")));
        online.push((udp, tcp));
    }
    let mut zed = start_chat(&binary, "zed", server.udp);
    assert_eq!(zed.initial_names().len(), 61);
    let _yan = start_chat(&binary, "yan", server.udp);
    zed.wait_for("yan joining", |v| {
        v["event"] == "joined" && v["name"] == "yan"
    });
    assert!(!zed.has_seen(|v| v["event"] == "disconnected"));
    drop(online);
}

#[test]
fn std_a_large_snapshot_is_no_slow_consumer() {
    a_large_snapshot_is_no_slow_consumer("feige");
}

#[test]
fn smol_a_large_snapshot_is_no_slow_consumer() {
    a_large_snapshot_is_no_slow_consumer("feige-smol");
}

/// A burst of joins comes faster than rounds of writes go, and feige-smol holds them and sends
/// them in rounds. With an output bound smaller than the burst, sessions that keep reading are
/// never dropped as slow consumers: each gets every join, once. (feige-std writes each session
/// from a thread of its own: under a 1 KiB bound a writer thread not scheduled for two turns
/// among hundreds looks slow, so it is not held to this; its turn rule has a unit test,
/// `conn::tests::a_turn_larger_than_the_bound_is_no_overflow`.)
fn a_burst_of_joins_under_a_small_bound_drops_no_reader(binary: &str) {
    const LISTENERS: usize = 20;
    const BURST: usize = 150;
    let _alone = alone();
    let binary = binary_path(binary);
    let server = start_server_with(&binary, "127.0.0.1", &["--max-queued-bytes", "1024"], true);
    let mut listeners = Vec::new();
    for i in 0..LISTENERS {
        let (udp, mut tcp) = raw_login("127.0.0.1", server.udp, &format!("listener-{i}"));
        assert!(tcp.read_line().is_some_and(|l| l.ends_with(";end")));
        // The burst's names this listener is told of, until it has them all or its session ends
        // (a dropped slow consumer) or goes quiet.
        listeners.push(thread::spawn(move || {
            let _udp = udp;
            let mut told = BTreeSet::new();
            while told.len() < BURST {
                let Some(line) = tcp.read_line() else { break };
                if let Some(entry) = line.strip_prefix("login,") {
                    let name = entry.split(',').next().unwrap_or_default();
                    if name.starts_with("burst-") {
                        assert!(told.insert(name.to_owned()), "{name} told twice");
                    }
                }
            }
            told
        }));
    }
    // Every login datagram first, then every claim at once: the joins reach the server in a few
    // turns, as in a storm. Eight source addresses, so that no address holds more unclaimed
    // connections than it may.
    let source = |i: usize| format!("127.0.0.{}", 10 + i % 8);
    let pending: Vec<(RawUdp, u16)> = (0..BURST)
        .map(|i| {
            let udp = RawUdp::bind(&source(i));
            let port = udp.accept_port(server.udp, &format!("burst-{i}"));
            (udp, port)
        })
        .collect();
    let burst: Vec<(RawUdp, RawTcp)> = pending
        .into_iter()
        .enumerate()
        .map(|(i, (udp, port))| {
            let to = SocketAddr::new(server.udp.ip(), port);
            let tcp = RawTcp::claim(&source(i), to, &format!("burst-{i}"), &udp);
            (udp, tcp)
        })
        .collect();
    let everyone: BTreeSet<String> = (0..BURST).map(|i| format!("burst-{i}")).collect();
    for (i, reader) in listeners.into_iter().enumerate() {
        let told = reader.join().expect("a reader thread");
        assert_eq!(told, everyone, "the joins told to listener-{i}");
    }
    drop(burst);
}

#[test]
fn smol_a_burst_of_joins_under_a_small_bound_drops_no_reader() {
    a_burst_of_joins_under_a_small_bound_drops_no_reader("feige-smol");
}
