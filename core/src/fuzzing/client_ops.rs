//! A client driven by an arbitrary sequence of operations under the drain contract, its
//! invariants checked after every one (see [`ClientModel`]), and at the end a long silence that
//! must bring it to its end with every message resolved. The first input byte picks the
//! dialect: a feige server (whose users may be classic peers) or a textbook one.
//!
//! Native chat is sealed: on a feige server the client has a key, and its peers are secure layers
//! of their own ([`Peers`]) that answer its handshakes, open what it sends, and seal the `msg`s
//! and `ack`s the fuzzer makes up, with the user's key, an impostor's, or none at all (a plain
//! datagram, which must be counted `unsealed` and change nothing else).
//!
//! Texts are bytes (read as lossy UTF-8) rather than `String`s, so that seeds can be written by
//! hand: see `fuzz/make_seeds.py`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};

use crate::client::secure::Peer;
use crate::client::{Client, ClientConfig, ClientTransmit};
use crate::wire::{
    encode_classic_list, is_sealed, ClassicDatagram, ClientLine, Dialect, ErrorReason, Name,
    PeerDatagram, RejectReason, RelayPayload, ServerDatagram, ServerLine, SessionId, UserEntry,
};

use super::client_model::{ClientModel, Recipient};
use super::client_peers::{keys_of, Peers};
use super::pools::Pools;

/// What the server, the peers, the transport and the user can do to a client. Indices pick
/// from [`Pools`]; pool name 0 is the client's own.
///
/// The seeds (`fuzz/make_seeds.py`) name variants by position: add new ones at the end only.
#[derive(Debug, Arbitrary)]
enum Op {
    /// `Accept,<port>` from the server.
    Accept { port: u16 },
    /// `Reject,<reason>` from the server.
    Reject { reason: RejectReason },
    /// Any datagram from the server's address.
    ServerDatagram { data: Vec<u8> },
    /// A `msg` claiming to be from `name`, sealed by the peer `by` (or not), sent from `source`.
    Msg {
        name: u8,
        source: u8,
        sid: u8,
        seq: u8,
        text: Vec<u8>,
        by: u8,
        sealer: Sealer,
    },
    /// An `ack` from `name`, for our session or another, sealed by the peer `by` (or not).
    Ack {
        name: u8,
        source: u8,
        ours: bool,
        seq: u8,
        by: u8,
        sealer: Sealer,
    },
    /// Any datagram from a peer address.
    Datagram { source: u8, data: Vec<u8> },
    /// The transport opened the TCP session.
    Connected,
    /// A snapshot line, with or without us in it, cut in two at `split`.
    Snapshot {
        entries: Vec<(u8, u8)>,
        me_at: Option<u8>,
        split: u16,
    },
    /// `login,<name>,<endpoint>` on TCP.
    Joined { name: u8, endpoint: u8 },
    /// `logout,<name>,<endpoint>` on TCP.
    Left { name: u8, endpoint: u8 },
    /// `dialect,<name>,classic` on TCP.
    Dialect { name: u8 },
    /// `pong` on TCP.
    Pong,
    /// `error,<reason>` on TCP.
    Error { reason: ErrorReason },
    /// Any bytes on TCP.
    Bytes { data: Vec<u8> },
    /// The TCP session closed or could not be opened.
    TcpClosed,
    /// The user sends `text` (repeated, to reach the size limit) to pool name `to`.
    Send { to: u8, text: Vec<u8>, repeat: u8 },
    /// The user sends to any name at all.
    SendAnyone { to: Vec<u8>, text: Vec<u8> },
    /// The user logs out.
    Logout,
    /// Time passes.
    Tick { ms: u16 },
    /// `Accept,<port>` in UTF-16LE, from the server's IP at `from_port` (0: its own port).
    ClassicAccept { port: u16, from_port: u16 },
    /// A textbook server's `login`/`logout` datagram announcing someone.
    ClassicPresence {
        logout: bool,
        name: u8,
        endpoint: u8,
        from_port: u16,
    },
    /// A classic peer's `talk` datagram.
    Talk {
        name: u8,
        source: u8,
        time: Vec<u8>,
        text: Vec<u8>,
    },
    /// A textbook server's one-shot list on TCP, with or without us at our declared endpoint,
    /// cut in two at `split`.
    ClassicList {
        entries: Vec<(u8, u8)>,
        with_me: bool,
        split: u16,
    },
    /// `key,<name>,<key>` on TCP: the user's own key, or its twin's.
    Key { name: u8, twin: bool },
    /// The user trusts the key listed for `name` (`/trust`).
    Trust { name: u8 },
    /// The client's datagrams to `name` and its twin are lost from now on, or no longer.
    Mute { name: u8 },
    /// The peer `name` (or its twin) loses its sessions with the client: it restarted.
    Forget { name: u8, twin: bool },
    /// `intro,<name>,<endpoint>` on TCP: the server introduces `name`.
    Intro { name: u8, endpoint: u8 },
    /// `name`'s datagrams (and its twin's) come through the relay from now on, or no longer.
    Relaying { name: u8 },
}

/// Who puts a fuzzed `msg` or `ack` on the wire.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Sealer {
    /// The peer, with its own key.
    Own,
    /// The peer's twin: the same name, another key.
    Twin,
    /// Nobody: the plaintext goes out plain.
    Plain,
}

/// One run: the dialect of the server, then what happens.
#[derive(Debug, Arbitrary)]
struct Run {
    classic: bool,
    ops: Vec<Op>,
}

/// Where the fuzzed client's server is; no pool address equals it.
const SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 9000);
/// The client's declared endpoint.
const LOCAL: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 5)), 40001);
const OUR_SID: u64 = 0x0123_4567_89ab_cdef;

/// Runs the operations in `data` against a fresh client whose clock starts at `start`.
pub fn client_ops(start: Instant, data: &[u8]) {
    let Ok(run) = Run::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };

    let pools = Pools::new();
    let mut config = ClientConfig::new(pools.name(0), SERVER, LOCAL, SessionId::new(OUR_SID));
    let keys = keys_of(&pools.name(0), false);
    let us = Peer {
        name: pools.name(0),
        key: keys.public(),
    };
    if run.classic {
        config.dialect = Some(Dialect::Classic);
    } else {
        config.identity = Some(keys);
    }
    // A short queue, so that `QueueFull` is reached.
    config.max_queued_per_peer = 2;
    let mut rig = Rig {
        client: Client::new(config.clone(), start),
        model: ClientModel::new(config),
        peers: Peers::new(us, LOCAL, start),
        pools,
        now: start,
    };
    rig.drain();
    for op in run.ops {
        rig.apply(op);
        rig.drain();
    }
    // The server and every peer fall silent for half an hour, the client woken at each of its
    // deadlines: it must give up on what it cannot deliver, or end and resolve everything.
    let silence_ends = rig.now + Duration::from_secs(30 * 60);
    while let Some(deadline) = rig.client.poll_timeout() {
        if deadline > silence_ends {
            break;
        }
        rig.now = rig.now.max(deadline);
        rig.drain();
    }
    rig.now = silence_ends;
    rig.drain();
    rig.model.check_ended(&rig.client);
}

/// The sealed datagrams in the client's `relay` lines, each with the peer it is for.
fn relayed(lines: &[u8]) -> Vec<(Vec<Name>, bytes::Bytes)> {
    lines
        .split(|&b| b == b'\n')
        .filter_map(|line| match ClientLine::parse(line) {
            Ok(ClientLine::Relay { to, payload }) => {
                Some((vec![to], bytes::Bytes::from(payload.decode())))
            }
            _ => None,
        })
        .collect()
}

struct Rig {
    client: Client,
    model: ClientModel,
    peers: Peers,
    pools: Pools,
    now: Instant,
}

impl Rig {
    fn apply(&mut self, op: Op) {
        let now = self.now;
        match op {
            Op::Accept { port } => {
                self.server_datagram(&ServerDatagram::Accept { tcp_port: port }.to_vec())
            }
            Op::Reject { reason } => self.server_datagram(&ServerDatagram::Reject(reason).to_vec()),
            Op::ServerDatagram { data } => self.server_datagram(&data),
            Op::Msg {
                name,
                source,
                sid,
                seq,
                text,
                by,
                sealer,
            } => {
                let text = String::from_utf8_lossy(&text);
                if text.is_empty() {
                    return;
                }
                let from = self.pools.name(name);
                let datagram = PeerDatagram::Msg {
                    from: from.clone(),
                    sid: SessionId::new(u64::from(sid)),
                    seq: u64::from(seq).max(1),
                    text: &text,
                };
                let key = self.chat(by, sealer, source, &datagram.to_vec());
                if let Some(key) = key.filter(|_| self.pools.name(by) == from) {
                    self.model.sealed_msg(key, from, text.into_owned());
                }
            }
            Op::Ack {
                name,
                source,
                ours,
                seq,
                by,
                sealer,
            } => {
                let sid = if ours { OUR_SID } else { OUR_SID ^ 1 };
                let from = self.pools.name(name);
                let seq = u64::from(seq).max(1);
                let datagram = PeerDatagram::Ack {
                    from: from.clone(),
                    sid: SessionId::new(sid),
                    seq,
                };
                let key = self.chat(by, sealer, source, &datagram.to_vec());
                if let Some(key) = key.filter(|_| ours && self.pools.name(by) == from) {
                    self.model.sealed_ack(key, from, seq);
                }
            }
            Op::Datagram { source, data } => self.peer_datagram(source, &data),
            Op::Connected => {
                if self.model.tcp_connecting() {
                    self.model.connected();
                    self.client.handle_connected(now);
                }
            }
            Op::Snapshot {
                entries,
                me_at,
                split,
            } => {
                let mut listed: Vec<UserEntry> =
                    entries.iter().map(|&(n, ep)| self.entry(n, ep)).collect();
                if let Some(ep) = me_at {
                    listed.push(self.entry(0, ep));
                }
                let line = ServerLine::Snapshot(listed).to_vec();
                let (head, tail) = line.split_at(usize::from(split) % line.len());
                self.tcp_bytes(head);
                self.tcp_bytes(tail);
            }
            Op::Joined { name, endpoint } => {
                self.tcp_line(ServerLine::Login(self.entry(name, endpoint)))
            }
            Op::Left { name, endpoint } => {
                self.tcp_line(ServerLine::Logout(self.entry(name, endpoint)))
            }
            Op::Dialect { name } => self.tcp_line(ServerLine::Dialect {
                name: self.pools.name(name),
                dialect: Dialect::Classic,
            }),
            Op::Pong => self.tcp_line(ServerLine::Pong),
            Op::Error { reason } => self.tcp_line(ServerLine::Error(reason)),
            Op::Bytes { data } => self.tcp_bytes(&data),
            Op::TcpClosed => {
                if self.model.tcp_alive() {
                    self.model.tcp_closed();
                    self.client.handle_tcp_closed(now);
                }
            }
            Op::Send { to, text, repeat } => {
                let to = self.pools.name(to);
                let text = String::from_utf8_lossy(&text).repeat(usize::from(repeat).max(1));
                self.send(to.as_str(), &text);
            }
            Op::SendAnyone { to, text } => self.send(
                &String::from_utf8_lossy(&to),
                &String::from_utf8_lossy(&text),
            ),
            Op::Logout => self.client.logout(now),
            Op::Tick { ms } => self.now += Duration::from_millis(u64::from(ms)),
            Op::ClassicAccept { port, from_port } => {
                let accept = ClassicDatagram::Accept { tcp_port: port };
                self.server_ip_datagram(from_port, &accept.to_vec());
            }
            Op::ClassicPresence {
                logout,
                name,
                endpoint,
                from_port,
            } => {
                let entry = self.entry(name, endpoint);
                let presence = if logout {
                    ClassicDatagram::Logout(entry)
                } else {
                    ClassicDatagram::Login(entry)
                };
                self.server_ip_datagram(from_port, &presence.to_vec());
            }
            Op::Talk {
                name,
                source,
                time,
                text,
            } => {
                let talk = ClassicDatagram::Talk {
                    time: String::from_utf8_lossy(&time).replace(',', ""),
                    from: self.pools.name(name),
                    text: String::from_utf8_lossy(&text).into_owned(),
                };
                self.peer_datagram(source, &talk.to_vec());
            }
            Op::ClassicList {
                entries,
                with_me,
                split,
            } => {
                let mut listed: Vec<UserEntry> =
                    entries.iter().map(|&(n, ep)| self.entry(n, ep)).collect();
                if with_me {
                    listed.push(UserEntry::new(self.pools.name(0), LOCAL));
                }
                let mut list = Vec::new();
                encode_classic_list(listed.iter().map(|e| (&e.name, e.endpoint)), &mut list);
                let (head, tail) = list.split_at(usize::from(split) % list.len());
                self.tcp_bytes(head);
                self.tcp_bytes(tail);
            }
            Op::Key { name, twin } => {
                let name = self.pools.name(name);
                let key = self.peers.key(&name, twin);
                if self.model.tcp_open() {
                    self.model.key_line(name.clone(), key);
                }
                self.tcp_line(ServerLine::Key { name, key });
            }
            Op::Trust { name } => {
                let name = self.pools.name(name);
                let result = self.client.trust(now, &name);
                self.model.trusted(&name, result);
            }
            Op::Mute { name } => self.peers.toggle_mute(&self.pools.name(name)),
            Op::Forget { name, twin } => self.peers.forget(&self.pools.name(name), twin),
            Op::Intro { name, endpoint } => {
                self.tcp_line(ServerLine::Intro(self.entry(name, endpoint)))
            }
            Op::Relaying { name } => self.peers.toggle_relaying(&self.pools.name(name)),
        }
    }

    /// A fuzzed `msg` or `ack`: sealed by the peer `by` (its own key or its twin's) and sent from
    /// `source` (returns the key), or sent plain, which must change nothing but `unsealed`.
    fn chat(
        &mut self,
        by: u8,
        sealer: Sealer,
        source: u8,
        plaintext: &[u8],
    ) -> Option<crate::wire::PublicKey> {
        let source = self.pools.address(source);
        let twin = match sealer {
            Sealer::Own => false,
            Sealer::Twin => true,
            Sealer::Plain => {
                let before = self.client.stats().unsealed;
                let counts = self.model.online() && self.client.config().dialect.is_none();
                self.client.handle_datagram(self.now, source, plaintext);
                assert!(self.client.poll_event().is_none(), "a plain datagram told");
                assert!(
                    self.client.poll_transmit().is_none(),
                    "a plain datagram answered"
                );
                let after = self.client.stats().unsealed;
                assert_eq!(after, before + u64::from(counts), "plain chat uncounted");
                return None;
            }
        };
        let by = self.pools.name(by);
        Some(self.peers.seal(self.now, &by, twin, source, plaintext))
    }

    /// A datagram from the server's IP, at its own port or another (a textbook server answers
    /// from fresh ports).
    fn server_ip_datagram(&mut self, from_port: u16, data: &[u8]) {
        let port = if from_port == 0 {
            SERVER.port()
        } else {
            from_port
        };
        self.model.server_said(data);
        let from = SocketAddr::new(SERVER.ip(), port);
        self.client.handle_datagram(self.now, from, data);
    }

    fn entry(&self, name: u8, endpoint: u8) -> UserEntry {
        UserEntry::new(self.pools.name(name), self.pools.address(endpoint))
    }

    fn server_datagram(&mut self, data: &[u8]) {
        self.model.server_said(data);
        self.client.handle_datagram(self.now, SERVER, data);
    }

    fn peer_datagram(&mut self, source: u8, data: &[u8]) {
        let source = self.pools.address(source);
        if is_sealed(data) {
            self.model.sealed_from(source);
        }
        self.client.handle_datagram(self.now, source, data);
    }

    fn tcp_line(&mut self, line: ServerLine) {
        self.tcp_bytes(&line.to_vec());
    }

    /// Bytes arrive only on an open connection, as a transport delivers them.
    fn tcp_bytes(&mut self, data: &[u8]) {
        if self.model.tcp_open() {
            self.client.handle_tcp_bytes(self.now, data);
        }
    }

    fn send(&mut self, to: &str, text: &str) {
        let recipient = Recipient {
            listed: self.client.users().any(|e| e.name == to),
            classic: self.client.dialect(to) == Some(Dialect::Classic),
        };
        let state = self.client.state();
        let result = self.client.send_message(self.now, to, text);
        self.model.sent(to, text, recipient, state, result);
    }

    /// The drain contract: take every output, and run the timers that are due, until nothing
    /// is left to do now. Each timeout call must move the next deadline past `now`. The sealed
    /// datagrams go to the peers listed or speaking where they were sent (relayed ones to the
    /// peer they name), and theirs back to the client, directly or as `relay` lines.
    fn drain(&mut self) {
        loop {
            let mut sealed = Vec::new();
            while let Some(transmit) = self.client.poll_transmit() {
                match &transmit {
                    ClientTransmit::Datagram { to, data } if is_sealed(data) => {
                        let mut names: Vec<Name> = self
                            .client
                            .users()
                            .filter(|e| e.endpoint == *to)
                            .map(|e| e.name.clone())
                            .collect();
                        names.extend(self.peers.names_at(*to));
                        sealed.push((names, bytes::Bytes::clone(data)));
                    }
                    ClientTransmit::Send { data } => sealed.extend(relayed(data)),
                    _ => {}
                }
                self.model.transmit(transmit);
            }
            while let Some(event) = self.client.poll_event() {
                self.model.event(event);
            }
            self.model.check(&self.client);
            let mut moved = !sealed.is_empty();
            for (names, data) in sealed {
                for plaintext in self.peers.deliver(self.now, &names, &data) {
                    self.model.peer_opened(&plaintext);
                }
            }
            for out in self.peers.outgoing() {
                moved = true;
                if !out.relayed {
                    self.model.sealed_from(out.source);
                    self.client.handle_datagram(self.now, out.source, &out.data);
                } else if let Some(payload) = RelayPayload::encode(&out.data) {
                    self.tcp_line(ServerLine::Relay {
                        from: out.name,
                        payload,
                    });
                }
            }
            if self.peers.timers(self.now) {
                moved = true;
            }
            if let Some(deadline) = self.client.poll_timeout() {
                if deadline <= self.now {
                    moved = true;
                    self.client.handle_timeout(self.now);
                    let next = self.client.poll_timeout();
                    assert!(
                        next.is_none_or(|next| next > self.now),
                        "handle_timeout left a due timer: it would spin"
                    );
                }
            }
            if !moved {
                return;
            }
        }
    }
}
