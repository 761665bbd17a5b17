//! The cost of the secure layer in the pure core: a whole Noise IK handshake between two fresh
//! sides (initiation, response, and the keepalive that confirms the session), and sealing then
//! opening a 100-byte message on an established session. No sockets.
//!
//! The layer is private to the crate; the benchmark reaches it through the fuzzing feature:
//! `cargo bench -p feige-core --features fuzzing --bench secure`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use feige_core::fuzzing::SecurePair;

fn handshake(c: &mut Criterion) {
    let start = Instant::now();
    c.bench_function("secure/handshake_both_sides", |b| {
        b.iter_batched(
            || SecurePair::new(start),
            |mut pair| {
                pair.handshake();
                pair
            },
            BatchSize::SmallInput,
        )
    });
}

fn seal_open(c: &mut Criterion) {
    let mut pair = SecurePair::new(Instant::now());
    pair.handshake();
    let message = [b'x'; 100];
    let mut group = c.benchmark_group("secure");
    group.throughput(Throughput::Elements(1));
    group.bench_function("seal_open_100_bytes", |b| {
        b.iter(|| assert_eq!(pair.seal_open(black_box(&message)), 100))
    });
    group.finish();
}

criterion_group!(benches, handshake, seal_open);
criterion_main!(benches);
