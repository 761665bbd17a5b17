//! Unit tests of the server rules, driven with hand-made input and virtual time: one file per
//! theme, sharing the harness below.

mod classic;
mod cluster;
mod limits;
mod login;
mod paths;
mod session;
mod takeover;
mod timers;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::wire::RejectReason;

struct Harness {
    server: Server,
    now: Instant,
    next_conn: u64,
    /// Who the server's broadcasts reach: [`drain`](Harness::drain) hands each recipient its own
    /// `Send`, so the tests read every session's output one by one.
    roster: Roster,
}

fn ep(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

impl Harness {
    fn new() -> Self {
        Self::with(ServerConfig::default())
    }

    fn with(config: ServerConfig) -> Self {
        Harness {
            server: Server::new(config),
            now: Instant::now(),
            next_conn: 1,
            roster: Roster::default(),
        }
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        while let Some(t) = self.server.poll_timeout() {
            if t > self.now {
                break;
            }
            self.server.handle_timeout(self.now);
        }
    }

    /// Every transmit, each broadcast fanned out over the roster in registration order.
    fn drain(&mut self) -> Vec<ServerTransmit> {
        let mut out = Vec::new();
        while let Some(transmit) = self.server.poll_transmit() {
            out.extend(self.roster.fan_out(transmit));
        }
        out
    }

    /// The transport reports `conn` closed.
    fn closed(&mut self, conn: ConnId, cause: CloseCause) {
        self.roster.remove(conn);
        self.server.handle_connection_closed(self.now, conn, cause);
    }

    fn events(&mut self) -> Vec<ServerEvent> {
        std::iter::from_fn(|| self.server.poll_event()).collect()
    }

    fn datagram(&mut self, from: &str, data: &str) -> Vec<ServerTransmit> {
        self.server
            .handle_datagram(self.now, ep(from), data.as_bytes());
        self.drain()
    }

    fn open(&mut self, peer: &str) -> ConnId {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.server
            .handle_connection_opened(self.now, conn, ep(peer));
        conn
    }

    fn bytes(&mut self, conn: ConnId, data: &str) -> Vec<ServerTransmit> {
        self.server.handle_bytes(self.now, conn, data.as_bytes());
        self.drain()
    }

    /// UDP login from `source`, then the TCP claim from the same IP.
    fn login(&mut self, name: &str, source: &str) -> ConnId {
        let accepted = self.datagram(source, &format!("login,{name},{source}"));
        assert_eq!(accepted, vec![datagram(source, "Accept,9001")]);
        let ip = ep(source).ip();
        let conn = self.open(&SocketAddr::new(ip, 50000 + self.next_conn as u16).to_string());
        self.bytes(conn, &format!("login,{name},{source}\n"));
        conn
    }
}

fn datagram(to: &str, text: &str) -> ServerTransmit {
    ServerTransmit::Datagram {
        to: ep(to),
        data: Bytes::copy_from_slice(text.as_bytes()),
    }
}

fn send(conn: ConnId, text: &str) -> ServerTransmit {
    ServerTransmit::Send {
        conn,
        data: Bytes::copy_from_slice(text.as_bytes()),
    }
}

fn snapshot(conn: ConnId, text: &str) -> ServerTransmit {
    ServerTransmit::Snapshot {
        conn,
        data: Bytes::copy_from_slice(text.as_bytes()),
    }
}

fn close(conn: ConnId) -> ServerTransmit {
    ServerTransmit::Close { conn }
}

fn online(h: &Harness) -> Vec<String> {
    h.server
        .online()
        .map(|e| format!("{},{}", e.name, e.endpoint))
        .collect()
}

fn utf16(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    crate::wire::encode_utf16le(text, &mut out);
    out
}

fn classic_datagram(to: &str, text: &str) -> ServerTransmit {
    ServerTransmit::Datagram {
        to: ep(to),
        data: Bytes::from(utf16(text)),
    }
}

impl Harness {
    fn classic(&mut self, from: &str, text: &str) -> Vec<ServerTransmit> {
        self.server
            .handle_datagram(self.now, ep(from), &utf16(text));
        self.drain()
    }
}

fn classic_list(text: &str) -> Vec<u8> {
    let mut out = vec![u8::try_from(text.len()).unwrap()];
    out.extend_from_slice(text.as_bytes());
    out
}
