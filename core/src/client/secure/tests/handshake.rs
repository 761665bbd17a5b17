//! Handshakes: what is accepted, what is refused and why, and how sessions come back.

use super::*;
use crate::wire::{is_sealed, PublicKey, SealedDatagram};

#[test]
fn handshake_then_data_both_ways() {
    let mut rig = rig();
    assert_eq!(rig.seal(A, b"hello"), Ok(Sealed::Queued));
    let initiation = rig.sent(A);
    assert_eq!(initiation.len(), 1);
    assert!(matches!(
        SealedDatagram::parse(&initiation[0]),
        Ok(SealedDatagram::Initiation { .. })
    ));
    assert_eq!(initiation[0].len(), 174);
    assert_eq!(open(&mut rig, B, &initiation[0]), Ok(vec![]));
    let response = rig.sent(B);
    assert_eq!(response.len(), 1);
    assert_eq!(response[0].len(), 57);
    // The response brings the session up; the queued message goes out on it.
    assert_eq!(open(&mut rig, A, &response[0]), Ok(vec![]));
    let data = rig.sent(A);
    assert_eq!(data.len(), 1);
    assert!(is_sealed(&data[0]));
    assert_eq!(data[0].len(), 13 + 5 + 16);
    assert_eq!(open(&mut rig, B, &data[0]), Ok(b"hello".to_vec()));
    // That datagram confirmed the session to bob, who now seals on it at once.
    let back = sealed_now(&mut rig, B, "你好");
    assert_eq!(open(&mut rig, A, &back), Ok("你好".as_bytes().to_vec()));
    assert_eq!(rig.nodes[A].secure.peers.len(), 1);
}

#[test]
fn a_key_the_directory_does_not_give_is_untrusted() {
    let mut rig = rig();
    let alice = rig.nodes[A].me.name.clone();
    // Bob trusts another key for alice.
    *rig.nodes[B].trust.0.get_mut(&alice).expect("listed") = PublicKey::from_bytes([9; 32]);
    rig.seal(A, b"hello").expect("sealable");
    let initiation = rig.sent(A).remove(0);
    assert_eq!(open(&mut rig, B, &initiation), Err(Refusal::Untrusted));
    // Or does not know alice at all.
    rig.nodes[B].trust.0.remove(&alice);
    assert_eq!(open(&mut rig, B, &initiation), Err(Refusal::Untrusted));
    assert!(rig.sent(B).is_empty(), "never answered");
    assert!(rig.nodes[B].secure.peers.is_empty(), "nothing held");
}

#[test]
fn a_replayed_initiation_is_stale_and_the_session_keeps_working() {
    let mut rig = rig();
    rig.seal(A, b"hello").expect("sealable");
    let initiation = rig.sent(A).remove(0);
    assert_eq!(open(&mut rig, B, &initiation), Ok(vec![]));
    let seen = rig.exchange();
    assert_eq!(seen.opened[B], vec![b"hello".to_vec()]);
    rig.advance(ms(10_000));
    assert_eq!(open(&mut rig, B, &initiation), Err(Refusal::Stale));
    assert!(rig.sent(B).is_empty(), "a replay is never answered");
    say(&mut rig, A, "still here");
    say(&mut rig, B, "me too");
}

#[test]
fn tampering_is_unauthenticated() {
    let mut rig = rig();
    rig.seal(A, b"hello").expect("sealable");
    let initiation = rig.sent(A).remove(0);
    for at in [5, 40, 100, 173] {
        let mut forged = initiation.to_vec();
        forged[at] ^= 0x20;
        assert_eq!(
            rig.open(B, &forged),
            Err(Refusal::Unauthenticated),
            "initiation byte {at}"
        );
    }
    assert_eq!(open(&mut rig, B, &initiation), Ok(vec![]));
    let response = rig.sent(B).remove(0);
    let mut forged = response.to_vec();
    forged[30] ^= 1;
    assert_eq!(rig.open(A, &forged), Err(Refusal::Unauthenticated));
    // A forged response spoils nothing: the real one still completes the handshake.
    assert_eq!(open(&mut rig, A, &response), Ok(vec![]));
    let data = rig.sent(A).remove(0);
    for at in [1, 7, 13, data.len() - 1] {
        let mut forged = data.to_vec();
        forged[at] ^= 0x80;
        assert_eq!(
            rig.open(B, &forged),
            Err(Refusal::Unauthenticated),
            "transport byte {at}"
        );
    }
    // The forgeries moved no window: the real datagram still opens.
    assert_eq!(open(&mut rig, B, &data), Ok(b"hello".to_vec()));
}

#[test]
fn what_is_not_sealed_is_malformed() {
    let mut rig = connected();
    for junk in [
        &b""[..],
        b"msg,alice,0000000000000001,1,hi",
        b"\xf7\x01\x02",
        b"\xf5",
    ] {
        assert_eq!(rig.open(B, junk), Err(Refusal::Malformed), "{junk:?}");
    }
    say(&mut rig, A, "fine");
}

#[test]
fn simultaneous_initiation_converges() {
    let mut rig = rig();
    assert_eq!(rig.seal(A, b"from alice"), Ok(Sealed::Queued));
    assert_eq!(rig.seal(B, b"from bob"), Ok(Sealed::Queued));
    let seen = rig.exchange();
    assert_eq!(seen.opened[B], vec![b"from alice".to_vec()]);
    assert_eq!(seen.opened[A], vec![b"from bob".to_vec()]);
    for round in 0..5 {
        say(&mut rig, A, &format!("a{round}"));
        say(&mut rig, B, &format!("b{round}"));
    }
    for node in &rig.nodes {
        let held = node.secure.peers.values().next().expect("a peer");
        assert!(held.current.is_some() && held.handshake.is_none());
        assert!(node.secure.indices.len() <= 3);
    }
}

#[test]
fn a_restarted_peer_is_accepted_when_it_speaks_first() {
    let mut rig = connected();
    rig.advance(ms(1_000));
    rig.restart(B);
    say(&mut rig, B, "I am back");
    say(&mut rig, A, "welcome back");
    say(&mut rig, B, "thanks");
}

#[test]
fn a_restarted_peer_is_found_again_when_we_speak_first() {
    let mut rig = connected();
    rig.advance(ms(1_000));
    rig.restart(B);
    // Alice still seals on the session bob lost; bob cannot tell who it is from.
    let mut opened = Vec::new();
    for wait in [0, 300, 600, 1_200, 2_400] {
        rig.advance(ms(wait));
        rig.seal(A, b"anyone there?").expect("sealable");
        let seen = rig.exchange();
        opened.extend(seen.opened[B].iter().cloned());
        if !opened.is_empty() {
            break;
        }
        assert_eq!(seen.refused[B], vec![Refusal::Unauthenticated]);
    }
    // Unanswered for two seconds: alice handshook again, and the retry got through.
    assert_eq!(opened, vec![b"anyone there?".to_vec()]);
    say(&mut rig, B, "yes");
    say(&mut rig, A, "good");
}

#[test]
fn handshake_gives_up_after_five_tries() {
    let mut rig = rig();
    rig.seal(A, b"lost").expect("sealable");
    let mut initiations = rig.sent(A).len();
    let mut times = vec![0];
    let start = rig.now;
    while let Some(at) = rig.nodes[A].secure.next_deadline() {
        rig.advance(at - rig.now);
        let sent = rig.sent(A).len();
        if sent > 0 {
            times.push((rig.now - start).as_millis());
        }
        initiations += sent;
    }
    assert_eq!(initiations, 5);
    assert_eq!(times, vec![0, 300, 900, 2_100, 4_500]);
    assert_eq!(rig.now - start, ms(9_300), "given up after the last wait");
    assert!(
        rig.nodes[A].secure.peers.is_empty(),
        "the queue went with it"
    );
    assert!(rig.nodes[A].secure.indices.is_empty());
    // A new message starts afresh, and only it arrives.
    rig.seal(A, b"new").expect("sealable");
    let seen = rig.exchange();
    assert_eq!(seen.opened[B], vec![b"new".to_vec()]);
}

#[test]
fn forget_drops_everything() {
    let mut rig = connected();
    let old = sealed_now(&mut rig, A, "before");
    rig.forget(B);
    assert!(rig.nodes[B].secure.peers.is_empty());
    assert!(rig.nodes[B].secure.indices.is_empty());
    assert_eq!(rig.nodes[B].secure.next_deadline(), None);
    assert_eq!(open(&mut rig, B, &old), Err(Refusal::Unauthenticated));
    // Bob starts a new session; alice accepts it (its initiation is newer) and both talk.
    assert_eq!(rig.seal(B, b"again"), Ok(Sealed::Queued));
    let seen = rig.exchange();
    assert_eq!(seen.opened[A], vec![b"again".to_vec()]);
    say(&mut rig, A, "yes");
}

#[test]
fn a_responder_never_seals_on_an_unconfirmed_session() {
    let mut rig = rig();
    rig.seal(A, b"hello").expect("sealable");
    let initiation = rig.sent(A).remove(0);
    assert_eq!(open(&mut rig, B, &initiation), Ok(vec![]));
    let _lost_response = rig.sent(B);
    // Bob has answered but cannot know alice got the answer: he queues and initiates himself.
    assert_eq!(rig.seal(B, b"hi"), Ok(Sealed::Queued));
    let sent = rig.sent(B);
    assert_eq!(sent.len(), 1);
    assert!(matches!(
        SealedDatagram::parse(&sent[0]),
        Ok(SealedDatagram::Initiation { .. })
    ));
    assert_eq!(open(&mut rig, A, &sent[0]), Ok(vec![]));
    // Bob's session carries his message, which confirms it to alice: her queue goes out on it.
    let seen = rig.exchange();
    assert_eq!(seen.opened[A], vec![b"hi".to_vec()]);
    assert_eq!(seen.opened[B], vec![b"hello".to_vec()]);
    // Her own handshake still completes when its initiation is sent again.
    rig.advance(ms(300));
    let seen = rig.exchange();
    assert!(seen.refused.iter().all(Vec::is_empty));
    assert!(rig.nodes[A]
        .secure
        .peers
        .values()
        .all(|p| p.handshake.is_none()));
    say(&mut rig, A, "and now");
    say(&mut rig, B, "all good");
}

#[test]
fn the_defaults_are_the_documented_ones() {
    let keys = crate::client::StaticKeys::from_private([7; 32]);
    let clock = crate::client::WallClock {
        unix_ms: 0,
        at: Instant::now(),
    };
    let name = crate::wire::Name::new("alice").expect("a name");
    let secure = super::super::Secure::new(name, keys, [0; 32], clock);
    let l = secure.limits;
    assert_eq!(l.rekey_after_time, ms(120_000));
    assert_eq!(l.reject_after_time, ms(180_000));
    assert_eq!(
        (l.rekey_after_messages, l.reject_after_messages),
        (1 << 20, 1 << 32)
    );
    assert_eq!(
        (l.rekey_after_silence, l.rekey_after_unanswered),
        (ms(2_000), 3)
    );
    assert_eq!((l.handshake_retry, l.handshake_tries), (ms(300), 5));
    assert_eq!(l.queue_per_peer, 16);
}

#[test]
fn same_inputs_give_the_same_outputs() {
    let run = || {
        let mut rig = Rig::new(Instant::now());
        let mut wire = Vec::new();
        rig.seal(A, b"one").expect("sealable");
        rig.seal(B, b"two").expect("sealable");
        for _ in 0..3 {
            for side in [A, B] {
                for datagram in rig.sent(side) {
                    wire.push(datagram.clone());
                    let _ = rig.open(1 - side, &datagram);
                }
            }
        }
        wire
    };
    let first = run();
    assert!(first.len() >= 6);
    assert_eq!(first, run());
}
