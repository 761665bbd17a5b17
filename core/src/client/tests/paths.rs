//! Paths across NATs (protocol.md 8.2): an introduction on first contact, the peer's endpoint
//! learned from authentic datagrams only, the relay once no direct datagram came back within
//! `relay_after`, and back to direct as soon as one does.

use super::chat::{delivered, sent, shown};
use super::*;
use crate::client::{ClientStats, Via};

const INITIATION: u8 = 0xf5;
const TRANSPORT: u8 = 0xf7;

/// The time of every sealed datagram of kind `kind` the client sent directly to `to` since last
/// asked.
fn direct_at(rig: &mut Rig, to: &str, kind: u8) -> Vec<Duration> {
    let elapsed = rig.elapsed();
    rig.wire()
        .into_iter()
        .filter(|(at, data)| *at == addr(to) && data[0] == kind)
        .map(|_| elapsed)
        .collect()
}

#[test]
fn first_contact_asks_one_introduction_and_a_direct_answer_sets_the_path() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.send("bob", "hi").unwrap();
    rig.say("bob", &ack("bob", OUR_SID, 1));
    assert_eq!(rig.events(), [sent("bob", 1), delivered("bob", 1)]);
    assert_eq!(rig.intros(), ["bob"]);
    assert_eq!(rig.path_events(), [path("bob", Via::Direct, addr(BOB))]);
    // The path works: the next message asks nothing, and nothing new is reported.
    rig.send("bob", "again").unwrap();
    rig.say("bob", &ack("bob", OUR_SID, 2));
    assert_eq!(rig.events(), [sent("bob", 2), delivered("bob", 2)]);
    assert!(rig.intros().is_empty() && rig.path_events().is_empty());
    // Quiet for longer than `path_idle`, it is searched again, once.
    rig.advance(rig.client.config().path_idle);
    rig.send("bob", "still there?").unwrap();
    rig.send("bob", "hello?").unwrap();
    assert_eq!(rig.intros(), ["bob"]);
    assert!(
        rig.path_events().is_empty(),
        "the same path again is no news"
    );
}

#[test]
fn an_authentic_datagram_from_elsewhere_moves_the_path_a_replayed_one_never() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.say("bob", &msg("bob", 0xb0b, 1, "hi"));
    assert_eq!(rig.events(), [shown("bob", "hi")]);
    assert_eq!(rig.path_events(), [path("bob", Via::Direct, addr(BOB))]);
    rig.chat();
    // Everything bob sent, replayed from another address: refused, and the path stays.
    let replays: Vec<Bytes> = rig.delivered.iter().map(|(_, d)| d.clone()).collect();
    for datagram in &replays {
        rig.peer_datagram("192.0.2.66:6666", datagram);
    }
    assert!(rig.client.stats().replayed + rig.client.stats().stale >= 1);
    assert!(rig.path_events().is_empty() && rig.events().is_empty());
    rig.send("bob", "where?").unwrap();
    assert_eq!(rig.chat()[0].0, addr(BOB));
    rig.say("bob", &ack("bob", OUR_SID, 1));
    // Bob's NAT maps him elsewhere: his next datagram teaches it, and the answers go there.
    let moved = addr("198.51.100.7:5999");
    rig.peer("bob").source = moved;
    rig.say("bob", &msg("bob", 0xb0b, 2, "moved"));
    assert_eq!(rig.path_events(), [path("bob", Via::Direct, moved)]);
    assert_eq!(
        rig.chat(),
        [(moved, "ack,alice,0000000000000b0b,2".to_owned())]
    );
    rig.send("bob", "there").unwrap();
    assert_eq!(rig.chat()[0].0, moved);
}

#[test]
fn a_peer_behind_a_closed_nat_is_reached_through_the_relay_then_directly_again() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    {
        let bob = rig.peer("bob");
        bob.firewalled = true;
        bob.relays = true;
    }
    rig.send("bob", "hi").unwrap();
    assert_eq!(rig.events(), [sent("bob", 1)]);
    assert_eq!(rig.intros(), ["bob"]);
    // Initiations go directly (and are lost) until `relay_after`; then a fresh one goes both
    // ways at once, and the relay carries the handshake and the message.
    let mut initiations = Vec::new();
    while rig.elapsed() < ms(2_000) {
        initiations.extend(direct_at(&mut rig, BOB, INITIATION));
        assert!(rig.events().is_empty());
        rig.advance(ms(100));
    }
    initiations.extend(direct_at(&mut rig, BOB, INITIATION));
    assert_eq!(initiations, [ms(0), ms(300), ms(900), ms(2_000)]);
    assert_eq!(rig.chat(), [(addr(SERVER), msg_text("alice", 1, "hi"))]);
    rig.say("bob", &ack("bob", OUR_SID, 1));
    assert_eq!(rig.events(), [delivered("bob", 1)]);
    assert_eq!(rig.path_events(), [path("bob", Via::Relay, addr(SERVER))]);
    // Chat goes on through the relay, while direct keepalives probe, less and less often.
    rig.send("bob", "more").unwrap();
    assert_eq!(rig.chat(), [(addr(SERVER), msg_text("alice", 2, "more"))]);
    rig.say("bob", &ack("bob", OUR_SID, 2));
    assert_eq!(rig.events(), [sent("bob", 2), delivered("bob", 2)]);
    let mut probes = Vec::new();
    while rig.elapsed() < ms(9_500) {
        rig.advance(ms(100));
        probes.extend(direct_at(&mut rig, BOB, TRANSPORT));
    }
    assert_eq!(probes, [ms(3_000), ms(5_000), ms(9_000)]);
    // Bob's NAT opens: his next direct datagram moves the path back, and a keepalive answers
    // directly at once so that he learns it too.
    {
        let bob = rig.peer("bob");
        bob.firewalled = false;
        bob.relays = false;
    }
    rig.say("bob", &msg("bob", 0xb0b, 1, "direct now"));
    assert_eq!(rig.events(), [shown("bob", "direct now")]);
    assert_eq!(rig.path_events(), [path("bob", Via::Direct, addr(BOB))]);
    let answers: Vec<u8> = rig
        .wire()
        .into_iter()
        .filter(|(to, _)| *to == addr(BOB))
        .map(|(_, d)| d[0])
        .collect();
    assert_eq!(answers, [TRANSPORT, TRANSPORT], "a keepalive, then the ack");
    assert_eq!(
        rig.chat(),
        [(addr(BOB), "ack,alice,0000000000000b0b,1".to_owned())]
    );
    rig.send("bob", "and back").unwrap();
    assert_eq!(rig.chat(), [(addr(BOB), msg_text("alice", 3, "and back"))]);
    assert_eq!(rig.client.stats(), ClientStats::default());
}

#[test]
fn an_introduction_makes_the_client_probe_at_once() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    rig.line("intro,bob,198.51.100.7:5000");
    assert_eq!(direct_at(&mut rig, BOB, INITIATION), [ms(0)]);
    assert_eq!(rig.path_events(), [path("bob", Via::Direct, addr(BOB))]);
    // Once the path works, an introduction asks for nothing more.
    rig.line("intro,bob,198.51.100.7:5000");
    assert!(rig.wire().is_empty());
    // Nor does one to a name not listed, or to ourselves.
    rig.line("intro,mallory,192.0.2.66:6666");
    rig.line(&format!("intro,alice,{OBSERVED}"));
    assert!(rig.wire().is_empty() && rig.transmits().is_empty());
    assert!(rig.events().is_empty() && rig.path_events().is_empty());
}

#[test]
fn relayed_datagrams_are_believed_by_their_key_only() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    let relay = |from: &str, datagram: &[u8]| {
        let payload = crate::wire::RelayPayload::encode(datagram).expect("fits");
        format!("relay,{from},{}", payload.as_str())
    };
    // From someone not listed, or not sealed at all: dropped and counted.
    rig.line(&relay("mallory", &[0xf7; 40]));
    rig.line(&relay("bob", b"msg,bob,0000000000000b0b,1,plain"));
    assert_eq!(
        rig.client.stats(),
        ClientStats {
            unknown_sender: 1,
            malformed: 1,
            ..Default::default()
        }
    );
    // Sealed by an impostor's key, relayed in bob's name: refused.
    let impostor = rig.add_peer("bob", other_keys("bob", 1), "192.0.2.66:6666");
    rig.peers[impostor].relays = true;
    rig.say_as(impostor, &msg("bob", 0xb0b, 1, "forged"));
    assert_eq!(rig.client.stats().untrusted, 1);
    assert!(rig.events().is_empty() && rig.path_events().is_empty());
    // Bob's own, relayed: shown, and the relay is his path.
    rig.peer("bob").relays = true;
    rig.say("bob", &msg("bob", 0xb0b, 1, "via the server"));
    assert_eq!(rig.events(), [shown("bob", "via the server")]);
    assert_eq!(rig.path_events(), [path("bob", Via::Relay, addr(SERVER))]);
}

/// A `msg` of ours as the peer opens it.
fn msg_text(from: &str, seq: u64, text: &str) -> String {
    String::from_utf8(msg(from, OUR_SID, seq, text)).expect("text")
}

#[test]
fn nothing_goes_out_after_logout_whatever_the_paths_were_doing() {
    let mut rig = Rig::online(&[("bob", BOB)]);
    // bob never answers: his handshake is tried again and the relay falls due.
    rig.send("bob", "hi").unwrap();
    rig.advance(ms(300));
    assert!(!rig.wire().is_empty(), "bob is being tried");
    rig.client.logout(rig.now);
    rig.transmits();
    rig.events();
    rig.path_events();
    for _ in 0..30 {
        rig.advance(Duration::from_secs(1));
    }
    assert!(rig.wire().is_empty() && rig.transmits().is_empty());
    assert!(rig.events().is_empty() && rig.path_events().is_empty());
}
