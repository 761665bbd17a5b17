//! Peer-to-peer chat, sealed end to end: sending (stop-and-wait, retransmission, failure) and
//! receiving (who may speak, acks, duplicates, sessions), through test peers that seal and open.

use super::*;
use crate::client::{ClientStats, FailReason, MessageId, SendError, Via};
use crate::wire::{max_text_len, MAX_CHAT_DATAGRAM, MAX_SEALED_PLAINTEXT};

const SID: &str = "0123456789abcdef";
const BOB_SID: u64 = 0xb0b;

pub(super) fn sent(to: &str, id: u64) -> ClientEvent {
    ClientEvent::Sent {
        to: name(to),
        id: MessageId(id),
    }
}

pub(super) fn delivered(to: &str, id: u64) -> ClientEvent {
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

pub(super) fn shown(from: &str, text: &str) -> ClientEvent {
    ClientEvent::Message {
        from: name(from),
        text: text.to_owned(),
        encrypted: true,
    }
}

#[test]
fn sent_then_delivered() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    let id = rig.send("bob", "hi, bob\nbye").unwrap();
    assert_eq!(id, MessageId(1));
    assert_eq!(
        rig.chat(),
        [(addr(BOB), format!("msg,alice,{SID},1,hi, bob\nbye"))]
    );
    assert_eq!(rig.events(), [sent("bob", 1)]);
    // Nothing went out plain, and every sealed datagram went to bob's listed endpoint.
    assert!(rig.transmits().is_empty());
    assert!(rig.wire().iter().all(|(to, _)| *to == addr(BOB)));
    rig.say("bob", &ack("bob", OUR_SID, 1));
    assert_eq!(rig.events(), [delivered("bob", 1)]);
    // A second ack for it matches nothing any more.
    rig.say("bob", &ack("bob", OUR_SID, 1));
    assert!(rig.events().is_empty());
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            stray_acks: 1,
            ..Default::default()
        }
    );
    // No retransmission after delivery: nothing sealed goes out at all.
    rig.advance(Duration::from_secs(19));
    assert!(rig.wire().is_empty() && rig.chat().is_empty());
    assert!(rig.transmits().is_empty());
}

#[test]
fn retransmits_with_doubling_waits_then_fails_and_the_next_goes() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.send("bob", "one").unwrap();
    rig.send("bob", "two").unwrap();
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
        for (to, data) in rig.chat() {
            assert_eq!(to, addr(BOB));
            if data == first {
                sent_at.push(rig.elapsed());
            } else {
                assert_eq!(data, format!("msg,alice,{SID},2,two"));
                assert_eq!(Some(rig.elapsed()), failed_at);
                assert_eq!(
                    sent_at,
                    [0, 300, 900, 2100, 4100, 6100, 8100, 10_100, 12_100, 14_100, 16_100, 18_100]
                        .map(ms),
                    "twelve tries of the first, doubling up to 2 s apart"
                );
                assert_eq!(rig.elapsed(), ms(20_100));
                return;
            }
        }
        rig.wire();
        // The keepalive `ping` after 20 s, say.
        rig.transmits();
        // An early call changes nothing.
        rig.client.handle_timeout(rig.now);
        assert!(rig.transmits().is_empty() && rig.wire().is_empty());
        rig.advance(ms(100));
    }
}

#[test]
fn a_peer_that_never_answers_fails_the_message_on_the_chat_budget() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.peer("bob").deaf = true;
    rig.send("bob", "anyone?").unwrap();
    assert_eq!(rig.events(), [sent("bob", 1)]);
    // No session ever comes up: only initiations go out, and the chat's tries start a new
    // handshake after the secure layer gave one up (9.3 s), until the chat's own budget ends.
    // After 2 s without an answer the relay is tried too, and the initiations go both ways.
    let mut initiations = Vec::new();
    loop {
        for (to, datagram) in rig.wire() {
            assert_eq!((to, datagram[0]), (addr(BOB), 0xf5), "an initiation to bob");
            initiations.push(rig.elapsed());
        }
        if rig.elapsed() == ms(20_100) {
            break;
        }
        assert!(rig.events().is_empty());
        rig.advance(ms(100));
    }
    assert_eq!(rig.events(), [failed("bob", 1, FailReason::Timeout)]);
    assert_eq!(initiations[..2], [ms(0), ms(300)]);
    assert!(
        initiations.iter().any(|&at| at > ms(9_300)),
        "{initiations:?}"
    );
    assert!(rig.chat().is_empty() && rig.peer("bob").refused.is_empty());
}

#[test]
fn one_message_in_flight_per_peer_in_order() {
    let mut rig = Rig::online(&[("bob", BOB), ("小明", CAROL)]);
    for text in ["a", "b", "c"] {
        rig.send("bob", text).unwrap();
    }
    let to_carol = rig.send("小明", "你好").unwrap();
    assert_eq!(to_carol, MessageId(4));
    assert_eq!(
        rig.chat(),
        [
            (addr(BOB), format!("msg,alice,{SID},1,a")),
            (addr(CAROL), format!("msg,alice,{SID},1,你好")),
        ]
    );
    assert_eq!(rig.events(), [sent("bob", 1), sent("小明", 4)]);
    // An ack for a queued seq does not count.
    rig.say("bob", &ack("bob", OUR_SID, 2));
    assert!(rig.chat().is_empty());
    rig.say("bob", &ack("bob", OUR_SID, 1));
    assert_eq!(rig.chat(), [(addr(BOB), format!("msg,alice,{SID},2,b"))]);
    assert_eq!(rig.events(), [delivered("bob", 1), sent("bob", 2)]);
    rig.say("bob", &ack("bob", OUR_SID, 2));
    assert_eq!(rig.chat(), [(addr(BOB), format!("msg,alice,{SID},3,c"))]);
    assert_eq!(rig.events(), [delivered("bob", 2), sent("bob", 3)]);
    assert_eq!(rig.client.stats().stray_acks, 1);
}

#[test]
fn a_peer_leaving_keeps_its_messages_queued_until_it_returns() {
    let mut rig = Rig::online(&[("bob", BOB), ("小明", CAROL)]);
    for text in ["a", "b", "c"] {
        rig.send("bob", text).unwrap();
    }
    rig.send("小明", "x").unwrap();
    rig.chat();
    rig.wire();
    rig.events();
    rig.line(&format!("logout,bob,{BOB}"));
    assert_eq!(rig.events(), [ClientEvent::Left(entry("bob", BOB))]);
    // Only the message to 小明 is still retransmitted; bob's wait.
    rig.advance(ms(300));
    assert_eq!(rig.chat(), [(addr(CAROL), format!("msg,alice,{SID},1,x"))]);
    assert!(rig.wire().iter().all(|(to, _)| *to == addr(CAROL)));
    // Written to bob while he is away: queued, and said so.
    let later = rig.send("bob", "d").unwrap();
    assert_eq!(
        rig.events(),
        [ClientEvent::Queued {
            to: name("bob"),
            id: later
        }]
    );
    assert!(rig.chat().is_empty());
    // Bob comes back (same key, so no word of it): what waited goes out in order, each with the
    // seq it was given, on a new handshake since his sessions were dropped when he left.
    rig.join("bob", BOB);
    assert_eq!(rig.events(), [ClientEvent::Joined(entry("bob", BOB))]);
    let mut shown = Vec::new();
    for (seq, text) in [(1, "a"), (2, "b"), (3, "c"), (4, "d")] {
        shown.extend(rig.chat());
        rig.say("bob", &ack("bob", OUR_SID, seq));
        assert!(shown.contains(&(addr(BOB), format!("msg,alice,{SID},{seq},{text}"))));
    }
    let delivered_ids: Vec<u64> = rig
        .events()
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Delivered { to, id, .. } if to.as_str() == "bob" => Some(id.0),
            _ => None,
        })
        .collect();
    assert_eq!(delivered_ids, [1, 2, 3, later.0]);
    // `sent` was said once for each, before bob left: not again.
    assert!(rig.peers.iter().all(|p| p.refused.is_empty()));
}

#[test]
fn acks_are_checked_like_messages() {
    let mut rig = Rig::online(&[("bob", BOB), ("小明", CAROL)]);
    rig.send("bob", "hi").unwrap();
    rig.events();
    rig.chat();
    // Trusted peers acknowledging in another's name: 小明 as bob, bob as an unlisted user.
    rig.say("小明", &ack("bob", OUR_SID, 1));
    rig.say("bob", &ack("carol", OUR_SID, 1));
    // Bob's name with another key, and bob's ack unsealed.
    let impostor = rig.add_peer("bob", other_keys("bob", 1), "203.0.113.66:5000");
    rig.say_as(impostor, &ack("bob", OUR_SID, 1));
    rig.peer_datagram(BOB, &ack("bob", OUR_SID, 1));
    // Bob himself, for another session of ours, and for a seq not in flight.
    rig.say("bob", &ack("bob", OUR_SID + 1, 1));
    rig.say("bob", &ack("bob", OUR_SID, 2));
    assert!(rig.events().is_empty());
    assert!(rig.chat().is_empty(), "an ack is never answered");
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            wrong_sender: 2,
            untrusted: 1,
            unsealed: 1,
            stray_acks: 2,
            ..Default::default()
        }
    );
    // The ack echoing our id in upper case still matches.
    rig.say(
        "bob",
        format!("ack,bob,{},1", SID.to_uppercase()).as_bytes(),
    );
    assert_eq!(rig.events(), [delivered("bob", 1)]);
}

#[test]
fn received_messages_are_acked_and_shown() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.say("bob", "msg,bob,0000000000000B0B,1,你好, alice".as_bytes());
    assert_eq!(
        rig.chat(),
        [(addr(BOB), "ack,alice,0000000000000B0B,1".to_owned())]
    );
    assert_eq!(rig.events(), [shown("bob", "你好, alice")]);
    assert!(rig.transmits().is_empty());
    assert_eq!(rig.client.stats(), ClientStats::default());
}

#[test]
fn messages_are_taken_by_their_key_never_by_their_name_or_address() {
    let mut rig = Rig::online(&[("bob", BOB), ("小明", CAROL)]);
    // Bob's name with another key, an unlisted user, and one claiming to be us.
    let impostor = rig.add_peer("bob", other_keys("bob", 1), "198.51.100.7:5001");
    rig.say_as(impostor, &msg("bob", BOB_SID, 1, "forged"));
    let mallory = rig.add_peer("mallory", keys_of("mallory"), "192.0.2.66:6666");
    rig.say_as(mallory, &msg("mallory", 1, 1, "who?"));
    let me = rig.add_peer("alice", other_keys("alice", 1), OBSERVED);
    rig.say_as(me, &msg("alice", OUR_SID, 1, "me?"));
    // 小明, trusted, writing bob's name inside; bob's msg unsealed.
    rig.say("小明", &msg("bob", BOB_SID, 1, "forged"));
    rig.peer_datagram(BOB, &msg("bob", BOB_SID, 1, "plain"));
    assert!(rig.transmits().is_empty() && rig.chat().is_empty());
    assert!(rig.events().is_empty());
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            untrusted: 3,
            wrong_sender: 1,
            unsealed: 1,
            ..Default::default()
        }
    );
    // The real one still gets in afterwards, from any address: the key proves the sender, and
    // the ack goes back where it came from (bob's NAT may map him there for us).
    rig.path_events();
    let elsewhere = addr("192.0.2.99:7777");
    rig.peer("bob").source = elsewhere;
    rig.say("bob", &msg("bob", BOB_SID, 1, "real"));
    assert_eq!(rig.events(), [shown("bob", "real")]);
    assert_eq!(
        rig.chat(),
        [(elsewhere, "ack,alice,0000000000000b0b,1".to_owned())]
    );
    assert_eq!(rig.path_events(), [path("bob", Via::Direct, elsewhere)]);
}

#[test]
fn a_message_before_the_senders_login_line_gets_in_on_retransmission() {
    let mut rig = Rig::online(&[]);
    rig.add_peer("bob", keys_of("bob"), BOB);
    rig.say("bob", &msg("bob", BOB_SID, 1, "early"));
    assert!(rig.transmits().is_empty() && rig.events().is_empty());
    assert!(
        rig.wire().is_empty(),
        "an unknown initiator is not answered"
    );
    rig.join("bob", BOB);
    assert_eq!(
        rig.events(),
        [
            ClientEvent::Joined(entry("bob", BOB)),
            ClientEvent::KeyPinned {
                name: name("bob"),
                key: keys_of("bob").public()
            }
        ]
    );
    // Bob's handshake is retried 300 ms later, now accepted, and the message comes with it.
    rig.advance(ms(300));
    assert_eq!(rig.events(), [shown("bob", "early")]);
    assert_eq!(
        rig.chat(),
        [(addr(BOB), "ack,alice,0000000000000b0b,1".to_owned())]
    );
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            untrusted: 1,
            ..Default::default()
        }
    );
}

#[test]
fn duplicates_are_acked_but_shown_once() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    // The same plaintext three times, each in a datagram of its own (as a retransmission is).
    for _ in 0..3 {
        rig.say("bob", &msg("bob", BOB_SID, 1, "once"));
    }
    rig.say("bob", &msg("bob", BOB_SID, 3, "three"));
    rig.say("bob", &msg("bob", BOB_SID, 2, "late two"));
    let acks: Vec<String> = rig.chat().into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        acks,
        ["1", "1", "1", "3", "2"].map(|seq| format!("ack,alice,0000000000000b0b,{seq}"))
    );
    assert_eq!(rig.events(), [shown("bob", "once"), shown("bob", "three")]);
    assert_eq!(rig.client.stats().duplicates, 3);
    // The very same datagram again is a replay: refused before the chat sees it, not acked.
    let (source, last) = rig.delivered.last().cloned().unwrap();
    rig.client.handle_datagram(rig.now, source, &last);
    assert!(rig.chat().is_empty() && rig.events().is_empty());
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            duplicates: 3,
            replayed: 1,
            ..Default::default()
        }
    );
}

#[test]
fn a_new_session_id_is_a_new_stream() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.say("bob", &msg("bob", BOB_SID, 5, "old session"));
    rig.say("bob", &msg("bob", BOB_SID + 1, 1, "new session"));
    rig.say("bob", &msg("bob", BOB_SID, 5, "old session"));
    assert_eq!(
        rig.events(),
        [shown("bob", "old session"), shown("bob", "new session")]
    );
    assert_eq!(rig.chat().len(), 3, "each acknowledged");
    assert_eq!(rig.client.stats().duplicates, 1);
}

#[test]
fn a_late_datagram_of_a_replaced_session_is_not_shown_again() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.say("bob", &msg("bob", BOB_SID, 1, "hello"));
    let (_, hello) = rig.delivered.last().cloned().unwrap();
    // Bob's session is replaced from the same endpoint: logout, then login (with his key).
    rig.line(&format!("logout,bob,{BOB}"));
    rig.join("bob", BOB);
    // The old datagram, late: its secure session went with bob.
    rig.peer_datagram(BOB, &hello);
    // Bob's old session goes on retransmitting on a new handshake: acked, never shown again.
    rig.peer("bob").remote.forget();
    rig.say("bob", &msg("bob", BOB_SID, 1, "hello"));
    rig.say("bob", &msg("bob", BOB_SID + 1, 1, "fresh"));
    assert_eq!(
        rig.events(),
        [
            shown("bob", "hello"),
            ClientEvent::Left(entry("bob", BOB)),
            ClientEvent::Joined(entry("bob", BOB)),
            shown("bob", "fresh"),
        ]
    );
    let acked: Vec<String> = rig.chat().into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        acked,
        [
            "ack,alice,0000000000000b0b,1",
            "ack,alice,0000000000000b0b,1",
            "ack,alice,0000000000000b0c,1"
        ]
    );
    let stats = rig.client.stats();
    assert_eq!((stats.unauthenticated, stats.duplicates), (1, 1));
}

/// The server lost bob for a while (it restarted, and we logged in again before him): we saw
/// him leave and come back, he saw nothing and goes on sealing on the session we dropped. We
/// start a new one as he is listed again, so his next message is shown at once rather than
/// refused until his rekey rule gives up on the old session.
#[test]
fn a_peer_the_server_lost_for_a_while_is_heard_at_once() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.say("bob", &msg("bob", BOB_SID, 1, "before"));
    rig.line(&format!("logout,bob,{BOB}"));
    rig.join("bob", BOB);
    rig.say("bob", &msg("bob", BOB_SID, 2, "after"));
    assert_eq!(
        rig.events(),
        [
            shown("bob", "before"),
            ClientEvent::Left(entry("bob", BOB)),
            ClientEvent::Joined(entry("bob", BOB)),
            shown("bob", "after"),
        ]
    );
    assert_eq!(rig.elapsed(), Duration::ZERO);
    assert!(
        rig.peer("bob").refused.is_empty(),
        "our handshake was taken"
    );
    let stats = rig.client.stats();
    assert_eq!((stats.unauthenticated, stats.duplicates), (0, 0));
    // A peer we held no session with is not prompted when it comes back.
    rig.wire();
    rig.join("carol", "127.0.0.1:7003");
    rig.line("logout,carol,127.0.0.1:7003");
    rig.join("carol", "127.0.0.1:7003");
    assert!(rig.wire().is_empty(), "nothing sent to carol");
}

/// The same through a reconnect: the server restarted and listed us before bob.
#[test]
fn a_peer_missing_from_our_new_list_is_heard_at_once_when_it_is_back() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.say("bob", &msg("bob", BOB_SID, 1, "before"));
    rig.log_in_again();
    rig.join("bob", BOB);
    rig.say("bob", &msg("bob", BOB_SID, 2, "after"));
    let events = rig.events();
    assert!(
        events.contains(&ClientEvent::Left(entry("bob", BOB))),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&shown("bob", "after")), "{events:?}");
    assert_eq!(rig.client.stats().unauthenticated, 0);
}

/// bob comes back with another key: he cannot hold the session we dropped, so trusting his new
/// key starts nothing by itself.
#[test]
fn a_peer_back_with_another_key_is_not_prompted() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.say("bob", &msg("bob", BOB_SID, 1, "before"));
    rig.line(&format!("logout,bob,{BOB}"));
    rig.rekey_peer("bob", other_keys("bob", 1));
    rig.join("bob", BOB);
    rig.wire();
    rig.trust("bob").expect("a listed key");
    assert!(rig.wire().is_empty(), "nothing sent to bob");
}

/// bob comes back after the session we dropped expired (180 s): he cannot seal on it either.
#[test]
fn a_peer_back_after_its_session_expired_is_not_prompted() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.say("bob", &msg("bob", BOB_SID, 1, "before"));
    rig.line(&format!("logout,bob,{BOB}"));
    for _ in 0..19 {
        rig.advance(Duration::from_secs(10));
        rig.line("pong");
    }
    rig.wire();
    rig.join("bob", BOB);
    assert!(rig.wire().is_empty(), "nothing sent to bob");
    assert_eq!(
        rig.events().last(),
        Some(&ClientEvent::Joined(entry("bob", BOB)))
    );
}

#[test]
fn too_long_is_exact_for_the_seq_the_message_gets() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    let max1 = max_text_len(&name("alice"), 1);
    assert_eq!(
        rig.send("bob", &"x".repeat(max1 + 1)),
        Err(SendError::TooLong { max: max1 })
    );
    rig.send("bob", &"x".repeat(max1)).unwrap();
    // The plaintext fills a sealed datagram, and the datagram the chat limit.
    let [(_, plaintext)] = rig.chat().try_into().unwrap();
    assert_eq!(plaintext.len(), MAX_SEALED_PLAINTEXT);
    let (_, datagram) = rig.wire().pop().unwrap();
    assert_eq!(datagram.len(), MAX_CHAT_DATAGRAM);
    // Seqs 2..=9 queue behind it; seq 10 takes one more digit, so one byte less of text.
    for _ in 2..=9 {
        rig.send("bob", &"y".repeat(max1)).unwrap();
    }
    let max10 = max_text_len(&name("alice"), 10);
    assert_eq!(max10, max1 - 1);
    assert_eq!(
        rig.send("bob", &"z".repeat(max1)),
        Err(SendError::TooLong { max: max10 })
    );
    // Multi-byte text is measured in bytes.
    let chinese = "字".repeat(max10 / 3) + &"z".repeat(max10 % 3);
    assert_eq!(chinese.len(), max10);
    assert_eq!(rig.send("bob", &chinese), Ok(MessageId(10)));
}

#[test]
fn send_errors_come_at_once() {
    let mut rig = Rig::new();
    assert_eq!(rig.send("bob", "hi"), Err(SendError::NotLoggedIn));
    let mut cfg = config();
    cfg.max_queued_per_peer = 2;
    let mut rig = Rig::online_with(cfg, &[("bob", BOB)]);
    rig.join("carol", CAROL);
    rig.line("login,dave,10.9.9.9:1");
    rig.events();
    assert_eq!(rig.send("alice", "hi"), Err(SendError::ToSelf));
    assert_eq!(rig.send("erin", "hi"), Err(SendError::NoSuchUser));
    assert_eq!(rig.send("bob", ""), Err(SendError::EmptyText));
    // dave announced no key: nothing can be sealed for him.
    assert_eq!(rig.send("dave", "hi"), Err(SendError::NoKey));
    // One in flight and two waiting; the next is refused.
    for id in 1..=3 {
        assert_eq!(rig.send("bob", "hi"), Ok(MessageId(id)));
    }
    assert_eq!(rig.send("bob", "hi"), Err(SendError::QueueFull));
    // The bound is per peer.
    assert_eq!(rig.send("carol", "hi"), Ok(MessageId(4)));
    // Refusals use up no id.
    rig.say("bob", &ack("bob", OUR_SID, 1));
    assert_eq!(rig.send("bob", "hi"), Ok(MessageId(5)));
    assert!(rig.wire().iter().all(|(to, _)| *to != addr("10.9.9.9:1")));
}

#[test]
fn malformed_peer_datagrams_are_counted() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.peer_datagram(BOB, b"msg,bob,123,1,hi");
    rig.peer_datagram(BOB, b"\xff\xfe");
    rig.peer_datagram(BOB, &[b'x'; MAX_CHAT_DATAGRAM + 1]);
    rig.server_datagram(b"Accept");
    // Sealed framing that does not hold, and an authentic plaintext that is no msg or ack.
    rig.peer_datagram(BOB, b"\xf7\x01\x00\x00\x00");
    rig.say("bob", b"hello");
    rig.say("bob", b"msg,bob,123,1,hi");
    assert_eq!(rig.client.stats().malformed, 7);
    assert!(rig.transmits().is_empty() && rig.events().is_empty());
    assert!(rig.chat().is_empty());
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
        rig.send(peer, "hi").unwrap();
    }
    assert_eq!(rig.chat().len(), 500);
    assert_eq!(rig.client.poll_timeout(), Some(rig.t0 + ms(300)));
    rig.now = rig.t0 + ms(300);
    rig.client.handle_timeout(rig.now);
    assert_eq!(
        rig.chat(),
        [(addr("10.1.0.1:7000"), format!("msg,alice,{SID},1,hi"))]
    );
    assert_eq!(rig.client.poll_timeout(), Some(rig.t0 + ms(301)));
}
