//! A server driven by an arbitrary sequence of operations under the drain contract, its
//! invariants checked after every one (see [`ServerModel`]), and at the end a long silence after
//! which everything it holds must have expired.

use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};

use crate::server::{CloseCause, ConnId, Server, ServerConfig};
use crate::wire::{encode_utf16le, ClientDatagram, ClientLine, UserEntry};

use super::pools::Pools;
use super::server_model::ServerModel;

/// What the network and the transport can do to a server. Indices pick from [`Pools`] or from
/// the connections opened so far.
///
/// The seeds (`fuzz/make_seeds.py`) name variants by position: add new ones at the end only.
#[derive(Debug, Arbitrary)]
enum Op {
    /// A well-formed `login` datagram.
    Login { from: u8, name: u8, declared: u8 },
    /// The same login in UTF-16LE, as the textbook client writes it.
    ClassicLogin { from: u8, name: u8, declared: u8 },
    /// A well-formed `logout` datagram (honoured only from the user's own endpoint).
    Logout { from: u8, name: u8, declared: u8 },
    /// Any datagram at all.
    Datagram { from: u8, data: Vec<u8> },
    /// A new TCP connection (connection ids are never reused).
    Open { peer: u8 },
    /// The claim line `login,<name>,<declared>`, cut in two at `split`.
    Claim {
        conn: u8,
        name: u8,
        declared: u8,
        split: u8,
    },
    /// The `logout` line.
    LogoutLine { conn: u8, name: u8, declared: u8 },
    /// A `ping` line.
    Ping { conn: u8 },
    /// Any bytes on a connection.
    Bytes { conn: u8, data: Vec<u8> },
    /// The transport reports a connection gone.
    Close { conn: u8, slow: bool },
    /// Time passes.
    Tick { ms: u16 },
}

/// Small limits, so that `server-full`, `rate-limited` and `too-many-connections` are reached,
/// per address and per prefix (the pools hold two addresses of one /24 and of one /64).
fn config() -> ServerConfig {
    ServerConfig {
        max_sessions: 4,
        max_pending_per_ip: 2,
        max_pending_per_prefix: 3,
        max_sessions_per_ip: 3,
        max_sessions_per_prefix: 3,
        max_classic_per_ip: 1,
        max_classic_per_prefix: 2,
        max_classic_sessions: 2,
        max_unclaimed_per_ip: 3,
        max_unclaimed_per_prefix: 4,
        max_connections: Some(10),
        classic_lease: Some(Duration::from_secs(30)),
        ..ServerConfig::default()
    }
}

/// Runs the operations in `data` against a fresh server whose clock starts at `start`.
pub fn server_ops(start: Instant, data: &[u8]) {
    let Ok(ops) = Vec::<Op>::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let config = config();
    let longest_timer = [
        config.pending_timeout,
        config.pending_max_life,
        config.idle_timeout,
        config.claim_timeout,
        config.silent_claim_after,
        config.classic_lease.unwrap_or_default(),
    ]
    .into_iter()
    .max()
    .unwrap_or_default();
    let mut rig = Rig {
        server: Server::new(config.clone()),
        model: ServerModel::new(config),
        pools: Pools::new(),
        now: start,
        opened: Vec::new(),
    };
    rig.drain();
    for op in ops {
        rig.apply(op);
        rig.drain();
    }
    // Nobody speaks any more: every login, connection and session must expire.
    for _ in 0..2 {
        rig.now += longest_timer * 2;
        rig.drain();
    }
    rig.model.check_quiescent(&rig.server);
}

struct Rig {
    server: Server,
    model: ServerModel,
    pools: Pools,
    now: Instant,
    opened: Vec<ConnId>,
}

impl Rig {
    fn apply(&mut self, op: Op) {
        let now = self.now;
        match op {
            Op::Login {
                from,
                name,
                declared,
            } => {
                let entry = UserEntry::new(self.pools.name(name), self.pools.address(declared));
                self.datagram(from, &ClientDatagram::Login(entry).to_vec());
            }
            Op::ClassicLogin {
                from,
                name,
                declared,
            } => {
                let entry = UserEntry::new(self.pools.name(name), self.pools.address(declared));
                let utf8 = ClientDatagram::Login(entry).to_vec();
                let mut utf16 = Vec::new();
                encode_utf16le(&String::from_utf8_lossy(&utf8), &mut utf16);
                self.datagram(from, &utf16);
            }
            Op::Logout {
                from,
                name,
                declared,
            } => {
                let entry = UserEntry::new(self.pools.name(name), self.pools.address(declared));
                self.datagram(from, &ClientDatagram::Logout(entry).to_vec());
            }
            Op::Datagram { from, data } => self.datagram(from, &data),
            Op::Open { peer } => {
                let conn = ConnId(self.opened.len() as u64);
                let peer = self.pools.address(peer);
                self.opened.push(conn);
                self.model.opened(conn, peer);
                self.server.handle_connection_opened(now, conn, peer);
            }
            Op::Claim {
                conn,
                name,
                declared,
                split,
            } => {
                let entry = UserEntry::new(self.pools.name(name), self.pools.address(declared));
                let line = ClientLine::Login { entry, key: None }.to_vec();
                let (head, tail) = line.split_at(usize::from(split) % line.len());
                self.bytes(conn, head);
                self.bytes(conn, tail);
            }
            Op::LogoutLine {
                conn,
                name,
                declared,
            } => {
                let entry = UserEntry::new(self.pools.name(name), self.pools.address(declared));
                self.bytes(conn, &ClientLine::Logout(entry).to_vec());
            }
            Op::Ping { conn } => self.bytes(conn, &ClientLine::Ping.to_vec()),
            Op::Bytes { conn, data } => self.bytes(conn, &data),
            Op::Close { conn, slow } => {
                if let Some(conn) = self.conn(conn) {
                    let cause = if slow {
                        CloseCause::SlowConsumer
                    } else {
                        CloseCause::Closed
                    };
                    self.model.closed_by_transport(conn);
                    self.server.handle_connection_closed(now, conn, cause);
                }
            }
            Op::Tick { ms } => self.now += Duration::from_millis(u64::from(ms)),
        }
    }

    fn datagram(&mut self, from: u8, data: &[u8]) {
        let from = self.pools.address(from);
        self.model.datagram_from(from, data);
        self.server.handle_datagram(self.now, from, data);
    }

    /// Bytes on one of the connections opened so far: closed ones included, as a transport may
    /// still hand over what it read before it saw the close.
    fn bytes(&mut self, conn: u8, data: &[u8]) {
        if let Some(conn) = self.conn(conn) {
            self.server.handle_bytes(self.now, conn, data);
        }
    }

    fn conn(&self, index: u8) -> Option<ConnId> {
        let count = self.opened.len();
        (count > 0).then(|| self.opened[usize::from(index) % count])
    }

    /// The drain contract: take every output, and run the timers that are due, until nothing
    /// is left to do now. Each timeout call must move the next deadline past `now`.
    fn drain(&mut self) {
        loop {
            while let Some(transmit) = self.server.poll_transmit() {
                self.model.transmit(transmit);
            }
            while let Some(event) = self.server.poll_event() {
                self.model.event(event);
            }
            self.model.check(&self.server);
            match self.server.poll_timeout() {
                Some(deadline) if deadline <= self.now => {
                    self.server.handle_timeout(self.now);
                    let next = self.server.poll_timeout();
                    assert!(
                        next.is_none_or(|next| next > self.now),
                        "handle_timeout left a due timer: it would spin"
                    );
                }
                _ => return,
            }
        }
    }
}
