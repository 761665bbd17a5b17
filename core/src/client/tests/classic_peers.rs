//! A native client chatting with classic peers its feige server lists: best-effort `talk`.

use super::*;
use crate::client::{ClientState, ClientStats, MessageId, Record, SendError};
use crate::wire::max_talk_text_units;

/// Where 老王's textbook client sends from: its listed IP, a throw-away port.
const BOB_FRESH_PORT: &str = "198.51.100.7:60536";

fn sent(to: &str, id: u64) -> ClientEvent {
    ClientEvent::Sent {
        to: name(to),
        id: MessageId(id),
    }
}

fn shown(from: &str, text: &str) -> ClientEvent {
    ClientEvent::Message {
        from: name(from),
        text: text.to_owned(),
        encrypted: false,
    }
}

/// Online with 老王 (classic, at BOB, no key) and carol (native, at CAROL, with her key).
fn with_classic_peer() -> Rig {
    let mut rig = Rig::online_unkeyed(config(), &[("老王", BOB), ("carol", CAROL)]);
    rig.line("dialect,老王,classic");
    rig.key_line("carol");
    assert_eq!(
        rig.events(),
        [ClientEvent::KeyPinned {
            name: name("carol"),
            key: keys_of("carol").public()
        }]
    );
    rig
}

#[test]
fn a_talk_is_one_utf16_datagram_sent_and_never_confirmed() {
    let mut rig = with_classic_peer();
    let id = rig
        .client
        .send_message_stamped(rig.now, "老王", "hi, 老王\nbye", "21:05:07")
        .unwrap();
    assert_eq!(id, MessageId(1));
    let talk = utf16("talk,21:05:07,alice,hi, 老王\nbye");
    assert_eq!(
        rig.transmits(),
        [ClientTransmit::Datagram {
            to: addr(BOB),
            data: talk.into()
        }]
    );
    assert_eq!(rig.events(), [sent("老王", 1)]);
    // Recorded for the history, never for an outbox.
    let records: Vec<_> = rig.records.drain(..).collect();
    assert!(
        matches!(
            records.as_slice(),
            [Record::Talked { id: MessageId(1), to, text, .. }]
                if *to == name("老王") && text == "hi, 老王\nbye"
        ),
        "{records:?}"
    );
    // Nothing is retransmitted, and nothing more is reported: only keepalive goes on.
    for _ in 0..10 {
        rig.fire_next();
        assert!(rig.transmits().iter().all(|t| *t == send_line("ping\n")));
        rig.line("pong");
    }
    assert!(rig.events().is_empty());
    // Each message is its own datagram: no stop-and-wait queue.
    rig.client.send_message(rig.now, "老王", "one").unwrap();
    rig.client.send_message(rig.now, "老王", "two").unwrap();
    assert_eq!(
        rig.classic_datagrams(),
        [
            (addr(BOB), "talk,,alice,one".to_owned()),
            (addr(BOB), "talk,,alice,two".to_owned())
        ]
    );
    assert_eq!(rig.events(), [sent("老王", 2), sent("老王", 3)]);
}

#[test]
fn native_peers_still_get_reliable_msgs() {
    let mut rig = with_classic_peer();
    let id = rig
        .client
        .send_message_stamped(rig.now, "carol", "hi", "21:05:07")
        .unwrap();
    // Sealed, without the time of day, and acknowledged.
    assert_eq!(
        rig.chat(),
        [(addr(CAROL), "msg,alice,0123456789abcdef,1,hi".to_owned())]
    );
    assert!(rig.transmits().is_empty(), "nothing plain");
    rig.say("carol", &ack("carol", OUR_SID, 1));
    assert_eq!(
        rig.events(),
        [
            sent("carol", id.0),
            ClientEvent::Delivered {
                to: name("carol"),
                id,
                encrypted: true
            }
        ]
    );
}

#[test]
fn a_time_holding_a_comma_goes_out_empty() {
    let mut rig = with_classic_peer();
    rig.client
        .send_message_stamped(rig.now, "老王", "hi", "9,05")
        .unwrap();
    assert_eq!(
        rig.classic_datagrams(),
        [(addr(BOB), "talk,,alice,hi".to_owned())]
    );
}

#[test]
fn too_long_counts_utf16_units_for_the_time_given() {
    let mut rig = with_classic_peer();
    let max = max_talk_text_units("9:05:07 PM", &name("alice"));
    let fits = "字".repeat(max);
    rig.client
        .send_message_stamped(rig.now, "老王", &fits, "9:05:07 PM")
        .unwrap();
    assert_eq!(rig.transmits().len(), 1);
    let over = format!("{fits}字");
    assert_eq!(
        rig.client
            .send_message_stamped(rig.now, "老王", &over, "9:05:07 PM"),
        Err(SendError::TooLong { max })
    );
    // An astral character takes two units.
    let astral = format!("{}😀", "字".repeat(max - 1));
    assert_eq!(
        rig.client
            .send_message_stamped(rig.now, "老王", &astral, "9:05:07 PM"),
        Err(SendError::TooLong { max })
    );
    // A shorter time leaves more room.
    rig.client
        .send_message_stamped(rig.now, "老王", &over, "9:05:07")
        .unwrap();
    assert!(rig.transmits().len() == 1 && rig.client.state() == ClientState::Online);
}

#[test]
fn a_talk_from_the_listed_ip_at_any_port_is_shown_unanswered() {
    let mut rig = with_classic_peer();
    rig.peer_datagram(BOB_FRESH_PORT, &utf16("talk,9:05:07 PM,老王,你好, alice"));
    rig.peer_datagram(BOB, &utf16("talk,,老王,again"));
    assert_eq!(
        rig.events(),
        [shown("老王", "你好, alice"), shown("老王", "again")]
    );
    assert!(rig.transmits().is_empty(), "a talk is never acknowledged");
    assert_eq!(rig.client.stats(), ClientStats::default());
}

#[test]
fn talks_that_cannot_be_from_a_listed_classic_peer_are_dropped_and_counted() {
    let mut rig = with_classic_peer();
    // Another IP than 老王's.
    rig.peer_datagram("198.51.100.8:60536", &utf16("talk,1,老王,spoof"));
    // Not listed, ourselves, and a listed native user (who would send `msg`).
    rig.peer_datagram(BOB_FRESH_PORT, &utf16("talk,1,nobody,hi"));
    rig.peer_datagram(BOB_FRESH_PORT, &utf16("talk,1,alice,hi"));
    rig.peer_datagram(CAROL, &utf16("talk,1,carol,hi"));
    // Malformed UTF-16, a talk without text, and classic messages no peer sends.
    rig.peer_datagram(BOB_FRESH_PORT, &[0x74, 0x00, 0x3d, 0xd8]);
    rig.peer_datagram(BOB_FRESH_PORT, &utf16("talk,1,老王,"));
    rig.peer_datagram(BOB_FRESH_PORT, &utf16(&format!("logout,carol,{CAROL}")));
    rig.peer_datagram(BOB_FRESH_PORT, &utf16("Accept,9001"));
    assert!(rig.events().is_empty() && rig.transmits().is_empty());
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            wrong_source: 1,
            unknown_sender: 3,
            malformed: 4,
            ..ClientStats::default()
        }
    );
    assert_eq!(rig.client.users().count(), 3);
}

#[test]
fn a_peer_that_comes_back_native_is_no_longer_classic() {
    let mut rig = with_classic_peer();
    // Back from a feige client: its login line, then its key line.
    rig.join("老王", "198.51.100.7:5001");
    rig.events();
    assert_eq!(rig.client.dialect("老王"), None);
    rig.peer_datagram(BOB_FRESH_PORT, &utf16("talk,1,老王,hi"));
    assert_eq!(rig.client.stats().unknown_sender, 1);
    rig.send("老王", "hi").unwrap();
    assert_eq!(
        rig.chat(),
        [(
            addr("198.51.100.7:5001"),
            "msg,alice,0123456789abcdef,1,hi".to_owned()
        )]
    );
    assert!(rig.transmits().is_empty(), "no talk any more");
}

#[test]
fn a_talk_before_we_are_online_is_unknown() {
    let mut rig = Rig::new();
    rig.peer_datagram(BOB_FRESH_PORT, &utf16("talk,1,老王,hi"));
    rig.peer_datagram(BOB_FRESH_PORT, &utf16("talk,1,老王"));
    let stats = rig.client.stats();
    assert_eq!((stats.unknown_sender, stats.malformed), (1, 1));
}
