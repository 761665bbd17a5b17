//! Sessions age: rekeying on time and on use, and refusing what is too old.

use super::*;

#[test]
fn rekey_after_120_s_without_losing_data() {
    let mut rig = connected();
    let index = |rig: &Rig, slot: fn(&super::super::peer::PeerState) -> Option<u32>| {
        rig.nodes[A].secure.peers.values().next().and_then(slot)
    };
    let current = |p: &super::super::peer::PeerState| p.current.as_ref().map(|s| s.local);
    let previous = |p: &super::super::peer::PeerState| p.previous.as_ref().map(|s| s.local);
    let old_index = index(&rig, current);
    rig.advance(ms(121_000));
    // Alice initiated the session: sealing on it now also starts a new handshake.
    assert_eq!(rig.seal(A, b"old session"), Ok(Sealed::Sent));
    let sent = rig.sent(A);
    assert_eq!(sent.len(), 2, "the data, then an initiation");
    let (old, initiation) = (&sent[0], &sent[1]);
    assert_eq!(open(&mut rig, B, initiation), Ok(vec![]));
    let seen = rig.exchange();
    assert!(seen.refused.iter().all(Vec::is_empty));
    // The datagram sealed on the old session, delivered after the switch, still opens.
    assert_eq!(open(&mut rig, B, old), Ok(b"old session".to_vec()));
    for round in 0..3 {
        say(&mut rig, A, &format!("a{round}"));
        say(&mut rig, B, &format!("b{round}"));
    }
    assert_ne!(index(&rig, current), old_index, "a new session");
    assert_eq!(
        index(&rig, previous),
        old_index,
        "the old one kept as previous"
    );
    // No further handshake: the new session is young.
    assert_eq!(rig.seal(A, b"x"), Ok(Sealed::Sent));
    assert_eq!(rig.sent(A).len(), 1);
}

#[test]
fn rekey_after_many_messages() {
    let limits = Limits {
        rekey_after_messages: 4,
        ..Limits::default()
    };
    let mut rig = rig_with(limits);
    say(&mut rig, A, "hello");
    // The handshake's keepalive was counter 0 and "hello" counter 1.
    for i in 2..4 {
        assert_eq!(rig.seal(A, format!("{i}").as_bytes()), Ok(Sealed::Sent));
        assert_eq!(rig.sent(A).len(), 1);
    }
    assert_eq!(rig.seal(A, b"worn"), Ok(Sealed::Sent));
    assert_eq!(rig.sent(A).len(), 2, "the data, then an initiation");
}

#[test]
fn sessions_are_refused_after_180_s_and_then_forgotten() {
    let mut rig = connected();
    let old = sealed_now(&mut rig, A, "old");
    rig.advance(ms(180_000));
    assert_eq!(open(&mut rig, B, &old), Err(Refusal::Unauthenticated));
    assert!(
        rig.nodes[B].secure.peers.is_empty(),
        "expired sessions are dropped"
    );
    assert!(rig.nodes[B].secure.indices.is_empty());
    assert_eq!(rig.nodes[B].secure.next_deadline(), None);
    // Bob, the responder, never rekeyed: he needs a new session and makes one.
    assert_eq!(rig.seal(B, b"new"), Ok(Sealed::Queued));
    let seen = rig.exchange();
    assert_eq!(seen.opened[A], vec![b"new".to_vec()]);
}

#[test]
fn a_responder_does_not_rekey_on_age_alone() {
    let mut rig = connected();
    rig.advance(ms(150_000));
    assert_eq!(rig.seal(B, b"still fine"), Ok(Sealed::Sent));
    assert_eq!(rig.sent(B).len(), 1, "no initiation from the responder");
}
