//! The pure server core: how many logins a second it admits, and what one presence broadcast
//! costs with many sessions online. No sockets: this is the ceiling a transport can reach.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use feige_core::server::{ConnId, Server, ServerConfig};

fn source(i: u32) -> SocketAddr {
    let ip = Ipv4Addr::from(0x0a00_0000 + i);
    SocketAddr::new(IpAddr::V4(ip), 40_000)
}

/// Logs user `i` in fully (UDP login, TCP open, claim) and drains what the server queued.
fn login(server: &mut Server, now: Instant, i: u32) -> usize {
    let from = source(i);
    let name = format!("user{i}");
    server.handle_datagram(now, from, format!("login,{name},{from}").as_bytes());
    let conn = ConnId(u64::from(i));
    server.handle_connection_opened(now, conn, SocketAddr::new(from.ip(), 50_000));
    server.handle_bytes(now, conn, format!("login,{name},{from}\n").as_bytes());
    drain(server)
}

fn logout(server: &mut Server, now: Instant, i: u32) -> usize {
    let from = source(i);
    let conn = ConnId(u64::from(i));
    server.handle_bytes(now, conn, format!("logout,user{i},{from}\n").as_bytes());
    drain(server)
}

fn drain(server: &mut Server) -> usize {
    let mut n = 0;
    while let Some(t) = server.poll_transmit() {
        black_box(t);
        n += 1;
    }
    while server.poll_event().is_some() {}
    n
}

fn populated(n: u32, now: Instant) -> Server {
    let mut server = Server::new(ServerConfig::default());
    for i in 0..n {
        login(&mut server, now, i);
    }
    server
}

fn logins(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_login_logout");
    group.measurement_time(Duration::from_secs(3));
    for online in [0u32, 100, 1_000] {
        let now = Instant::now();
        let mut server = populated(online, now);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(online), &online, |b, &n| {
            b.iter(|| {
                login(&mut server, now, n);
                logout(&mut server, now, n)
            })
        });
    }
    group.finish();
}

fn broadcast(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_join_broadcast");
    group.measurement_time(Duration::from_secs(5));
    group.sample_size(20);
    for online in [1_000u32, 10_000] {
        let now = Instant::now();
        let mut server = populated(online, now);
        // The leave alone is timed: one `logout` line queued for each of `online` sessions.
        group.throughput(Throughput::Elements(u64::from(online)));
        group.bench_with_input(BenchmarkId::from_parameter(online), &online, |b, &n| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    login(&mut server, now, n);
                    let start = Instant::now();
                    black_box(logout(&mut server, now, n));
                    spent += start.elapsed();
                }
                spent
            })
        });
    }
    group.finish();
}

criterion_group!(benches, logins, broadcast);
criterion_main!(benches);
