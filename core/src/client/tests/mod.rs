//! Unit tests driving a whole client with hand-made datagrams and lines in virtual time.

mod chat;
mod classic_login;
mod classic_peers;
mod login;
mod presence;
mod receiver_props;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Client, ClientConfig, ClientEvent, ClientTransmit};
use crate::wire::{Name, PeerDatagram, SessionId, UserEntry};

pub(super) const SERVER: &str = "10.0.0.1:9000";
pub(super) const LOCAL: &str = "192.168.1.5:40001";
/// Where the server sees us (behind NAT).
pub(super) const OBSERVED: &str = "203.0.113.5:40001";
pub(super) const OUR_SID: u64 = 0x0123_4567_89ab_cdef;
pub(super) const BOB: &str = "198.51.100.7:5000";
pub(super) const CAROL: &str = "[2001:db8::3]:6000";

pub(super) fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub(super) fn name(s: &str) -> Name {
    Name::new(s).unwrap()
}

pub(super) fn entry(n: &str, ep: &str) -> UserEntry {
    UserEntry::new(name(n), addr(ep))
}

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn config() -> ClientConfig {
    ClientConfig::new(
        name("alice"),
        addr(SERVER),
        addr(LOCAL),
        SessionId::new(OUR_SID),
    )
}

pub(super) fn msg(from: &str, sid: u64, seq: u64, text: &str) -> Vec<u8> {
    PeerDatagram::Msg {
        from: name(from),
        sid: SessionId::new(sid),
        seq,
        text,
    }
    .to_vec()
}

pub(super) fn ack(from: &str, sid: u64, seq: u64) -> Vec<u8> {
    PeerDatagram::Ack {
        from: name(from),
        sid: SessionId::new(sid),
        seq,
    }
    .to_vec()
}

/// A client and its virtual clock.
pub(super) struct Rig {
    pub(super) client: Client,
    pub(super) t0: Instant,
    pub(super) now: Instant,
}

impl Rig {
    /// A client that has just queued its first login datagram.
    pub(super) fn new() -> Rig {
        Rig::with(config())
    }

    pub(super) fn with(config: ClientConfig) -> Rig {
        let t0 = Instant::now();
        Rig {
            client: Client::new(config, t0),
            t0,
            now: t0,
        }
    }

    /// Online with `peers` listed after us, all output drained.
    pub(super) fn online(peers: &[(&str, &str)]) -> Rig {
        Rig::online_with(config(), peers)
    }

    pub(super) fn online_with(config: ClientConfig, peers: &[(&str, &str)]) -> Rig {
        let mut rig = Rig::with(config);
        rig.server_datagram(b"Accept,9001");
        rig.client.handle_connected(rig.now);
        let mut snapshot = format!("alice,{OBSERVED};");
        for (n, ep) in peers {
            snapshot.push_str(&format!("{n},{};", addr(ep)));
        }
        snapshot.push_str("end");
        rig.line(&snapshot);
        rig.transmits();
        let events = rig.events();
        assert!(
            matches!(events.as_slice(), [ClientEvent::LoggedIn { .. }]),
            "{events:?}"
        );
        rig
    }

    /// Moves the clock forward and fires the timeout.
    pub(super) fn advance(&mut self, by: Duration) {
        self.now += by;
        self.client.handle_timeout(self.now);
    }

    /// Jumps to the client's next deadline and fires it.
    pub(super) fn fire_next(&mut self) {
        let at = self.client.poll_timeout().expect("a deadline");
        self.now = self.now.max(at);
        self.client.handle_timeout(self.now);
    }

    pub(super) fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    pub(super) fn transmits(&mut self) -> Vec<ClientTransmit> {
        std::iter::from_fn(|| self.client.poll_transmit()).collect()
    }

    /// The datagrams queued (as text), failing on any other transmit.
    pub(super) fn datagrams(&mut self) -> Vec<(SocketAddr, String)> {
        self.transmits()
            .into_iter()
            .map(|t| match t {
                ClientTransmit::Datagram { to, data } => {
                    (to, String::from_utf8(data.to_vec()).unwrap())
                }
                other => panic!("not a datagram: {other:?}"),
            })
            .collect()
    }

    pub(super) fn events(&mut self) -> Vec<ClientEvent> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    pub(super) fn server_datagram(&mut self, data: &[u8]) {
        self.client.handle_datagram(self.now, addr(SERVER), data);
    }

    pub(super) fn peer_datagram(&mut self, from: &str, data: &[u8]) {
        self.client.handle_datagram(self.now, addr(from), data);
    }

    /// One server line; the `\n` is added.
    pub(super) fn line(&mut self, line: &str) {
        self.client
            .handle_tcp_bytes(self.now, format!("{line}\n").as_bytes());
    }
}

/// `text` in UTF-16LE, as the classic dialect writes every datagram.
pub(super) fn utf16(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    crate::wire::encode_utf16le(text, &mut out);
    out
}

impl Rig {
    /// The classic (UTF-16LE) datagrams queued, as text, failing on any other transmit.
    pub(super) fn classic_datagrams(&mut self) -> Vec<(SocketAddr, String)> {
        self.transmits()
            .into_iter()
            .map(|t| match t {
                ClientTransmit::Datagram { to, data } => {
                    (to, crate::wire::decode_utf16le(&data).unwrap())
                }
                other => panic!("not a datagram: {other:?}"),
            })
            .collect()
    }
}

pub(super) fn send_line(text: &str) -> ClientTransmit {
    ClientTransmit::Send {
        data: bytes::Bytes::copy_from_slice(text.as_bytes()),
    }
}
