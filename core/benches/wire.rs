//! How fast the TCP side of the wire codec decodes what a client receives: one 10,000-entry
//! snapshot line, and a stream of 100,000 `login`/`logout` presence lines.
//!
//! Each input is decoded three ways in the same run:
//! - `nom`: the whole stream pushed into a [`LineDecoder`] at once, each line through
//!   [`ServerLine::parse`] — the codec as a client uses it;
//! - `nom_4k_chunks`: the same, but pushed in 4 KiB pieces as a socket would hand them over;
//! - `naive_split`: a baseline built on `str::split` that does the same validation work
//!   (UTF-8, name rules, `SocketAddr` parsing and canonical form, owned entries) without nom
//!   and without streaming, so it gets the whole input as one slice.

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use feige_core::wire::{
    canonical, encode_snapshot, LineDecoder, Name, ServerLine, UserEntry, MAX_SERVER_LINE,
};

const SNAPSHOT_ENTRIES: usize = 10_000;
const PRESENCE_LINES: usize = 100_000;
const CHUNK: usize = 4096;

/// A varied population: mostly ASCII names, one in four Chinese; one endpoint in five IPv6.
fn user(i: usize) -> UserEntry {
    let name = if i % 4 == 3 {
        format!("用户{i}")
    } else {
        format!("user{i}")
    };
    let port = 1024 + (i % 60_000) as u16;
    let endpoint: SocketAddr = if i % 5 == 4 {
        SocketAddr::new(format!("2001:db8::{:x}", i).parse().expect("ipv6"), port)
    } else {
        SocketAddr::new([10, (i >> 16) as u8, (i >> 8) as u8, i as u8].into(), port)
    };
    UserEntry::new(Name::new(&name).expect("valid bench name"), endpoint)
}

fn snapshot_stream() -> Vec<u8> {
    let users: Vec<UserEntry> = (0..SNAPSHOT_ENTRIES).map(user).collect();
    let mut out = Vec::new();
    encode_snapshot(&mut out, users.iter().map(|u| (&u.name, u.endpoint)));
    out
}

fn presence_stream() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..PRESENCE_LINES {
        let entry = user(i / 2);
        let line = if i % 2 == 0 {
            ServerLine::Login(entry)
        } else {
            ServerLine::Logout(entry)
        };
        line.encode(&mut out);
    }
    out
}

/// The codec path: line decoder, then the nom parser, one line at a time.
fn decode_nom(stream: &[u8], chunk: usize, mut sink: impl FnMut(ServerLine)) {
    let mut decoder = LineDecoder::new(MAX_SERVER_LINE);
    for piece in stream.chunks(chunk) {
        decoder.push(piece);
        while let Some(line) = decoder.next_line() {
            match line {
                Ok(line) => sink(ServerLine::parse(line).expect("bench input is valid")),
                Err(too_long) => panic!("bench line refused: {too_long:?}"),
            }
        }
    }
}

/// The baseline: `str::split` on `\n`, `;` and `,`, with the same checks and the same output.
fn decode_naive(stream: &[u8], mut sink: impl FnMut(ServerLine)) {
    let text = std::str::from_utf8(stream).expect("bench input is UTF-8");
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        sink(naive_line(line).expect("bench input is valid"));
    }
}

fn naive_line(line: &str) -> Option<ServerLine> {
    if line.contains(';') {
        let mut entries = Vec::new();
        let mut parts = line.split(';');
        let last = parts.next_back()?;
        if last != "end" {
            return None;
        }
        for part in parts {
            let fields: Vec<&str> = part.split(',').collect();
            if fields.len() != 2 {
                return None;
            }
            entries.push(naive_entry(fields[0], fields[1])?);
        }
        return Some(ServerLine::Snapshot(entries));
    }
    let fields: Vec<&str> = line.split(',').collect();
    match fields.as_slice() {
        ["login", name, ep] => Some(ServerLine::Login(naive_entry(name, ep)?)),
        ["logout", name, ep] => Some(ServerLine::Logout(naive_entry(name, ep)?)),
        _ => None,
    }
}

fn naive_entry(name: &str, endpoint: &str) -> Option<UserEntry> {
    let name = Name::new(name).ok()?;
    let endpoint: SocketAddr = endpoint.parse().ok()?;
    Some(UserEntry::new(name, canonical(endpoint)))
}

/// Both decoders must agree on every input before their speed means anything.
fn assert_same_result(stream: &[u8]) {
    let mut nom = Vec::new();
    decode_nom(stream, CHUNK, |l| nom.push(l));
    let mut naive = Vec::new();
    decode_naive(stream, |l| naive.push(l));
    assert_eq!(nom, naive);
}

fn bench_input(c: &mut Criterion, group_name: &str, stream: &[u8]) {
    assert_same_result(stream);
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_with_input(BenchmarkId::new("nom", stream.len()), stream, |b, s| {
        b.iter(|| decode_nom(s, s.len().max(1), |l| drop(black_box(l))))
    });
    group.bench_with_input(
        BenchmarkId::new("nom_4k_chunks", stream.len()),
        stream,
        |b, s| b.iter(|| decode_nom(s, CHUNK, |l| drop(black_box(l)))),
    );
    group.bench_with_input(
        BenchmarkId::new("naive_split", stream.len()),
        stream,
        |b, s| b.iter(|| decode_naive(s, |l| drop(black_box(l)))),
    );
    group.finish();
}

fn snapshot(c: &mut Criterion) {
    bench_input(c, "snapshot_10k", &snapshot_stream());
}

fn presence(c: &mut Criterion) {
    bench_input(c, "presence_100k", &presence_stream());
}

criterion_group!(benches, snapshot, presence);
criterion_main!(benches);
