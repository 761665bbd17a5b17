//! Online: the list kept from the server's lines, keepalive, silence, disconnects, logout.

use super::*;
use crate::client::{ClientState, DisconnectReason, FailReason, MessageId};
use crate::wire::Dialect;

fn listed(rig: &Rig) -> Vec<UserEntry> {
    rig.client.users().cloned().collect()
}

#[test]
fn joins_and_leaves_keep_the_list() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.line(&format!("login,小明,{CAROL}"));
    assert_eq!(rig.events(), [ClientEvent::Joined(entry("小明", CAROL))]);
    rig.line(&format!("logout,bob,{BOB}"));
    assert_eq!(rig.events(), [ClientEvent::Left(entry("bob", BOB))]);
    assert_eq!(
        listed(&rig),
        [entry("alice", OBSERVED), entry("小明", CAROL)]
    );
    // A logout of someone not listed changes nothing.
    rig.line(&format!("logout,bob,{BOB}"));
    assert!(rig.events().is_empty());
    assert_eq!(rig.client.state(), ClientState::Online);
    assert_eq!(rig.client.stats(), Default::default());
}

#[test]
fn a_login_for_a_listed_name_replaces_it_only_if_the_endpoint_differs() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.line(&format!("login,bob,{BOB}"));
    assert!(rig.events().is_empty());
    rig.line("login,bob,198.51.100.7:5001");
    assert_eq!(
        rig.events(),
        [
            ClientEvent::Left(entry("bob", BOB)),
            ClientEvent::Joined(entry("bob", "198.51.100.7:5001"))
        ]
    );
    assert_eq!(
        listed(&rig),
        [entry("alice", OBSERVED), entry("bob", "198.51.100.7:5001")]
    );
}

#[test]
fn mapped_ipv6_endpoints_are_stored_canonical() {
    let mut rig = Rig::online(&[]);
    rig.line("login,bob,[::ffff:198.51.100.7]:5000");
    assert_eq!(rig.events(), [ClientEvent::Joined(entry("bob", BOB))]);
}

#[test]
fn dialect_lines_are_recorded_per_user() {
    let mut rig = Rig::online(&[("老王", BOB)]);
    assert_eq!(rig.client.dialect("老王"), None);
    rig.line("dialect,老王,classic");
    rig.line("dialect,nobody,classic");
    assert_eq!(rig.client.dialect("老王"), Some(Dialect::Classic));
    assert_eq!(rig.client.dialect("nobody"), None);
    assert!(rig.events().is_empty());
    assert_eq!(rig.client.state(), ClientState::Online);
}

/// The events are exactly one `reconnecting` for the first attempt, whatever its wait.
pub(super) fn reconnecting_once(events: &[ClientEvent]) -> bool {
    matches!(events, [ClientEvent::Reconnecting { attempt: 1, .. }])
}

#[test]
fn error_lines_lose_the_link_but_replaced_ends_the_client() {
    for line in ["error,idle-timeout", "error,shutdown", "error,bad-line"] {
        let mut rig = Rig::online(&[("bob", BOB)]);
        rig.line(line);
        let events = rig.events();
        assert!(reconnecting_once(&events), "{line}: {events:?}");
        assert_eq!(rig.transmits(), [ClientTransmit::Close]);
        assert_eq!(rig.client.state(), ClientState::Reconnecting);
        // The list stays as it was while the server is away.
        assert_eq!(rig.client.users().count(), 2);
        assert!(rig.client.me().is_some());
    }
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.line("error,replaced");
    assert_eq!(
        rig.events(),
        [ClientEvent::Disconnected(DisconnectReason::Replaced)]
    );
    assert_eq!(rig.transmits(), [ClientTransmit::Close]);
    assert_eq!(rig.client.state(), ClientState::Closed);
    assert_eq!(rig.client.users().count(), 0);
    assert_eq!(rig.client.me(), None);
}

#[test]
fn bad_lines_are_protocol_errors() {
    // A valid line, but longer than the limit.
    let long = format!("login,{},{BOB}", "x".repeat(30));
    for line in [
        "hello",
        "login,bob",
        "alice,1.2.3.4:5;end",
        &format!("login,alice,{BOB}"),
        &format!("logout,alice,{OBSERVED}"),
        &long,
    ] {
        let mut cfg = config();
        cfg.max_server_line = 50;
        // A key line is longer than this limit: bob announced none.
        let mut rig = Rig::online_unkeyed(cfg, &[("bob", BOB)]);
        rig.line(line);
        let events = rig.events();
        assert!(reconnecting_once(&events), "{line}: {events:?}");
        assert_eq!(rig.transmits(), [ClientTransmit::Close]);
    }
}

#[test]
fn lines_before_a_bad_one_still_count() {
    let mut rig = Rig::online(&[]);
    rig.client.handle_tcp_bytes(
        rig.now,
        format!("login,bob,{BOB}\ngarbage\nlogin,x,{CAROL}\n").as_bytes(),
    );
    let events = rig.events();
    assert_eq!(events[0], ClientEvent::Joined(entry("bob", BOB)));
    assert!(reconnecting_once(&events[1..]), "{events:?}");
    // The line after the bad one was not read.
    assert_eq!(rig.client.users().count(), 2);
}

#[test]
fn connection_lost() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.client.handle_tcp_closed(rig.now);
    let events = rig.events();
    let Some(ClientEvent::Reconnecting { attempt: 1, in_ms }) = events.first() else {
        panic!("{events:?}");
    };
    // The transport knows the connection is gone; the next login is armed.
    assert!(rig.transmits().is_empty());
    assert_eq!(
        rig.client.poll_timeout(),
        Some(rig.now + Duration::from_millis(*in_ms))
    );
}

#[test]
fn pings_every_interval_and_a_silent_server_is_detected() {
    let mut rig = Rig::online(&[]);
    let mut pings = Vec::new();
    while rig.client.state() == ClientState::Online {
        rig.fire_next();
        for t in rig.transmits() {
            match t {
                ClientTransmit::Send { data } => {
                    assert_eq!(&data[..], b"ping\n");
                    pings.push(rig.elapsed());
                }
                ClientTransmit::Close => assert_eq!(rig.elapsed(), Duration::from_secs(60)),
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(pings, [20, 40].map(Duration::from_secs));
    assert!(reconnecting_once(&rig.events()));
}

#[test]
fn any_line_from_the_server_resets_the_silence_timer() {
    let mut rig = Rig::online(&[]);
    rig.advance(Duration::from_secs(50));
    rig.line("pong");
    rig.advance(Duration::from_secs(59));
    assert_eq!(rig.client.state(), ClientState::Online);
    rig.advance(Duration::from_secs(1));
    assert!(reconnecting_once(&rig.events()));
    assert_eq!(rig.client.state(), ClientState::Reconnecting);
}

#[test]
fn logout_sends_the_line_closes_and_fails_what_is_unacknowledged() {
    let mut rig = Rig::online(&[("bob", BOB), ("小明", CAROL)]);
    let first = rig.send("bob", "one").unwrap();
    let second = rig.send("小明", "two").unwrap();
    let third = rig.send("bob", "three").unwrap();
    assert_eq!([first, second, third], [1, 2, 3].map(MessageId));
    assert_eq!(rig.chat().len(), 2, "one in flight to each");
    rig.wire();
    rig.transmits();
    rig.events();
    rig.client.logout(rig.now);
    assert_eq!(
        rig.transmits(),
        [
            send_line("logout,alice,192.168.1.5:40001\n"),
            ClientTransmit::Close
        ]
    );
    let failed = |to: &str, id| ClientEvent::Failed {
        to: name(to),
        id,
        reason: FailReason::LoggedOut,
    };
    assert_eq!(
        rig.events(),
        [
            failed("bob", first),
            failed("小明", second),
            failed("bob", third),
            ClientEvent::LoggedOut
        ]
    );
    assert_eq!(rig.client.poll_timeout(), None);
    assert_eq!(rig.client.state(), ClientState::Closed);
    // Everything afterwards is a harmless no-op.
    rig.client.logout(rig.now);
    rig.line(&format!("login,carol,{CAROL}"));
    rig.say("bob", &ack("bob", OUR_SID, 1));
    rig.say("bob", &msg("bob", 0xb0b, 1, "hello?"));
    rig.peer_datagram(BOB, &ack("bob", OUR_SID, 1));
    rig.client.handle_tcp_closed(rig.now);
    rig.advance(Duration::from_secs(100));
    assert!(rig.transmits().is_empty() && rig.events().is_empty());
    assert!(rig.wire().is_empty() && rig.chat().is_empty());
    assert_eq!(rig.client.stats(), Default::default());
}

#[test]
fn chat_goes_on_while_the_server_is_away() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    let id = rig.send("bob", "hi").unwrap();
    assert_eq!(rig.chat().len(), 1);
    rig.events();
    rig.intros();
    rig.client.handle_tcp_closed(rig.now);
    assert!(reconnecting_once(&rig.events()));
    // Nothing fails: the message in flight is delivered, and more goes both ways.
    rig.say("bob", &ack("bob", OUR_SID, 1));
    assert_eq!(
        rig.events(),
        [ClientEvent::Delivered {
            to: name("bob"),
            id,
            encrypted: true
        }]
    );
    let next = rig.send("bob", "still here").unwrap();
    assert_eq!(rig.chat().len(), 1);
    rig.say("bob", &msg("bob", 0xb0b, 1, "me too"));
    rig.say("bob", &ack("bob", OUR_SID, 2));
    let events = rig.events();
    assert!(events.contains(&ClientEvent::Sent {
        to: name("bob"),
        id: next
    }));
    assert!(events.contains(&ClientEvent::Message {
        from: name("bob"),
        text: "me too".into(),
        encrypted: true
    }));
    // Nothing goes to the server meanwhile: no relay, no introductions.
    assert!(rig.transmits().is_empty() && rig.intros().is_empty());
}
