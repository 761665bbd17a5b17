//! The classic dialect end to end: a faithful textbook client ([`ClassicPeer`]) against both
//! feige servers, side by side with feige's own `chat`; then `chat --classic` against a
//! textbook server stand-in ([`ClassicServer`]) and against a feige server.
//!
//! The textbook program's peers share loopback IPs (127.0.0.2, 127.0.0.3…) with nobody else, so
//! that its IP-only checks are exercised as on a real network.

use std::net::SocketAddr;
use std::path::Path;

use feige_tests::classic_peer::{send_from_fresh_socket, utf16le, ClassicPeer, ClassicServer};
use feige_tests::proc::{names, ChatProc, Pair, Proc, RawUdp};
use serde_json::Value;
use socket2::Socket;

/// Starts `chat NAME --classic --json --server SERVER` and waits for `logged_in`.
fn start_classic_chat(binary: &Path, name: &str, server: SocketAddr) -> ChatProc {
    let server = server.to_string();
    let args = [
        "chat",
        name,
        "--classic",
        "--json",
        "--ephemeral",
        "--server",
        &server,
    ];
    let mut proc = Proc::spawn(name, binary, &args);
    let logged_in = proc.wait_for("logged_in", |v| {
        assert!(
            v["event"] != "login_failed" && v["event"] != "disconnected",
            "{name} could not log in: {v}"
        );
        v["event"] == "logged_in"
    });
    assert_eq!(logged_in["name"], name, "{logged_in}");
    ChatProc { proc, logged_in }
}

fn event_is(v: &Value, event: &str, name: &str) -> bool {
    v["event"] == event && v["name"] == name
}

fn ep(chat: &ChatProc) -> SocketAddr {
    chat.endpoint().parse().expect("an endpoint")
}

/// Splits `talk,<time>,<name>,<text>` into its time, name and text.
fn talk_fields(talk: &str) -> (String, String, String) {
    let mut fields = talk.splitn(4, ',');
    let mut next = || fields.next().unwrap_or_default().to_owned();
    let (keyword, time, name, text) = (next(), next(), next(), next());
    assert_eq!(keyword, "talk", "{talk:?}");
    (time, name, text)
}

/// The binaries stamp a `talk` with the local time of day as `HH:MM:SS`.
fn assert_time_of_day(time: &str) {
    let digits: Vec<&str> = time.split(':').collect();
    let well_formed = digits.len() == 3
        && digits
            .iter()
            .all(|d| d.len() == 2 && d.bytes().all(|b| b.is_ascii_digit()));
    assert!(well_formed, "time of day {time:?} is not HH:MM:SS");
}

fn list_entries(peer_list: &[(String, String)]) -> Vec<(&str, &str)> {
    peer_list
        .iter()
        .map(|(n, e)| (n.as_str(), e.as_str()))
        .collect()
}

fn login_accept_silent_list_close(pair: &Pair) {
    let server = pair.server();
    let alice = pair.chat("alice", &server);
    let mut wang = ClassicPeer::bind("老王", "127.0.0.2");
    let outcome = wang.login(server.udp);
    // The Accept reached the declared endpoint (the only socket the peer receives on), in
    // UTF-16LE, from the server's IP; the list came unasked, listing the declared endpoint, and
    // the connection was closed after it.
    assert_eq!(outcome.accept_from.ip(), server.udp.ip());
    let declared = wang.endpoint().to_string();
    assert_eq!(
        list_entries(&outcome.entries),
        [("alice", alice.endpoint()), ("老王", declared.as_str())]
    );
    assert!(outcome.closed_after, "the list connection stays open");
    // The login left from a throw-away port, as the textbook client's does.
    assert_eq!(wang.sent_from().len(), 1);
    assert_ne!(wang.sent_from()[0], wang.endpoint());
}

fn join_and_leave_seen_both_ways(pair: &Pair) {
    let mut server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let mut wang = ClassicPeer::bind("老王", "127.0.0.2");
    wang.login(server.udp);
    let joined = alice.wait_for("老王 joined", |v| event_is(v, "joined", "老王"));
    assert_eq!(joined["endpoint"], wang.endpoint().to_string());
    server.wait_for("server: 老王 joined", |v| event_is(v, "joined", "老王"));

    let mut bob = pair.chat("bob", &server);
    assert_eq!(bob.initial_names(), ["alice", "老王", "bob"]);
    let bob_login = format!("login,bob,{}", bob.endpoint());
    wang.wait_for("bob's login", |t| t == bob_login);
    bob.send_line("/quit");
    bob.wait_event("logged_out");
    assert!(bob.wait_exit().success());
    let bob_logout = format!("logout,bob,{}", bob.endpoint());
    wang.wait_for("bob's logout", |t| t == bob_logout);

    wang.logout();
    let left = alice.wait_for("老王 left", |v| event_is(v, "left", "老王"));
    assert_eq!(left["endpoint"], wang.endpoint().to_string());
    alice.send_line("/list");
    assert_eq!(names(&alice.wait_event("users")["users"]), ["alice"]);
    // Two datagrams, each from its own throw-away port.
    let ports = wang.sent_from();
    assert!(ports[0] != ports[1] && !ports.contains(&wang.endpoint()));
}

fn messages_both_ways(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let mut wang = ClassicPeer::bind("老王", "127.0.0.2");
    wang.login(server.udp);
    alice.wait_for("老王 joined", |v| event_is(v, "joined", "老王"));

    alice.send_line("/msg 老王 hi, 老王");
    let (talk, from) = wang.wait_for("alice's talk", |t| t.starts_with("talk,"));
    let (time, name, text) = talk_fields(&talk);
    assert_time_of_day(&time);
    assert_eq!((name.as_str(), text.as_str()), ("alice", "hi, 老王"));
    assert_eq!(from, ep(&alice), "a feige client talks from its one socket");
    alice.wait_for("sent to 老王", |v| {
        v["event"] == "sent" && v["to"] == "老王"
    });

    wang.talk(ep(&alice), "9:05:07 PM", "你好, alice");
    let shown = alice.wait_for("老王's message", |v| v["event"] == "message");
    assert_eq!(
        (&shown["from"], &shown["text"]),
        (&"老王".into(), &"你好, alice".into())
    );
    // The talk was never acknowledged: nothing reached the peer after it, and alice, who has
    // since shown a later message, reported no delivery.
    assert!(wang.recv(std::time::Duration::ZERO).is_none());
    assert!(!alice.has_seen(|v| v["event"] == "delivered" || v["event"] == "failed"));
}

fn malformed_datagrams_and_early_closes_do_not_hurt(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let junk = RawUdp::bind("127.0.0.3");
    for data in [
        &b"l\0o"[..],
        &[0x6c, 0x00, 0x3d, 0xd8],
        &utf16le("login,x"),
        &utf16le("talk,1,alice,hi"),
        &utf16le("Accept,1"),
    ] {
        junk.send(server.udp, data);
    }
    // Two textbook clients that leave before reading their list: one closes, one resets.
    for (name, reset) in [("early", false), ("abrupt", true)] {
        let mut peer = ClassicPeer::bind(name, "127.0.0.3");
        peer.send(server.udp, &format!("login,{name},{}", peer.endpoint()));
        peer.wait_for("Accept", |t| t.starts_with("Accept,"));
        let stream = peer.connect(server.tcp);
        if reset {
            let socket = Socket::from(stream);
            socket
                .set_linger(Some(std::time::Duration::ZERO))
                .expect("linger 0");
            drop(socket);
        } else {
            drop(stream);
        }
    }
    // The server still serves: a textbook client and a feige client log in after all that.
    let mut wang = ClassicPeer::bind("老王", "127.0.0.2");
    let outcome = wang.login(server.udp);
    assert!(outcome.entries.iter().any(|(n, _)| n == "alice"));
    alice.wait_for("老王 joined", |v| event_is(v, "joined", "老王"));
    let mut bob = pair.chat("bob", &server);
    assert!(bob.initial_names().contains(&"老王".to_owned()));
    bob.send_line("/quit");
    bob.wait_event("logged_out");
}

fn spoofed_classic_logout_is_ignored(pair: &Pair) {
    let server = pair.server();
    let mut alice = pair.chat("alice", &server);
    let mut wang = ClassicPeer::bind("老王", "127.0.0.2");
    wang.login(server.udp);
    alice.wait_for("老王 joined", |v| event_is(v, "joined", "老王"));

    // 老王's very logout, naming its declared endpoint, but from another IP.
    let logout = format!("logout,老王,{}", wang.endpoint());
    send_from_fresh_socket("127.0.0.1".parse().expect("an IP"), server.udp, &logout);
    // Datagrams to the server's one socket are handled in order: by the time carol is served,
    // the spoof was handled, and 老王 is still listed.
    let mut carol = ClassicPeer::bind("carol", "127.0.0.3");
    let outcome = carol.login(server.udp);
    assert!(
        outcome.entries.iter().any(|(n, _)| n == "老王"),
        "{outcome:?}"
    );
    alice.wait_for("carol joined", |v| event_is(v, "joined", "carol"));
    assert!(!alice.has_seen(|v| event_is(v, "left", "老王")));

    // From 老王's IP it counts, whatever the source port.
    wang.logout();
    alice.wait_for("老王 left", |v| event_is(v, "left", "老王"));
    carol.wait_for("老王's logout", |t| t == logout);
}

/// `chat --classic` against the textbook server stand-in: list, presence, talk, logout.
fn chat_classic_on_a_textbook_server(client: &Path) {
    let mut server = ClassicServer::start("127.0.0.1");
    let mut wang = ClassicPeer::bind("老王", "127.0.0.2");
    wang.login(server.udp());

    let mut alice = start_classic_chat(client, "alice", server.udp());
    assert_eq!(alice.initial_names(), ["老王", "alice"]);
    let alice_ep = ep(&alice);
    assert_eq!(
        alice_ep.ip().to_string(),
        "127.0.0.1",
        "a routable declared IP"
    );
    assert_eq!(
        alice.logged_in["users"][0]["endpoint"],
        wang.endpoint().to_string()
    );
    // The login was UTF-16LE and declared the endpoint alice is listed at.
    let login = format!("login,alice,{alice_ep}");
    server.wait_for("alice's login", |t| t == login);
    wang.wait_for("alice's login", |t| t == login);

    // Talk both ways.
    alice.send_line("/msg 老王 hi, 老王");
    let (talk, _) = wang.wait_for("alice's talk", |t| t.starts_with("talk,"));
    let (time, name, text) = talk_fields(&talk);
    assert_time_of_day(&time);
    assert_eq!((name.as_str(), text.as_str()), ("alice", "hi, 老王"));
    alice.wait_for("sent to 老王", |v| {
        v["event"] == "sent" && v["to"] == "老王"
    });
    wang.talk(alice_ep, "21:05:07", "你好");
    let shown = alice.wait_for("老王's message", |v| v["event"] == "message");
    assert_eq!(
        (&shown["from"], &shown["text"]),
        (&"老王".into(), &"你好".into())
    );

    // Presence by datagram from the server's fresh ports.
    let mut carol = ClassicPeer::bind("carol", "127.0.0.3");
    let outcome = carol.login(server.udp());
    assert!(outcome.entries.iter().any(|(n, _)| n == "alice"));
    let joined = alice.wait_for("carol joined", |v| event_is(v, "joined", "carol"));
    assert_eq!(joined["endpoint"], carol.endpoint().to_string());
    carol.logout();
    alice.wait_for("carol left", |v| event_is(v, "left", "carol"));

    // The logout datagram reaches the server, which tells the others; alice exits 0.
    alice.send_line("/quit");
    alice.wait_event("logged_out");
    assert!(alice.wait_exit().success());
    let logout = format!("logout,alice,{alice_ep}");
    server.wait_for("alice's logout", |t| t == logout);
    wang.wait_for("alice's logout", |t| t == logout);
    assert!(!alice.has_seen(|v| v["event"] == "delivered" || v["event"] == "failed"));
    let alice_listed = format!("alice,{alice_ep}");
    assert!(!server.users().contains(&alice_listed));
}

/// `chat --classic` against a feige server, with a native feige user beside it.
fn chat_classic_on_a_feige_server(pair: &Pair) {
    let server = pair.server();
    let mut bob = pair.chat("bob", &server);
    let mut alice = start_classic_chat(pair.client(), "alice", server.udp);
    assert_eq!(alice.initial_names(), ["bob", "alice"]);
    bob.wait_for("alice joined", |v| event_is(v, "joined", "alice"));

    bob.send_line("/msg alice hi, alice");
    let shown = alice.wait_for("bob's message", |v| v["event"] == "message");
    assert_eq!(
        (&shown["from"], &shown["text"]),
        (&"bob".into(), &"hi, alice".into())
    );
    alice.send_line("/msg bob hi, bob");
    let shown = bob.wait_for("alice's message", |v| v["event"] == "message");
    assert_eq!(
        (&shown["from"], &shown["text"]),
        (&"alice".into(), &"hi, bob".into())
    );
    // bob's talk to the textbook client is in his history, as sent (nothing acknowledges it).
    bob.send_line("/history alice");
    let mine = bob.wait_event("history");
    let theirs = bob.wait_event("history");
    assert_eq!(
        (&mine["from"], &mine["text"], &mine["status"]),
        (&"bob".into(), &"hi, alice".into(), &"sent".into()),
        "{mine}"
    );
    assert!(mine["id"].is_u64(), "{mine}");
    assert_eq!(
        (&theirs["from"], &theirs["status"], &theirs["encrypted"]),
        (&"alice".into(), &"received".into(), &false.into()),
        "{theirs}"
    );

    alice.send_line("/quit");
    alice.wait_event("logged_out");
    assert!(alice.wait_exit().success());
    bob.wait_for("alice left", |v| event_is(v, "left", "alice"));
}

macro_rules! suite {
    ($module:ident, $server:literal, $client:literal) => {
        mod $module {
            fn pair() -> super::Pair {
                super::Pair::new($server, $client)
            }

            #[test]
            fn login_accept_silent_list_close() {
                super::login_accept_silent_list_close(&pair());
            }
            #[test]
            fn join_and_leave_seen_both_ways() {
                super::join_and_leave_seen_both_ways(&pair());
            }
            #[test]
            fn messages_both_ways() {
                super::messages_both_ways(&pair());
            }
            #[test]
            fn malformed_datagrams_and_early_closes_do_not_hurt() {
                super::malformed_datagrams_and_early_closes_do_not_hurt(&pair());
            }
            #[test]
            fn spoofed_classic_logout_is_ignored() {
                super::spoofed_classic_logout_is_ignored(&pair());
            }
            #[test]
            fn chat_classic_on_a_textbook_server() {
                super::chat_classic_on_a_textbook_server(pair().client());
            }
            #[test]
            fn chat_classic_on_a_feige_server() {
                super::chat_classic_on_a_feige_server(&pair());
            }
        }
    };
}

suite!(std_only, "feige", "feige");
suite!(smol_only, "feige-smol", "feige-smol");
