//! Peer-to-peer chat: sending (stop-and-wait, retransmission, failure) and receiving (source
//! checks, acks, duplicates, sessions).

use super::*;
use crate::client::{ClientStats, FailReason, MessageId, SendError};
use crate::wire::{max_text_len, MAX_CHAT_DATAGRAM};

const SID: &str = "0123456789abcdef";
const BOB_SID: u64 = 0xb0b;

fn sent(to: &str, id: u64) -> ClientEvent {
    ClientEvent::Sent {
        to: name(to),
        id: MessageId(id),
    }
}

fn delivered(to: &str, id: u64) -> ClientEvent {
    ClientEvent::Delivered {
        to: name(to),
        id: MessageId(id),
        encrypted: true,
    }
}

fn failed(to: &str, id: u64, reason: FailReason) -> ClientEvent {
    ClientEvent::Failed {
        to: name(to),
        id: MessageId(id),
        reason,
    }
}

fn shown(from: &str, text: &str) -> ClientEvent {
    ClientEvent::Message {
        from: name(from),
        text: text.to_owned(),
        encrypted: true,
    }
}

#[test]
fn sent_then_delivered() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    let id = rig
        .client
        .send_message(rig.now, "bob", "hi, bob\nbye")
        .unwrap();
    assert_eq!(id, MessageId(1));
    assert_eq!(
        rig.datagrams(),
        [(addr(BOB), format!("msg,alice,{SID},1,hi, bob\nbye"))]
    );
    assert_eq!(rig.events(), [sent("bob", 1)]);
    rig.peer_datagram(BOB, &ack("bob", OUR_SID, 1));
    assert_eq!(rig.events(), [delivered("bob", 1)]);
    // A second ack for it matches nothing any more.
    rig.peer_datagram(BOB, &ack("bob", OUR_SID, 1));
    assert!(rig.events().is_empty());
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            stray_acks: 1,
            ..Default::default()
        }
    );
    // No retransmission after delivery.
    rig.advance(Duration::from_secs(19));
    assert!(rig
        .transmits()
        .iter()
        .all(|t| !matches!(t, ClientTransmit::Datagram { .. })));
}

#[test]
fn retransmits_with_doubling_waits_then_fails_and_the_next_goes() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.client.send_message(rig.now, "bob", "one").unwrap();
    rig.client.send_message(rig.now, "bob", "two").unwrap();
    let mut sent_at = Vec::new();
    let mut failed_at = None;
    let first = format!("msg,alice,{SID},1,one");
    loop {
        for event in rig.events() {
            if event == failed("bob", 1, FailReason::Timeout) {
                failed_at = Some(rig.elapsed());
            } else {
                assert!(
                    event == sent("bob", 1) || event == sent("bob", 2),
                    "{event:?}"
                );
            }
        }
        for (to, data) in rig.datagrams() {
            assert_eq!(to, addr(BOB));
            if data == first {
                sent_at.push(rig.elapsed());
            } else {
                assert_eq!(data, format!("msg,alice,{SID},2,two"));
                assert_eq!(Some(rig.elapsed()), failed_at);
                assert_eq!(
                    sent_at,
                    [0, 300, 900, 2100, 4500, 9300].map(ms),
                    "six tries of the first"
                );
                assert_eq!(rig.elapsed(), ms(18_900));
                return;
            }
        }
        // An early call changes nothing.
        rig.client.handle_timeout(rig.now);
        assert!(rig.transmits().is_empty());
        rig.advance(ms(100));
    }
}

#[test]
fn one_message_in_flight_per_peer_in_order() {
    let mut rig = Rig::online(&[("bob", BOB), ("小明", CAROL)]);
    for text in ["a", "b", "c"] {
        rig.client.send_message(rig.now, "bob", text).unwrap();
    }
    let to_carol = rig.client.send_message(rig.now, "小明", "你好").unwrap();
    assert_eq!(to_carol, MessageId(4));
    assert_eq!(
        rig.datagrams(),
        [
            (addr(BOB), format!("msg,alice,{SID},1,a")),
            (addr(CAROL), format!("msg,alice,{SID},1,你好")),
        ]
    );
    assert_eq!(rig.events(), [sent("bob", 1), sent("小明", 4)]);
    // An ack for a queued seq does not count.
    rig.peer_datagram(BOB, &ack("bob", OUR_SID, 2));
    assert!(rig.datagrams().is_empty());
    rig.peer_datagram(BOB, &ack("bob", OUR_SID, 1));
    assert_eq!(
        rig.datagrams(),
        [(addr(BOB), format!("msg,alice,{SID},2,b"))]
    );
    assert_eq!(rig.events(), [delivered("bob", 1), sent("bob", 2)]);
    rig.peer_datagram(BOB, &ack("bob", OUR_SID, 2));
    assert_eq!(
        rig.datagrams(),
        [(addr(BOB), format!("msg,alice,{SID},3,c"))]
    );
    assert_eq!(rig.events(), [delivered("bob", 2), sent("bob", 3)]);
    assert_eq!(rig.client.stats().stray_acks, 1);
}

#[test]
fn a_peer_leaving_fails_its_messages_at_once_in_order() {
    let mut rig = Rig::online(&[("bob", BOB), ("小明", CAROL)]);
    for text in ["a", "b", "c"] {
        rig.client.send_message(rig.now, "bob", text).unwrap();
    }
    rig.client.send_message(rig.now, "小明", "x").unwrap();
    rig.transmits();
    rig.events();
    rig.line(&format!("logout,bob,{BOB}"));
    assert_eq!(
        rig.events(),
        [
            ClientEvent::Left(entry("bob", BOB)),
            failed("bob", 1, FailReason::PeerOffline),
            failed("bob", 2, FailReason::PeerOffline),
            failed("bob", 3, FailReason::PeerOffline),
        ]
    );
    // Only the message to 小明 is still retransmitted.
    rig.advance(ms(300));
    assert_eq!(
        rig.datagrams(),
        [(addr(CAROL), format!("msg,alice,{SID},1,x"))]
    );
    // Bob comes back: our seq to him goes on (never reused within our session).
    rig.line(&format!("login,bob,{BOB}"));
    rig.client.send_message(rig.now, "bob", "again").unwrap();
    assert_eq!(
        rig.datagrams(),
        [(addr(BOB), format!("msg,alice,{SID},4,again"))]
    );
}

#[test]
fn acks_are_checked_like_messages() {
    let mut rig = Rig::online(&[("bob", BOB), ("小明", CAROL)]);
    rig.client.send_message(rig.now, "bob", "hi").unwrap();
    rig.events();
    rig.peer_datagram(CAROL, &ack("bob", OUR_SID, 1));
    rig.peer_datagram(BOB, &ack("carol", OUR_SID, 1));
    rig.peer_datagram(BOB, &ack("小明", OUR_SID, 1));
    rig.peer_datagram(BOB, &ack("bob", OUR_SID + 1, 1));
    rig.peer_datagram(BOB, &ack("bob", OUR_SID, 2));
    assert!(rig.events().is_empty());
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            wrong_source: 2,
            unknown_sender: 1,
            stray_acks: 2,
            ..Default::default()
        }
    );
    // The ack echoing our id in upper case still matches.
    rig.peer_datagram(BOB, format!("ack,bob,{},1", SID.to_uppercase()).as_bytes());
    assert_eq!(rig.events(), [delivered("bob", 1)]);
}

#[test]
fn received_messages_are_acked_and_shown() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.peer_datagram(BOB, "msg,bob,0000000000000B0B,1,你好, alice".as_bytes());
    assert_eq!(
        rig.datagrams(),
        [(addr(BOB), "ack,alice,0000000000000B0B,1".to_owned())]
    );
    assert_eq!(rig.events(), [shown("bob", "你好, alice")]);
}

#[test]
fn messages_from_the_wrong_source_or_unknown_senders_are_dropped() {
    let mut rig = Rig::online(&[("bob", BOB), ("小明", CAROL)]);
    rig.peer_datagram(CAROL, &msg("bob", BOB_SID, 1, "forged"));
    rig.peer_datagram("198.51.100.7:5001", &msg("bob", BOB_SID, 1, "forged"));
    rig.peer_datagram(BOB, &msg("mallory", 1, 1, "who?"));
    rig.peer_datagram(OBSERVED, &msg("alice", OUR_SID, 1, "me?"));
    assert!(rig.transmits().is_empty());
    assert!(rig.events().is_empty());
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            wrong_source: 2,
            unknown_sender: 2,
            ..Default::default()
        }
    );
    // The real one still gets in afterwards.
    rig.peer_datagram(BOB, &msg("bob", BOB_SID, 1, "real"));
    assert_eq!(rig.events(), [shown("bob", "real")]);
}

#[test]
fn a_message_before_the_senders_login_line_gets_in_on_retransmission() {
    let mut rig = Rig::online(&[]);
    rig.peer_datagram(BOB, &msg("bob", BOB_SID, 1, "early"));
    assert!(rig.transmits().is_empty() && rig.events().is_empty());
    rig.line(&format!("login,bob,{BOB}"));
    rig.events();
    rig.peer_datagram(BOB, &msg("bob", BOB_SID, 1, "early"));
    assert_eq!(rig.events(), [shown("bob", "early")]);
    assert_eq!(rig.client.stats().unknown_sender, 1);
}

#[test]
fn duplicates_are_acked_but_shown_once() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    for _ in 0..3 {
        rig.peer_datagram(BOB, &msg("bob", BOB_SID, 1, "once"));
    }
    rig.peer_datagram(BOB, &msg("bob", BOB_SID, 3, "three"));
    rig.peer_datagram(BOB, &msg("bob", BOB_SID, 2, "late two"));
    let acks: Vec<String> = rig.datagrams().into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        acks,
        ["1", "1", "1", "3", "2"].map(|seq| format!("ack,alice,0000000000000b0b,{seq}"))
    );
    assert_eq!(rig.events(), [shown("bob", "once"), shown("bob", "three")]);
    assert_eq!(rig.client.stats().duplicates, 3);
}

#[test]
fn a_new_session_id_is_a_new_stream() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.peer_datagram(BOB, &msg("bob", BOB_SID, 5, "old session"));
    rig.peer_datagram(BOB, &msg("bob", BOB_SID + 1, 1, "new session"));
    rig.peer_datagram(BOB, &msg("bob", BOB_SID, 5, "old session"));
    assert_eq!(
        rig.events(),
        [shown("bob", "old session"), shown("bob", "new session")]
    );
    assert_eq!(rig.client.stats().duplicates, 1);
}

#[test]
fn a_late_datagram_of_a_replaced_session_is_not_shown_again() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.peer_datagram(BOB, &msg("bob", BOB_SID, 1, "hello"));
    // Bob's session is replaced from the same endpoint: logout, then login.
    rig.line(&format!("logout,bob,{BOB}"));
    rig.line(&format!("login,bob,{BOB}"));
    rig.peer_datagram(BOB, &msg("bob", BOB_SID, 1, "hello"));
    rig.peer_datagram(BOB, &msg("bob", BOB_SID + 1, 1, "fresh"));
    assert_eq!(
        rig.events(),
        [
            shown("bob", "hello"),
            ClientEvent::Left(entry("bob", BOB)),
            ClientEvent::Joined(entry("bob", BOB)),
            shown("bob", "fresh"),
        ]
    );
}

#[test]
fn too_long_is_exact_for_the_seq_the_message_gets() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    let max1 = max_text_len(&name("alice"), 1);
    assert_eq!(
        rig.client
            .send_message(rig.now, "bob", &"x".repeat(max1 + 1)),
        Err(SendError::TooLong { max: max1 })
    );
    rig.client
        .send_message(rig.now, "bob", &"x".repeat(max1))
        .unwrap();
    let [(_, datagram)] = rig.datagrams().try_into().unwrap();
    assert_eq!(datagram.len(), MAX_CHAT_DATAGRAM);
    // Seqs 2..=9 queue behind it; seq 10 takes one more digit, so one byte less of text.
    for _ in 2..=9 {
        rig.client
            .send_message(rig.now, "bob", &"y".repeat(max1))
            .unwrap();
    }
    let max10 = max_text_len(&name("alice"), 10);
    assert_eq!(max10, max1 - 1);
    assert_eq!(
        rig.client.send_message(rig.now, "bob", &"z".repeat(max1)),
        Err(SendError::TooLong { max: max10 })
    );
    // Multi-byte text is measured in bytes.
    let chinese = "字".repeat(max10 / 3) + &"z".repeat(max10 % 3);
    assert_eq!(chinese.len(), max10);
    assert_eq!(
        rig.client.send_message(rig.now, "bob", &chinese),
        Ok(MessageId(10))
    );
}

#[test]
fn send_errors_come_at_once() {
    let mut rig = Rig::new();
    assert_eq!(
        rig.client.send_message(rig.now, "bob", "hi"),
        Err(SendError::NotLoggedIn)
    );
    let mut cfg = config();
    cfg.max_queued_per_peer = 2;
    let mut rig = Rig::online_with(cfg, &[("bob", BOB)]);
    let send = |rig: &mut Rig, to: &str, text: &str| rig.client.send_message(rig.now, to, text);
    assert_eq!(send(&mut rig, "alice", "hi"), Err(SendError::ToSelf));
    assert_eq!(send(&mut rig, "carol", "hi"), Err(SendError::NoSuchUser));
    assert_eq!(send(&mut rig, "bob", ""), Err(SendError::EmptyText));
    // One in flight and two waiting; the next is refused.
    for id in 1..=3 {
        assert_eq!(send(&mut rig, "bob", "hi"), Ok(MessageId(id)));
    }
    assert_eq!(send(&mut rig, "bob", "hi"), Err(SendError::QueueFull));
    // Refusals use up no id.
    rig.peer_datagram(BOB, &ack("bob", OUR_SID, 1));
    assert_eq!(send(&mut rig, "bob", "hi"), Ok(MessageId(4)));
}

#[test]
fn malformed_peer_datagrams_are_counted() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.peer_datagram(BOB, b"msg,bob,123,1,hi");
    rig.peer_datagram(BOB, b"\xff\xfe");
    rig.peer_datagram(BOB, &[b'x'; MAX_CHAT_DATAGRAM + 1]);
    rig.server_datagram(b"Accept");
    assert_eq!(rig.client.stats().malformed, 4);
    assert!(rig.transmits().is_empty() && rig.events().is_empty());
}

#[test]
fn retransmit_deadlines_come_from_a_queue() {
    let peers: Vec<(String, String)> = (0..500)
        .map(|i| {
            (
                format!("p{i}"),
                format!("10.1.{}.{}:7000", i / 250, i % 250 + 1),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = peers
        .iter()
        .map(|(n, e)| (n.as_str(), e.as_str()))
        .collect();
    let mut rig = Rig::online(&refs);
    for (i, (peer, _)) in peers.iter().enumerate() {
        rig.now = rig.t0 + ms(i as u64);
        rig.client.send_message(rig.now, peer, "hi").unwrap();
    }
    rig.transmits();
    assert_eq!(rig.client.poll_timeout(), Some(rig.t0 + ms(300)));
    rig.now = rig.t0 + ms(300);
    rig.client.handle_timeout(rig.now);
    assert_eq!(
        rig.datagrams(),
        [(addr("10.1.0.1:7000"), format!("msg,alice,{SID},1,hi"))]
    );
    assert_eq!(rig.client.poll_timeout(), Some(rig.t0 + ms(301)));
}
