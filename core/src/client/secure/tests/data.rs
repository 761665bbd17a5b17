//! Transport datagrams: reordering, duplicates, the queue and its bound.

use super::super::Sends;
use super::*;
use crate::client::secure::replay::WINDOW;
use crate::wire::MAX_SEALED_PLAINTEXT;

#[test]
fn reordering_within_the_window_is_accepted_and_duplicates_replayed() {
    let mut rig = connected();
    let datagrams: Vec<Bytes> = (0..5)
        .map(|i| sealed_now(&mut rig, A, &format!("m{i}")))
        .collect();
    for i in [3, 0, 4, 1] {
        assert_eq!(
            open(&mut rig, B, &datagrams[i]),
            Ok(format!("m{i}").into_bytes())
        );
    }
    assert_eq!(open(&mut rig, B, &datagrams[3]), Err(Refusal::Replayed));
    assert_eq!(open(&mut rig, B, &datagrams[2]), Ok(b"m2".to_vec()));
    assert_eq!(open(&mut rig, B, &datagrams[2]), Err(Refusal::Replayed));
}

#[test]
fn a_datagram_more_than_a_window_behind_is_replayed() {
    let mut rig = connected();
    let late = sealed_now(&mut rig, A, "late");
    let mut last = late.clone();
    for i in 0..WINDOW + 1 {
        last = sealed_now(&mut rig, A, &format!("{i}"));
    }
    assert!(open(&mut rig, B, &last).is_ok());
    assert_eq!(open(&mut rig, B, &late), Err(Refusal::Replayed));
}

#[test]
fn the_queue_keeps_the_newest_sixteen_in_order() {
    let mut rig = rig();
    let texts: Vec<String> = (0..20).map(|i| format!("q{i}")).collect();
    for text in &texts {
        assert_eq!(rig.seal(A, text.as_bytes()), Ok(Sealed::Queued));
    }
    let initiation = rig.sent(A);
    assert_eq!(
        initiation.len(),
        1,
        "one initiation, however much is queued"
    );
    assert_eq!(open(&mut rig, B, &initiation[0]), Ok(vec![]));
    let seen = rig.exchange();
    let expected: Vec<Vec<u8>> = texts[4..].iter().map(|t| t.as_bytes().to_vec()).collect();
    assert_eq!(seen.opened[B], expected);
}

#[test]
fn the_largest_plaintext_fills_a_chat_datagram() {
    let mut rig = connected();
    let largest = vec![b'x'; MAX_SEALED_PLAINTEXT];
    assert_eq!(rig.seal(A, &largest), Ok(Sealed::Sent));
    let datagram = rig.sent(A).remove(0);
    assert_eq!(datagram.len(), crate::wire::MAX_CHAT_DATAGRAM);
    assert_eq!(open(&mut rig, B, &datagram), Ok(largest.clone()));
    let over = vec![b'x'; MAX_SEALED_PLAINTEXT + 1];
    assert_eq!(
        rig.seal(A, &over),
        Err(super::super::SealError::TooLong {
            max: MAX_SEALED_PLAINTEXT
        })
    );
}

#[test]
fn a_keepalive_or_handshake_is_authentic_without_a_plaintext() {
    let mut rig = rig();
    rig.seal(A, b"hi").expect("sealable");
    let initiation = rig.sent(A).remove(0);
    let node = &mut rig.nodes[B];
    let authentic = node
        .secure
        .open(rig.now, &initiation, &node.trust, &mut Sends::default())
        .expect("an authentic initiation");
    assert_eq!(authentic.peer, rig.nodes[A].me.name);
    assert_eq!(authentic.plaintext, None);
}
