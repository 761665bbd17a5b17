//! Message round trip between client pairs over real UDP sockets: `msg` → `ack` → `delivered`
//! through two `Client` cores (sealed end to end: the first message of a pair pays the Noise
//! handshake, timed apart as `first_us`), and, as the floor, a bare UDP ping-pong between two
//! sockets.
//! Each side of a pair is a thread pinned to a CPU, so "same core" and "cross core" are exact.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use feige_core::client::{Client, ClientConfig, ClientEvent, ClientTransmit, StaticKeys};
use feige_core::wire::{Name, SessionId};
use serde::{Deserialize, Serialize};

use crate::stats::percentile;
use crate::sys;

/// What travels between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `msg` → `ack` → `delivered` through `Client` cores.
    Chat,
    /// A bare 40-byte datagram echoed back.
    Udp,
}

/// Where the two sides of every pair run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Both on CPU 0.
    Same,
    /// Sender on CPU 0, receiver on CPU 1.
    Cross,
}

impl Placement {
    fn cpus(self) -> (usize, usize) {
        match self {
            Placement::Same => (0, 0),
            Placement::Cross => (0, 1),
        }
    }
}

/// One run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundTripRun {
    /// What travelled.
    pub kind: Kind,
    /// Where it ran.
    pub placement: Placement,
    /// Pairs running at once.
    pub pairs: usize,
    /// Round trips completed by all pairs.
    pub round_trips: usize,
    /// p50 round trip, µs.
    pub p50_us: f64,
    /// p99 round trip, µs.
    pub p99_us: f64,
    /// Round trips per second over all pairs.
    pub per_sec: f64,
    /// The first round trip of each pair, handshake included (chat only), µs, median over pairs.
    #[serde(default)]
    pub first_us: f64,
}

/// Runs `pairs` pairs for `seconds`.
pub fn run(
    kind: Kind,
    placement: Placement,
    pairs: usize,
    seconds: f64,
) -> io::Result<RoundTripRun> {
    let (sender_cpu, receiver_cpu) = placement.cpus();
    let stop = Arc::new(AtomicBool::new(false));
    let duration = Duration::from_secs_f64(seconds);
    let mut senders = Vec::with_capacity(pairs);
    let mut receivers = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let a = UdpSocket::bind("127.0.0.1:0")?;
        let b = UdpSocket::bind("127.0.0.1:0")?;
        let (a_addr, b_addr) = (a.local_addr()?, b.local_addr()?);
        let stop_b = Arc::clone(&stop);
        receivers.push(thread::spawn(move || {
            let _ = sys::pin_current_thread(receiver_cpu);
            match kind {
                Kind::Udp => echo(&b, &stop_b),
                Kind::Chat => chat_receiver(&b, b_addr, a_addr, &stop_b),
            }
        }));
        senders.push(thread::spawn(move || {
            let _ = sys::pin_current_thread(sender_cpu);
            match kind {
                Kind::Udp => ping(&a, b_addr, duration),
                Kind::Chat => chat_sender(&a, a_addr, b_addr, duration),
            }
        }));
    }
    let mut samples = Vec::new();
    let mut firsts = Vec::new();
    let mut failure = None;
    for sender in senders {
        match sender.join() {
            Ok(Ok(mut s)) => {
                // A chat pair's first round trip carries the handshake: counted apart.
                if kind == Kind::Chat && !s.is_empty() {
                    firsts.push(s.remove(0));
                }
                samples.append(&mut s)
            }
            Ok(Err(e)) => failure = Some(e),
            Err(_) => failure = Some(io::Error::other("sender thread panicked")),
        }
    }
    stop.store(true, Ordering::Relaxed);
    for receiver in receivers {
        let _ = receiver.join();
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(RoundTripRun {
        kind,
        placement,
        pairs,
        round_trips: samples.len(),
        p50_us: percentile(&samples, 50.0),
        p99_us: percentile(&samples, 99.0),
        per_sec: samples.len() as f64 / seconds,
        first_us: percentile(&firsts, 50.0),
    })
}

/// How long a blocked receive waits before checking whether to stop.
const POLL: Duration = Duration::from_millis(50);

fn ping(socket: &UdpSocket, to: SocketAddr, duration: Duration) -> io::Result<Vec<f64>> {
    socket.set_read_timeout(Some(POLL))?;
    let mut samples = Vec::new();
    let mut buf = [0u8; 64];
    let end = Instant::now() + duration;
    while Instant::now() < end {
        let start = Instant::now();
        socket.send_to(&[b'p'; 40], to)?;
        match socket.recv_from(&mut buf) {
            Ok(_) => samples.push(start.elapsed().as_secs_f64() * 1e6),
            // Lost on loopback under pressure: try again, untimed.
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(samples)
}

fn echo(socket: &UdpSocket, stop: &AtomicBool) -> io::Result<Vec<f64>> {
    socket.set_read_timeout(Some(POLL))?;
    let mut buf = [0u8; 64];
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                socket.send_to(buf.get(..n).unwrap_or_default(), from)?;
            }
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Vec::new())
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A server address nobody listens on: the cores are made online by hand, not by a server.
const NO_SERVER: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)),
    9,
);

/// The long-term key pair of a bench user (fixed: the bench is not about key secrecy).
fn keys_of(name: &str) -> StaticKeys {
    let mut private = [7u8; 32];
    for (byte, b) in private.iter_mut().zip(name.bytes()) {
        *byte = b;
    }
    StaticKeys::from_private(private)
}

/// A `Client` core online as `me`, with `peer` listed with its key, fed a snapshot by hand.
fn online_core(me: (&str, SocketAddr), peer: (&str, SocketAddr), sid: u64) -> io::Result<Client> {
    let now = Instant::now();
    let name = Name::new(me.0).map_err(|e| io::Error::other(e.to_string()))?;
    let config = ClientConfig {
        identity: Some(keys_of(me.0)),
        seed: [sid as u8; 32],
        ..ClientConfig::new(name, NO_SERVER, me.1, SessionId::new(sid))
    };
    let mut client = Client::new(config, now);
    client.handle_datagram(now, NO_SERVER, b"Accept,9");
    client.handle_connected(now);
    let snapshot = format!(
        "{},{};{},{};end\nkey,{},{}\nkey,{},{}\n",
        me.0,
        me.1,
        peer.0,
        peer.1,
        me.0,
        keys_of(me.0).public(),
        peer.0,
        keys_of(peer.0).public()
    );
    client.handle_tcp_bytes(now, snapshot.as_bytes());
    while client.poll_transmit().is_some() {}
    let mut online = false;
    while let Some(event) = client.poll_event() {
        online |= matches!(event, ClientEvent::LoggedIn { .. });
    }
    if online {
        Ok(client)
    } else {
        Err(io::Error::other("the core did not come online"))
    }
}

/// Sends every datagram the core queued; drops what goes to the absent server.
fn flush(client: &mut Client, socket: &UdpSocket) -> io::Result<()> {
    while let Some(transmit) = client.poll_transmit() {
        if let ClientTransmit::Datagram { to, data } = transmit {
            if to != NO_SERVER {
                socket.send_to(&data, to)?;
            }
        }
    }
    Ok(())
}

/// Waits for the next datagram, or the core's next timer, whichever comes first.
fn step(client: &mut Client, socket: &UdpSocket, buf: &mut [u8]) -> io::Result<()> {
    let now = Instant::now();
    let wait = client
        .poll_timeout()
        .map(|t| t.saturating_duration_since(now))
        .unwrap_or(POLL)
        .clamp(Duration::from_millis(1), POLL);
    socket.set_read_timeout(Some(wait))?;
    match socket.recv_from(buf) {
        Ok((n, from)) => {
            client.handle_datagram(Instant::now(), from, buf.get(..n).unwrap_or_default())
        }
        Err(e) if is_timeout(&e) => client.handle_timeout(Instant::now()),
        Err(e) => return Err(e),
    }
    flush(client, socket)
}

fn chat_sender(
    socket: &UdpSocket,
    me: SocketAddr,
    peer: SocketAddr,
    duration: Duration,
) -> io::Result<Vec<f64>> {
    let mut client = online_core(("alice", me), ("bob", peer), 1)?;
    let mut buf = [0u8; 2048];
    let mut samples = Vec::new();
    let end = Instant::now() + duration;
    while Instant::now() < end {
        let start = Instant::now();
        let id = client
            .send_message(start, "bob", "a forty-byte chat line, give or take it")
            .map_err(|e| io::Error::other(e.to_string()))?;
        flush(&mut client, socket)?;
        'wait: loop {
            step(&mut client, socket, &mut buf)?;
            while let Some(event) = client.poll_event() {
                match event {
                    ClientEvent::Delivered { id: done, .. } if done == id => {
                        samples.push(start.elapsed().as_secs_f64() * 1e6);
                        break 'wait;
                    }
                    ClientEvent::Failed { id: done, .. } if done == id => break 'wait,
                    _ => {}
                }
            }
        }
    }
    Ok(samples)
}

fn chat_receiver(
    socket: &UdpSocket,
    me: SocketAddr,
    peer: SocketAddr,
    stop: &AtomicBool,
) -> io::Result<Vec<f64>> {
    let mut client = online_core(("bob", me), ("alice", peer), 2)?;
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        step(&mut client, socket, &mut buf)?;
        while client.poll_event().is_some() {}
    }
    Ok(Vec::new())
}
