//! Keys and chat: a key pinned on first use, a changed key holding chat until the user trusts
//! it, keys pinned in earlier runs, chat refused without keys, and safety numbers.

use super::chat::{delivered, sent, shown};
use super::*;
use crate::client::{ClientStats, MessageId, SendError, TrustError};
use crate::wire::safety_number;

const SID: &str = "0123456789abcdef";

fn pinned(n: &str, keys: &StaticKeys) -> ClientEvent {
    ClientEvent::KeyPinned {
        name: name(n),
        key: keys.public(),
    }
}

fn changed(n: &str, old: &StaticKeys, new: &StaticKeys) -> ClientEvent {
    ClientEvent::KeyChanged {
        name: name(n),
        old: old.public(),
        new: new.public(),
    }
}

#[test]
fn a_changed_key_holds_chat_until_it_is_trusted() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    // Bob comes back with another key: a new device, or a server that lies.
    let new = other_keys("bob", 1);
    rig.line(&format!("logout,bob,{BOB}"));
    rig.rekey_peer("bob", new.clone());
    rig.join("bob", BOB);
    assert_eq!(
        rig.events(),
        [
            ClientEvent::Left(entry("bob", BOB)),
            ClientEvent::Joined(entry("bob", BOB)),
            changed("bob", &keys_of("bob"), &new),
        ]
    );
    // A message to him is taken, and held: not sent, nothing on the wire, no timer.
    let before = rig.client.poll_timeout();
    let id = rig.send("bob", "held").unwrap();
    assert!(rig.events().is_empty());
    assert!(rig.wire().is_empty() && rig.transmits().is_empty());
    assert_eq!(rig.client.poll_timeout(), before);
    // Nor is he heard: his handshakes are refused, each of his five tries.
    rig.say("bob", &msg("bob", 0xb0b, 1, "unheard"));
    for _ in 0..95 {
        rig.advance(ms(200));
    }
    assert!(rig.events().is_empty() && rig.chat().is_empty());
    assert!(rig.wire().is_empty() && rig.transmits().is_empty());
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            untrusted: 5,
            ..Default::default()
        }
    );
    // The user trusts the new key: it is pinned, and the held message goes out and arrives.
    assert_eq!(rig.trust("bob"), Ok(()));
    assert_eq!(rig.events(), [pinned("bob", &new), sent("bob", id.0)]);
    assert_eq!(rig.chat(), [(addr(BOB), format!("msg,alice,{SID},1,held"))]);
    rig.say("bob", &ack("bob", OUR_SID, 1));
    assert_eq!(rig.events(), [delivered("bob", id.0)]);
    assert_eq!(rig.trust("bob"), Err(TrustError::AlreadyTrusted));
    assert_eq!(rig.trust("nobody"), Err(TrustError::NoKey));
}

#[test]
fn a_key_line_changing_a_trusted_key_drops_its_sessions() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.say("bob", &msg("bob", 0xb0b, 1, "hi"));
    let id = rig.send("bob", "one").unwrap();
    assert_eq!(rig.chat().len(), 2, "the ack and the msg");
    rig.wire();
    rig.events();
    // The directory now lists another key for bob, who never left.
    let new = other_keys("bob", 1);
    let old_bob = rig.peers.remove(0);
    rig.add_peer("bob", new.clone(), BOB);
    rig.key_line("bob");
    assert_eq!(rig.events(), [changed("bob", &keys_of("bob"), &new)]);
    // What the old key's sessions carry is refused; the message in flight is not retransmitted.
    let mut old_bob = old_bob;
    old_bob
        .remote
        .seal(rig.now, &msg("bob", 0xb0b, 2, "old"))
        .unwrap();
    let datagram = old_bob.remote.sent().pop().unwrap();
    rig.peer_datagram(BOB, &datagram);
    assert_eq!(rig.client.stats().unauthenticated, 1);
    rig.advance(ms(300));
    rig.advance(ms(600));
    assert!(rig.wire().is_empty() && rig.events().is_empty());
    // Trusted, its next try goes out sealed for the new key, and is delivered.
    assert_eq!(rig.trust("bob"), Ok(()));
    assert_eq!(rig.events(), [pinned("bob", &new)]);
    rig.advance(ms(1200));
    assert_eq!(rig.chat(), [(addr(BOB), format!("msg,alice,{SID},1,one"))]);
    rig.say("bob", &ack("bob", OUR_SID, 1));
    assert_eq!(rig.events(), [delivered("bob", id.0)]);
}

#[test]
fn keys_pinned_in_an_earlier_run_are_believed_without_a_word() {
    let mut cfg = config();
    cfg.pinned.insert(name("bob"), keys_of("bob").public());
    cfg.pinned
        .insert(name("小明"), other_keys("小明", 1).public());
    let mut rig = Rig::logged_in(
        cfg,
        OBSERVED,
        &[("bob", BOB), ("小明", CAROL), ("carol", "10.0.0.7:1")],
    );
    rig.transmits();
    let events = rig.events();
    assert!(matches!(events[0], ClientEvent::LoggedIn { .. }));
    // Bob's line says what was pinned: nothing to tell. 小明's differs; carol is new.
    assert_eq!(
        events[1..],
        [
            changed("小明", &other_keys("小明", 1), &keys_of("小明")),
            pinned("carol", &keys_of("carol")),
        ]
    );
    // Bob is talked to at once, 小明 only once trusted.
    assert_eq!(rig.send("bob", "hi"), Ok(MessageId(1)));
    assert_eq!(rig.send("小明", "hi"), Ok(MessageId(2)));
    assert_eq!(rig.events(), [sent("bob", 1)]);
    assert_eq!(rig.chat(), [(addr(BOB), format!("msg,alice,{SID},1,hi"))]);
    rig.say("小明", &msg("小明", 7, 1, "not yet"));
    assert_eq!(rig.client.stats().untrusted, 1);
    assert!(rig.events().is_empty());
}

#[test]
fn native_chat_needs_a_key_on_each_side() {
    // Bob announced no key.
    let mut rig = Rig::online_unkeyed(config(), &[("bob", BOB)]);
    assert_eq!(rig.send("bob", "hi"), Err(SendError::NoKey));
    assert!(rig.wire().is_empty() && rig.events().is_empty());
    rig.key_line("bob");
    assert_eq!(rig.events(), [pinned("bob", &keys_of("bob"))]);
    assert_eq!(rig.send("bob", "hi"), Ok(MessageId(1)));

    // We have none: nothing native is sent, and nothing sealed is read.
    let mut cfg = config();
    cfg.identity = None;
    let mut rig = Rig::online_with(cfg, &[("bob", BOB)]);
    assert_eq!(rig.send("bob", "hi"), Err(SendError::NoKey));
    assert_eq!(rig.client.safety_number("bob"), None);
    rig.say("bob", &msg("bob", 7, 1, "hi"));
    assert!(rig.events().is_empty() && rig.wire().is_empty());
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            malformed: 1,
            ..Default::default()
        }
    );
}

#[test]
fn both_sides_get_the_same_safety_number() {
    let mut alice = Rig::online(&[("bob", BOB), ("小明", CAROL)]);
    let bob = Rig::logged_in(peer_config("bob", BOB, 0xb0b), BOB, &[("alice", OBSERVED)]);
    let number = alice.client.safety_number("bob").expect("both have keys");
    assert_eq!(bob.client.safety_number("alice").as_ref(), Some(&number));
    let expected = safety_number(
        (&name("alice"), &keys_of("alice").public()),
        (&name("bob"), &keys_of("bob").public()),
    );
    assert_eq!(number, expected);
    assert_ne!(alice.client.safety_number("小明"), Some(number.clone()));
    // Unlisted, or listed with no key: no number.
    assert_eq!(alice.client.safety_number("carol"), None);
    alice.line("login,carol,10.0.0.7:1");
    assert_eq!(alice.client.safety_number("carol"), None);
    // A changed key, trusted or not, gives another number: the one to compare before trusting.
    let new = other_keys("bob", 1);
    alice.rekey_peer("bob", new.clone());
    alice.key_line("bob");
    let changed_number = alice.client.safety_number("bob").expect("listed");
    assert_ne!(changed_number, number);
    assert_eq!(
        changed_number,
        safety_number(
            (&name("alice"), &keys_of("alice").public()),
            (&name("bob"), &new.public()),
        )
    );
}

#[test]
fn messages_shown_after_trust_come_only_from_the_new_key() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.say("bob", &msg("bob", 0xb0b, 1, "from the old key"));
    assert_eq!(rig.events(), [shown("bob", "from the old key")]);
    rig.chat();
    let new = other_keys("bob", 1);
    let old_bob = rig.peers.remove(0);
    rig.add_peer("bob", new.clone(), BOB);
    rig.key_line("bob");
    assert_eq!(rig.trust("bob"), Ok(()));
    assert_eq!(
        rig.events(),
        [changed("bob", &keys_of("bob"), &new), pinned("bob", &new)]
    );
    // The old key's holder starts afresh: refused, for the key is no longer trusted.
    rig.peers.push(old_bob);
    let old = rig.peers.len() - 1;
    rig.peers[old].remote.forget();
    rig.say_as(old, &msg("bob", 0xb0b, 2, "old key again"));
    rig.say("bob", &msg("bob", 0xb0b, 2, "new key"));
    assert_eq!(rig.events(), [shown("bob", "new key")]);
    assert_eq!(rig.client.stats().untrusted, 1);
}
