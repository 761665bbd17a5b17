//! Logging in to a textbook server (classic dialect): UTF-16LE login, `Accept` from a fresh
//! port, the one-shot list, presence by datagram, `talk` with everyone, the logout datagram.

use super::*;
use crate::client::{ClientState, ClientStats, LoginFailure, MessageId};
use crate::wire::{Dialect, RejectReason};

/// The textbook server answers from fresh ports of its IP.
const SERVER_FRESH_PORT: &str = "10.0.0.1:51234";
const LOGIN: &str = "login,alice,192.168.1.5:40001";

fn classic_config() -> ClientConfig {
    ClientConfig::classic(name("alice"), addr(SERVER), addr(LOCAL))
}

/// `text` as .NET's `BinaryWriter.Write(string)` writes it (one length byte below 128).
fn list(text: &str) -> Vec<u8> {
    let mut out = vec![u8::try_from(text.len()).unwrap()];
    out.extend_from_slice(text.as_bytes());
    out
}

/// A list text of exactly 300 bytes naming bob and us first.
fn list_of_300_bytes() -> String {
    let mut text = format!("bob,{BOB};alice,{LOCAL};");
    let mut i = 0;
    // Fillers of 15 bytes each, then one entry sized to what is left (a name of 14–28 chars).
    while 297 - text.len() > 40 {
        text.push_str(&format!("f{i:02},10.0.0.9:1;"));
        i += 1;
    }
    let pad = 297 - text.len() - ",10.0.0.9:1;".len();
    text.push_str(&format!("{},10.0.0.9:1;end", "z".repeat(pad)));
    text
}

/// Accepted and connected, the list not yet read.
fn fetching() -> Rig {
    let mut rig = Rig::with(classic_config());
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16("Accept,9001"));
    rig.client.handle_connected(rig.now);
    rig.transmits();
    rig
}

/// Online on a textbook server, listed with bob (at BOB); output drained.
fn online() -> Rig {
    let mut rig = fetching();
    let text = format!("bob,{BOB};alice,{LOCAL};end");
    rig.client.handle_tcp_bytes(rig.now, &list(&text));
    rig.client.handle_tcp_closed(rig.now);
    rig.transmits();
    rig.events();
    rig
}

#[test]
fn login_is_utf16_and_retried_like_a_native_one() {
    let mut rig = Rig::with(classic_config());
    assert_eq!(rig.classic_datagrams(), [(addr(SERVER), LOGIN.to_owned())]);
    rig.fire_next();
    assert_eq!(rig.classic_datagrams(), [(addr(SERVER), LOGIN.to_owned())]);
    assert_eq!(rig.client.state(), ClientState::LoggingIn);
}

#[test]
fn accept_from_any_port_of_the_servers_ip_then_the_list_without_a_word() {
    let mut rig = Rig::with(classic_config());
    rig.transmits();
    // Not from the server's IP, and not in UTF-16LE: neither is the answer.
    rig.peer_datagram("10.0.0.2:9000", &utf16("Accept,9001"));
    rig.peer_datagram(SERVER, b"Accept,9001");
    assert_eq!(rig.client.state(), ClientState::LoggingIn);
    assert_eq!(
        (
            rig.client.stats().wrong_source,
            rig.client.stats().malformed
        ),
        (1, 1)
    );

    rig.peer_datagram(SERVER_FRESH_PORT, &utf16("Accept,9001"));
    assert_eq!(
        rig.transmits(),
        [ClientTransmit::Connect {
            to: addr("10.0.0.1:9001")
        }]
    );
    assert_eq!(rig.client.state(), ClientState::Connecting);
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16("Accept,9001"));
    rig.client.handle_connected(rig.now);
    assert!(rig.transmits().is_empty(), "a textbook client says nothing");

    // The list, split at every byte; its length is 300, so the prefix takes two bytes.
    let text = list_of_300_bytes();
    assert_eq!(text.len(), 300);
    let mut bytes = vec![0xac, 0x02];
    bytes.extend_from_slice(text.as_bytes());
    for byte in &bytes {
        assert!(rig.events().is_empty());
        rig.client
            .handle_tcp_bytes(rig.now, std::slice::from_ref(byte));
    }
    let events = rig.events();
    let [ClientEvent::LoggedIn { me, users }] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(*me, entry("alice", LOCAL));
    assert!(users.contains(&entry("bob", BOB)) && users.contains(me));
    assert_eq!(rig.transmits(), [ClientTransmit::Close]);
    // The server closing the connection after the list is its normal end.
    rig.client.handle_tcp_closed(rig.now);
    assert!(rig.events().is_empty() && rig.transmits().is_empty());
    assert_eq!(rig.client.state(), ClientState::Online);
    assert_eq!(rig.client.dialect("bob"), Some(Dialect::Classic));
    assert_eq!(rig.client.me(), Some(&entry("alice", LOCAL)));
}

#[test]
fn no_keepalive_and_no_silence_timeout() {
    let mut rig = online();
    assert_eq!(rig.client.poll_timeout(), None);
    rig.advance(Duration::from_secs(3600));
    assert!(rig.transmits().is_empty() && rig.events().is_empty());
    assert_eq!(rig.client.state(), ClientState::Online);
    // Bytes on the closed list connection mean nothing.
    rig.client.handle_tcp_bytes(rig.now, b"pong\n");
    assert_eq!(rig.client.state(), ClientState::Online);
}

#[test]
fn presence_comes_by_datagram_from_the_servers_ip() {
    let mut rig = online();
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16(&format!("login,小明,{CAROL}")));
    assert_eq!(rig.events(), [ClientEvent::Joined(entry("小明", CAROL))]);
    assert_eq!(rig.client.dialect("小明"), Some(Dialect::Classic));
    // A logout naming another endpoint than the listed one, or from another IP, is ignored.
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16("logout,小明,[2001:db8::3]:6001"));
    rig.peer_datagram("10.0.0.2:1", &utf16(&format!("logout,小明,{CAROL}")));
    // Presence naming ourselves changes nothing, nor does the logout of someone unlisted.
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16(&format!("logout,alice,{LOCAL}")));
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16(&format!("login,alice,{CAROL}")));
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16(&format!("logout,zed,{CAROL}")));
    assert!(rig.events().is_empty());
    assert_eq!(rig.client.stats().wrong_source, 2);
    assert_eq!(rig.client.state(), ClientState::Online);
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16(&format!("logout,小明,{CAROL}")));
    assert_eq!(rig.events(), [ClientEvent::Left(entry("小明", CAROL))]);
    assert_eq!(
        rig.client.users().cloned().collect::<Vec<_>>(),
        [entry("bob", BOB), entry("alice", LOCAL)]
    );
}

#[test]
fn everyone_gets_talk_and_talk_from_everyone_is_shown() {
    let mut rig = online();
    let id = rig
        .client
        .send_message_stamped(rig.now, "bob", "hi, bob", "9:05:07 PM")
        .unwrap();
    assert_eq!(
        rig.classic_datagrams(),
        [(addr(BOB), "talk,9:05:07 PM,alice,hi, bob".to_owned())]
    );
    assert_eq!(
        rig.events(),
        [ClientEvent::Sent {
            to: name("bob"),
            id
        }]
    );
    assert_eq!(id, MessageId(1));
    rig.peer_datagram("198.51.100.7:47961", &utf16("talk,21:05:07,bob,hello"));
    assert_eq!(
        rig.events(),
        [ClientEvent::Message {
            from: name("bob"),
            text: "hello".into(),
            encrypted: false
        }]
    );
    // A native `msg` means nothing on a textbook server.
    rig.peer_datagram(BOB, &msg("bob", 1, 1, "hi"));
    assert!(rig.events().is_empty() && rig.transmits().is_empty());
    assert_eq!(rig.client.stats().malformed, 1);
}

#[test]
fn logout_is_a_utf16_datagram_to_the_server() {
    let mut rig = online();
    rig.client.logout(rig.now);
    assert_eq!(
        rig.classic_datagrams(),
        [(addr(SERVER), format!("logout,alice,{LOCAL}"))]
    );
    assert_eq!(rig.events(), [ClientEvent::LoggedOut]);
    assert_eq!(rig.client.state(), ClientState::Closed);

    // Before being online too: the textbook server may already list us.
    let mut rig = fetching();
    rig.client.logout(rig.now);
    assert_eq!(
        rig.transmits(),
        [
            ClientTransmit::Datagram {
                to: addr(SERVER),
                data: utf16(&format!("logout,alice,{LOCAL}")).into()
            },
            ClientTransmit::Close
        ]
    );
    assert_eq!(rig.events(), [ClientEvent::LoggedOut]);
}

#[test]
fn presence_before_the_list_is_applied_after_it_in_order() {
    let mut rig = fetching();
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16(&format!("login,小明,{CAROL}")));
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16(&format!("logout,bob,{BOB}")));
    assert!(rig.events().is_empty());
    let text = format!("bob,{BOB};alice,{LOCAL};end");
    rig.client.handle_tcp_bytes(rig.now, &list(&text));
    assert_eq!(
        rig.events(),
        [
            ClientEvent::LoggedIn {
                me: entry("alice", LOCAL),
                users: vec![entry("bob", BOB), entry("alice", LOCAL)]
            },
            ClientEvent::Joined(entry("小明", CAROL)),
            ClientEvent::Left(entry("bob", BOB)),
        ]
    );
}

#[test]
fn a_list_that_fails_ends_the_login() {
    let cases: [(&[u8], LoginFailure); 4] = [
        // Not listed at our declared endpoint.
        (
            &list(&format!("alice,{OBSERVED};end")),
            LoginFailure::BadSnapshot,
        ),
        (&list("alice;end"), LoginFailure::BadSnapshot),
        (&list("pong"), LoginFailure::BadSnapshot),
        (&[0x80, 0x80, 0x80, 0x80, 0x80], LoginFailure::BadSnapshot),
    ];
    for (bytes, failure) in cases {
        let mut rig = fetching();
        rig.client.handle_tcp_bytes(rig.now, bytes);
        assert_eq!(
            rig.events(),
            [ClientEvent::LoginFailed(failure)],
            "{bytes:?}"
        );
        assert_eq!(rig.transmits(), [ClientTransmit::Close]);
    }
    // Announced longer than the configured bound: refused before it all arrives.
    let mut config = classic_config();
    config.max_server_line = 100;
    let mut rig = Rig::with(config);
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16("Accept,9001"));
    rig.client.handle_connected(rig.now);
    let mut bytes = vec![0xac, 0x02];
    bytes.extend_from_slice(&[b'a'; 200]);
    rig.client.handle_tcp_bytes(rig.now, &bytes);
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::BadSnapshot)]
    );
}

#[test]
fn a_connection_that_fails_or_closes_early_ends_the_login() {
    let mut rig = Rig::with(classic_config());
    rig.peer_datagram(SERVER_FRESH_PORT, &utf16("Accept,9001"));
    rig.client.handle_tcp_closed(rig.now);
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::ConnectFailed)]
    );

    let mut rig = fetching();
    rig.client
        .handle_tcp_bytes(rig.now, &list("alice,1.2.3.4:5;end")[..5]);
    rig.client.handle_tcp_closed(rig.now);
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::ConnectionLost)]
    );

    let mut rig = fetching();
    assert_eq!(
        rig.client.poll_timeout(),
        Some(rig.t0 + Duration::from_secs(60))
    );
    rig.fire_next();
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::ConnectionLost)]
    );
    assert_eq!(rig.transmits(), [ClientTransmit::Close]);
}

#[test]
fn a_feige_server_refuses_in_utf16() {
    let mut rig = Rig::with(classic_config());
    rig.transmits();
    // From another IP it is no answer at all.
    rig.peer_datagram("10.0.0.2:9000", &utf16("Reject,name-taken"));
    assert_eq!(rig.client.state(), ClientState::LoggingIn);
    rig.server_datagram(&utf16("Reject,name-taken"));
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::Rejected(
            RejectReason::NameTaken
        ))]
    );
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            malformed: 1,
            ..ClientStats::default()
        }
    );
}
