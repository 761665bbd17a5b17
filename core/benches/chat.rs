//! Chat throughput of the pure client core: messages per second through a sender/receiver
//! pair, each message going `send_message` → `msg` datagram → `handle_datagram` → `ack`
//! datagram → `handle_datagram` → `delivered`. No sockets: the ceiling a transport can reach.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use feige_core::client::{Client, ClientConfig, ClientEvent, ClientTransmit};
use feige_core::wire::{Name, SessionId};

const SERVER: &str = "127.0.0.1:9000";
const ALICE: &str = "127.0.0.1:40001";
const BOB: &str = "127.0.0.1:40002";

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("a literal address")
}

/// A client made online by hand: `Accept`, the TCP session, and a snapshot listing both.
fn online(name: &str, me: &str, sid: u64, now: Instant) -> Client {
    let config = ClientConfig::new(
        Name::new(name).expect("a literal name"),
        addr(SERVER),
        addr(me),
        SessionId::new(sid),
    );
    let mut client = Client::new(config, now);
    client.handle_datagram(now, addr(SERVER), b"Accept,9001");
    client.handle_connected(now);
    client.handle_tcp_bytes(now, format!("alice,{ALICE};bob,{BOB};end\n").as_bytes());
    while client.poll_transmit().is_some() {}
    assert!(
        matches!(client.poll_event(), Some(ClientEvent::LoggedIn { .. })),
        "{name} is online"
    );
    client
}

/// Moves every datagram `from` queued into `to`, as if the network carried it.
fn carry(from: &mut Client, from_addr: SocketAddr, to: &mut Client, now: Instant) {
    while let Some(transmit) = from.poll_transmit() {
        if let ClientTransmit::Datagram { data, .. } = transmit {
            to.handle_datagram(now, from_addr, &data);
        }
    }
}

fn message_round_trip(c: &mut Criterion) {
    let now = Instant::now();
    let mut alice = online("alice", ALICE, 1, now);
    let mut bob = online("bob", BOB, 2, now);
    let mut group = c.benchmark_group("chat");
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1));
    group.bench_function("send_ack_delivered", |b| {
        b.iter(|| {
            let id = alice
                .send_message(now, "bob", "a forty-byte chat line, give or take it")
                .expect("bob is online and the queue is empty");
            carry(&mut alice, addr(ALICE), &mut bob, now);
            while let Some(event) = bob.poll_event() {
                black_box(event);
            }
            carry(&mut bob, addr(BOB), &mut alice, now);
            let mut delivered = false;
            while let Some(event) = alice.poll_event() {
                delivered |= matches!(event, ClientEvent::Delivered { id: d, .. } if d == id);
            }
            assert!(delivered, "every message is delivered before the next");
        });
    });
    group.finish();
}

criterion_group!(benches, message_round_trip);
criterion_main!(benches);
