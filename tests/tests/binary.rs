//! The binaries, run as a user runs them: servers and chat clients as child processes speaking
//! `--json`, and the test itself as a hostile peer speaking raw protocol to the server.
//!
//! Every case takes a [`Pair`] (which binary serves, which one chats), so one suite covers each
//! transport alone and mixed: add a line to the `suite!` list at the bottom for a new pair.

use feige_tests::proc::{
    binary_path, names, restart_server, start_server, ChatProc, Pair, Proc, RawTcp, RawUdp,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::thread;

fn event_is(v: &Value, event: &str, name: &str) -> bool {
    v["event"] == event && v["name"] == name
}

fn login_and_list(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    assert_eq!(alice.initial_names(), ["alice"]);
    let endpoint: SocketAddr = alice.endpoint().parse().expect("an endpoint");
    assert_eq!(endpoint.ip().to_string(), "127.0.0.1");
    alice.send_line("/list");
    let users = alice.wait_event("users");
    assert_eq!(names(&users["users"]), ["alice"]);
    assert_eq!(users["users"][0]["endpoint"], alice.endpoint());
}

fn join_and_leave_broadcasts(pair: &Pair) {
    let mut server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let mut bob = pair.chat("bob", &server);
    assert_eq!(bob.initial_names(), ["alice", "bob"]);
    let joined = alice.wait_for("bob joined", |v| event_is(v, "joined", "bob"));
    assert_eq!(joined["endpoint"], bob.endpoint());
    server.wait_for("server: bob joined", |v| event_is(v, "joined", "bob"));

    let mut carol = pair.chat("小明", &server);
    assert_eq!(carol.initial_names(), ["alice", "bob", "小明"]);
    alice.wait_for("小明 joined", |v| event_is(v, "joined", "小明"));
    bob.wait_for("小明 joined", |v| event_is(v, "joined", "小明"));

    bob.send_line("/quit");
    bob.wait_event("logged_out");
    assert!(bob.wait_exit().success(), "exit 0 after logged_out");
    let left = alice.wait_for("bob left", |v| event_is(v, "left", "bob"));
    assert_eq!(left["endpoint"], bob.endpoint());
    carol.wait_for("bob left", |v| event_is(v, "left", "bob"));
    server.wait_for("server: bob left", |v| event_is(v, "left", "bob"));
    alice.send_line("/list");
    assert_eq!(
        names(&alice.wait_event("users")["users"]),
        ["alice", "小明"]
    );
}

fn messages_both_ways(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let mut bob = pair.chat("bob", &server);
    alice.wait_for("bob joined", |v| event_is(v, "joined", "bob"));

    exchange(
        &mut alice,
        &mut bob,
        "alice",
        "bob",
        "hello bob, commas, and all",
    );
    exchange(&mut bob, &mut alice, "bob", "alice", "你好，爱丽丝！");
    exchange(
        &mut alice,
        &mut bob,
        "alice",
        "bob",
        "second one keeps its order",
    );
}

/// `from` sends `text` to `to`: `sent`, then `message` at the receiver, then `delivered` with the
/// same id.
fn exchange(from: &mut Proc, to: &mut Proc, from_name: &str, to_name: &str, text: &str) {
    from.send_line(&format!("/msg {to_name} {text}"));
    let sent = from.wait_for("sent", |v| v["event"] == "sent" && v["to"] == to_name);
    let id = sent["id"].as_u64().expect("an integer id");
    let got = to.wait_event("message");
    assert_eq!(got["from"], from_name);
    assert_eq!(got["text"], text);
    let delivered = from.wait_event("delivered");
    assert_eq!(delivered["to"], to_name);
    assert_eq!(delivered["id"].as_u64(), Some(id));
}

fn bad_commands_are_errors(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    for bad in [
        "/msg nobody hi",
        "/frobnicate",
        "/msg alice talking to myself",
    ] {
        alice.send_line(bad);
        let error = alice.wait_event("error");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{error}"
        );
    }
    alice.send_line("/list");
    assert_eq!(names(&alice.wait_event("users")["users"]), ["alice"]);
}

fn end_of_input_logs_out(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let mut bob = pair.chat("bob", &server);
    bob.close_stdin();
    bob.wait_event("logged_out");
    assert!(bob.wait_exit().success());
    alice.wait_for("bob left", |v| event_is(v, "left", "bob"));
}

#[cfg(unix)]
fn ctrl_c_logs_out(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let mut bob = pair.chat("bob", &server);
    bob.interrupt();
    bob.wait_event("logged_out");
    assert!(bob.wait_exit().success());
    alice.wait_for("bob left", |v| event_is(v, "left", "bob"));
}

/// The server goes away twice — a graceful Ctrl-C, then `kill -9` — and comes back where it
/// was: every client says it is reconnecting, logs in again by itself, and ends with the exact
/// list (every name with the endpoint its owner was given).
#[cfg(unix)]
fn server_restart_brings_everyone_back(pair: &Pair) {
    let mut server = pair.server();
    let (udp, tcp) = (server.udp, server.tcp);
    let mut clients: Vec<ChatProc> = ["alice", "bob", "小明"]
        .iter()
        .map(|name| pair.chat(name, &server))
        .collect();
    for graceful in [true, false] {
        if graceful {
            server.interrupt();
            assert!(server.wait_exit().success(), "graceful shutdown exits 0");
        } else {
            server.kill();
        }
        for client in &mut clients {
            let away = client.wait_event("reconnecting");
            assert!(away["attempt"].as_u64() >= Some(1), "{away}");
            assert!(away["in_ms"].is_u64(), "{away}");
        }
        server = restart_server(pair.server_binary(), udp, tcp);
        let mut listed = BTreeMap::new();
        for client in &mut clients {
            let back = client.wait_event("reconnected");
            let name = back["name"].as_str().expect("a name").to_owned();
            listed.insert(name, back["endpoint"].clone());
        }
        for client in &mut clients {
            client.wait_for_list(&listed);
        }
    }
    for client in &mut clients {
        assert_eq!(
            client.seen(|v| v["event"] == "disconnected" || v["event"] == "login_failed"),
            0,
            "{} never gave up",
            client.label()
        );
    }
}

fn name_taken_fails_the_login(pair: &Pair) {
    let server = pair.server();
    let _alice = pair.chat("alice", &server);
    let udp = server.udp.to_string();
    let mut again = Proc::spawn(
        "alice again",
        pair.client(),
        &["chat", "alice", "--json", "--ephemeral", "--server", &udp],
    );
    let failed = again.wait_event("login_failed");
    assert_eq!(failed["reason"], "name-taken");
    assert!(!again.wait_exit().success());
}

fn killed_client_is_seen_leaving(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let mut bob = pair.chat("bob", &server);
    alice.wait_for("bob joined", |v| event_is(v, "joined", "bob"));
    bob.kill();
    alice.wait_for("bob left", |v| event_is(v, "left", "bob"));
    pair.assert_serves(&server, "bob");
}

fn survives_garbage_datagrams(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let raw = RawUdp::bind("127.0.0.1");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut noise = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect()
    };
    let mut garbage: Vec<Vec<u8>> = (0..200).map(|i| noise(i * 7 % 1500)).collect();
    garbage.extend([
        Vec::new(),
        b"login".to_vec(),
        b"login,".to_vec(),
        b"login,,".to_vec(),
        b"login,\xff\xfe,127.0.0.1:1".to_vec(),
        b"login,bob,not-an-endpoint".to_vec(),
        b"logout,alice".to_vec(),
        "login,a,b,c,d,e".as_bytes().to_vec(),
        [b"login,".as_slice(), &[b'x'; 60_000], b",127.0.0.1:1"].concat(),
        vec![b'\n'; 65_000],
        vec![0u8; 65_507],
    ]);
    for datagram in &garbage {
        raw.send(server.udp, datagram);
    }
    pair.assert_serves(&server, "bob");
    alice.wait_for("bob joined", |v| event_is(v, "joined", "bob"));
    alice.send_line("/list");
    assert!(names(&alice.wait_event("users")["users"]).contains(&"alice".to_owned()));
}

fn endless_tcp_line_is_refused(pair: &Pair) {
    let server = pair.server();
    let mut raw = RawTcp::connect_from("127.0.0.1", server.tcp);
    let mut writer = raw.try_clone_stream();
    let flood = thread::spawn(move || {
        use std::io::Write;
        let chunk = [b'x'; 16 << 10];
        // Up to 64 MiB, or until the server closes: either way the writer ends.
        for _ in 0..4096 {
            if writer.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    assert_eq!(raw.read_line().as_deref(), Some("error,line-too-long"));
    assert_eq!(raw.read_line(), None, "then the server closes");
    drop(raw);
    let _ = flood.join();
    pair.assert_serves(&server, "alice");
}

fn spoofed_udp_logout_is_ignored(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let spoofer = RawUdp::bind("127.0.0.1");
    let logout = format!("logout,alice,{}", alice.endpoint());
    spoofer.send(server.udp, logout.as_bytes());
    let bob = pair.chat("bob", &server);
    assert_eq!(
        bob.initial_names(),
        ["alice", "bob"],
        "alice is still online"
    );
    alice.wait_for("bob joined", |v| event_is(v, "joined", "bob"));
    assert!(!alice.has_seen(|v| v["event"] == "disconnected"));
}

fn tcp_claim_from_another_ip_is_refused(pair: &Pair) {
    let server = pair.server();
    let udp = RawUdp::bind("127.0.0.1");
    assert_eq!(udp.accept_port(server.udp, "mallory"), server.tcp.port());
    let mut tcp = RawTcp::claim("127.0.0.2", server.tcp, "mallory", &udp);
    assert_eq!(tcp.read_line().as_deref(), Some("error,ip-mismatch"));
    pair.assert_serves(&server, "alice");
}

fn ipv6(pair: &Pair) {
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    }
    let server = start_server(pair.server_binary(), "::1");
    assert!(server.udp.is_ipv6());
    let mut alice = pair.chat("alice", &server);
    assert!(
        alice.endpoint().starts_with("[::1]:"),
        "{}",
        alice.logged_in
    );
    let mut bob = pair.chat("bob", &server);
    alice.wait_for("bob joined", |v| event_is(v, "joined", "bob"));
    exchange(&mut alice, &mut bob, "alice", "bob", "over IPv6");
    exchange(&mut bob, &mut alice, "bob", "alice", "也是 IPv6");
}

fn demo_exits_zero(binary: &str) {
    let mut demo = Proc::spawn("demo", &binary_path(binary), &["demo"]);
    let status = demo.wait_exit();
    let mut output = Vec::new();
    while let Some(line) = demo.next_line(std::time::Duration::from_millis(100)) {
        output.push(line);
    }
    assert!(status.success(), "demo failed: {output:#?}");
    assert!(output.iter().any(|l| l.contains("<小明>")), "{output:#?}");
}

/// The whole suite for one (server binary, client binary) pair.
macro_rules! suite {
    ($module:ident, $server:literal, $client:literal) => {
        mod $module {
            fn pair() -> super::Pair {
                super::Pair::new($server, $client)
            }

            #[test]
            fn login_and_list() {
                super::login_and_list(&pair());
            }
            #[test]
            fn join_and_leave_broadcasts() {
                super::join_and_leave_broadcasts(&pair());
            }
            #[test]
            fn messages_both_ways() {
                super::messages_both_ways(&pair());
            }
            #[test]
            fn bad_commands_are_errors() {
                super::bad_commands_are_errors(&pair());
            }
            #[test]
            fn end_of_input_logs_out() {
                super::end_of_input_logs_out(&pair());
            }
            #[cfg(unix)]
            #[test]
            fn ctrl_c_logs_out() {
                super::ctrl_c_logs_out(&pair());
            }
            #[cfg(unix)]
            #[test]
            fn server_restart_brings_everyone_back() {
                super::server_restart_brings_everyone_back(&pair());
            }
            #[test]
            fn name_taken_fails_the_login() {
                super::name_taken_fails_the_login(&pair());
            }
            #[test]
            fn killed_client_is_seen_leaving() {
                super::killed_client_is_seen_leaving(&pair());
            }
            #[test]
            fn survives_garbage_datagrams() {
                super::survives_garbage_datagrams(&pair());
            }
            #[test]
            fn endless_tcp_line_is_refused() {
                super::endless_tcp_line_is_refused(&pair());
            }
            #[test]
            fn spoofed_udp_logout_is_ignored() {
                super::spoofed_udp_logout_is_ignored(&pair());
            }
            #[test]
            fn tcp_claim_from_another_ip_is_refused() {
                super::tcp_claim_from_another_ip_is_refused(&pair());
            }
            #[test]
            fn ipv6() {
                super::ipv6(&pair());
            }
        }
    };
}

suite!(std_only, "feige", "feige");

#[test]
fn std_demo_exits_zero() {
    demo_exits_zero("feige");
}

suite!(smol_only, "feige-smol", "feige-smol");
suite!(std_server_smol_clients, "feige", "feige-smol");
suite!(smol_server_std_clients, "feige-smol", "feige");

#[test]
fn smol_demo_exits_zero() {
    demo_exits_zero("feige-smol");
}
