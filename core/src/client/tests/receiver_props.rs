//! Property tests: the receiver's duplicate/order logic under arbitrary (sid, seq) sequences sealed
//! by a test peer, and two whole clients chatting sealed over a network that loses, duplicates,
//! delays and reorders every datagram, handshakes included.

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;

use super::*;
use crate::client::chat::SESSIONS_KEPT_PER_PEER;
use crate::client::{ClientState, FailReason, MessageId};

/// Sender sessions bob may use: as many as the receiver remembers, so no eviction happens.
const SIDS: [u64; SESSIONS_KEPT_PER_PEER] = {
    let mut sids = [0xb0b; SESSIONS_KEPT_PER_PEER];
    let mut i = 1;
    while i < SESSIONS_KEPT_PER_PEER - 2 {
        sids[i] = 0xb0b + i as u64;
        i += 1;
    }
    sids[SESSIONS_KEPT_PER_PEER - 2] = 0xdead_beef_0000_0001;
    sids[SESSIONS_KEPT_PER_PEER - 1] = u64::MAX;
    sids
};

fn sid_digits(sid: u64, upper: bool) -> String {
    let digits = format!("{sid:016x}");
    if upper {
        digits.to_uppercase()
    } else {
        digits
    }
}

/// Feeds bob's msgs to alice; returns per msg the ack datagrams it caused, and what was shown.
fn feed(rig: &mut Rig, msgs: &[(u64, u64, bool)]) -> (Vec<Vec<String>>, Vec<String>) {
    let mut acks = Vec::new();
    let mut shown = Vec::new();
    for &(sid, seq, upper) in msgs {
        let digits = sid_digits(sid, upper);
        let datagram = format!("msg,bob,{digits},{seq},{digits}/{seq}");
        rig.say("bob", datagram.as_bytes());
        let sent: Vec<String> = rig
            .chat()
            .into_iter()
            .map(|(to, data)| {
                assert_eq!(to, addr(BOB));
                data
            })
            .collect();
        acks.push(sent);
        for event in rig.events() {
            match event {
                ClientEvent::Message { from, text, .. } => {
                    assert_eq!(from.as_str(), "bob");
                    shown.push(text);
                }
                other => panic!("{other:?}"),
            }
        }
    }
    (acks, shown)
}

proptest! {
    #[test]
    fn every_msg_is_acked_and_each_sid_seq_shown_once_in_order(
        msgs in prop::collection::vec((prop::sample::select(&SIDS[..]), 1u64..16, any::<bool>()), 0..80)
    ) {
        let mut rig = Rig::online(&[("bob", BOB)]);
        let (acks, shown) = feed(&mut rig, &msgs);

        // Every msg, duplicate or not, got exactly one ack echoing its sid digits and seq.
        for (&(sid, seq, upper), acks) in msgs.iter().zip(&acks) {
            let expected = format!("ack,alice,{},{seq}", sid_digits(sid, upper));
            prop_assert_eq!(acks, &vec![expected]);
        }

        // Shown: each (sid, seq) at most once, and per sid in strictly increasing seq.
        let mut seen = HashSet::new();
        let mut last: HashMap<u64, u64> = HashMap::new();
        for text in &shown {
            let (digits, seq) = text.split_once('/').unwrap();
            let sid = u64::from_str_radix(digits, 16).unwrap();
            let seq: u64 = seq.parse().unwrap();
            prop_assert!(seen.insert((sid, seq)), "{} shown twice", text);
            let before = last.insert(sid, seq).unwrap_or(0);
            prop_assert!(seq > before, "{} after seq {}", text, before);
        }

        // Exactly the model: a msg is shown iff its seq beats everything seen from its sid.
        let mut best: HashMap<u64, u64> = HashMap::new();
        let mut model = Vec::new();
        for &(sid, seq, _) in &msgs {
            let top = best.entry(sid).or_insert(0);
            if seq > *top {
                *top = seq;
                model.push(seq);
            }
        }
        prop_assert_eq!(shown.len(), model.len());
        let stats = rig.client.stats();
        prop_assert_eq!(stats.duplicates as usize, msgs.len() - shown.len());
    }
}

/// A datagram on its way.
struct Flight {
    at: Instant,
    to_bob: bool,
    data: Vec<u8>,
}

/// Alice and bob online together, each with the other's key, chatting over a faulty network whose
/// faults come from `fates`. Only the clients speak: their test peers are left out.
fn chat_over_faulty_network(texts: usize, fates: &[u8]) -> (Vec<ClientEvent>, Vec<String>) {
    let quiet = |mut cfg: ClientConfig| {
        cfg.server_timeout = Duration::from_secs(24 * 3600);
        cfg.ping_interval = Duration::from_secs(24 * 3600);
        cfg
    };
    let mut alice = Rig::online_with(quiet(config()), &[("bob", BOB)]);
    let mut bob = Rig::logged_in(
        quiet(peer_config("bob", BOB, 0xb0b)),
        BOB,
        &[("alice", OBSERVED)],
    );
    bob.transmits();
    bob.events();
    alice.peers.clear();
    bob.peers.clear();
    bob.now = alice.now;

    for i in 0..texts {
        alice
            .client
            .send_message(alice.now, "bob", &format!("m{i}"))
            .unwrap();
    }
    let mut net: Vec<Flight> = Vec::new();
    let mut fates = fates.iter().copied();
    let mut alice_events = Vec::new();
    let mut bob_shown = Vec::new();
    for _ in 0..10_000 {
        let now = alice.now;
        for (rig, to_bob) in [(&mut alice, true), (&mut bob, false)] {
            for t in std::iter::from_fn(|| rig.client.poll_transmit()) {
                let ClientTransmit::Datagram { data, .. } = t else {
                    continue;
                };
                // Once the fates run out, the network delivers promptly.
                let fate = fates.next().unwrap_or(u8::MAX);
                let delay = ms(u64::from(fate / 10 % 8) * 100);
                match fate % 10 {
                    0..=2 => {}
                    3 => {
                        net.push(Flight {
                            at: now + delay,
                            to_bob,
                            data: data.to_vec(),
                        });
                        net.push(Flight {
                            at: now + delay * 2,
                            to_bob,
                            data: data.to_vec(),
                        });
                    }
                    _ => net.push(Flight {
                        at: now + delay,
                        to_bob,
                        data: data.to_vec(),
                    }),
                }
            }
        }
        alice_events.extend(std::iter::from_fn(|| alice.client.poll_event()));
        for event in std::iter::from_fn(|| bob.client.poll_event()) {
            if let ClientEvent::Message { text, .. } = event {
                bob_shown.push(text);
            }
        }
        let resolved = alice_events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    ClientEvent::Delivered { .. } | ClientEvent::Failed { .. }
                )
            })
            .count();
        if resolved == texts && net.is_empty() {
            break;
        }
        // Next: the earliest of a delivery and either client's timer.
        let next_flight = net.iter().map(|f| f.at).min();
        let next = [
            next_flight,
            alice.client.poll_timeout(),
            bob.client.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("something to wait for");
        alice.now = alice.now.max(next);
        bob.now = alice.now;
        if let Some(i) = net.iter().position(|f| f.at <= alice.now) {
            let flight = net.remove(i);
            if flight.to_bob {
                bob.client
                    .handle_datagram(bob.now, addr(OBSERVED), &flight.data);
            } else {
                alice
                    .client
                    .handle_datagram(alice.now, addr(BOB), &flight.data);
            }
        } else {
            alice.client.handle_timeout(alice.now);
            bob.client.handle_timeout(bob.now);
        }
    }
    assert_eq!(alice.client.state(), ClientState::Online);
    (alice_events, bob_shown)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn messages_are_delivered_exactly_once_in_order_or_failed(
        texts in 1usize..6,
        fates in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        let (events, shown) = chat_over_faulty_network(texts, &fates);
        let mut outcome: BTreeMap<MessageId, &ClientEvent> = BTreeMap::new();
        for event in &events {
            match event {
                ClientEvent::Sent { .. } | ClientEvent::Path { .. } => {}
                ClientEvent::Delivered { id, .. } | ClientEvent::Failed { id, .. } => {
                    prop_assert!(outcome.insert(*id, event).is_none(), "{:?} resolved twice", id);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert_eq!(outcome.len(), texts);
        // Shown in send order, each at most once.
        let indices: Vec<usize> = shown.iter().map(|t| t[1..].parse().unwrap()).collect();
        prop_assert!(indices.windows(2).all(|w| w[0] < w[1]), "order {:?}", indices);
        for (id, event) in outcome {
            let index = usize::try_from(id.0 - 1).unwrap();
            let times = indices.iter().filter(|&&i| i == index).count();
            match event {
                ClientEvent::Delivered { .. } => prop_assert_eq!(times, 1, "{:?}", id),
                ClientEvent::Failed { reason, .. } => {
                    prop_assert_eq!(*reason, FailReason::Timeout);
                    prop_assert!(times <= 1);
                }
                _ => unreachable!(),
            }
        }
    }
}

#[test]
fn a_clean_network_delivers_everything() {
    let (events, shown) = chat_over_faulty_network(5, &[]);
    let delivered = events
        .iter()
        .filter(|e| matches!(e, ClientEvent::Delivered { .. }))
        .count();
    assert_eq!(delivered, 5);
    assert_eq!(shown, ["m0", "m1", "m2", "m3", "m4"]);
}

#[test]
fn a_dead_network_fails_everything_and_shows_nothing() {
    let (events, shown) = chat_over_faulty_network(3, &[0; 64]);
    let failed: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Failed {
                id,
                reason: FailReason::Timeout,
                ..
            } => Some(id.0),
            _ => None,
        })
        .collect();
    assert_eq!(failed, [1, 2, 3]);
    assert!(shown.is_empty());
}
