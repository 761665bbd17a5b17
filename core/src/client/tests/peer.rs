//! The client's peers in these tests: each a secure layer of its own ([`Remote`]) with a name,
//! a key and an endpoint. Native chat is sealed, so a test that feeds the client a `msg` or an
//! `ack` has a peer seal it, and a test that checks what the client sent has the peer open it.
//! [`Rig`] carries the datagrams between them.

use std::net::SocketAddr;
use std::time::Instant;

use blake2::{Blake2s256, Digest};
use bytes::Bytes;

use super::{addr, Rig, SERVER};
use crate::client::secure::remote::Remote;
use crate::client::secure::{Peer, Refusal, StaticKeys, WallClock};
use crate::client::ClientTransmit;
use crate::wire::{is_sealed, ClientLine, Name, RelayPayload, ServerLine};

/// The key pair of `name` in these tests: the client under test (`alice`) and every peer alike,
/// so two whole clients made here know each other's keys from the names.
pub(super) fn keys_of(name: &str) -> StaticKeys {
    let private: [u8; 32] = Blake2s256::new()
        .chain_update(b"feige test key ")
        .chain_update(name.as_bytes())
        .finalize()
        .into();
    StaticKeys::from_private(private)
}

/// Another key pair than [`keys_of`] gives, for `name` with a new key or an impostor.
pub(super) fn other_keys(name: &str, which: u8) -> StaticKeys {
    let private: [u8; 32] = Blake2s256::new()
        .chain_update(b"feige other test key ")
        .chain_update([which])
        .chain_update(name.as_bytes())
        .finalize()
        .into();
    StaticKeys::from_private(private)
}

/// One peer of the client under test.
#[derive(Debug)]
pub(in crate::client) struct TestPeer {
    pub(in crate::client) remote: Remote,
    /// Where the server lists it: the client's datagrams to this endpoint come to this peer.
    pub(in crate::client) endpoint: SocketAddr,
    /// Where its datagrams come from: its endpoint unless a test says otherwise.
    pub(in crate::client) source: SocketAddr,
    /// It hears nothing: the client's datagrams to it are lost.
    pub(in crate::client) deaf: bool,
    /// Its NAT drops what comes directly: only what the server relays reaches it.
    pub(in crate::client) firewalled: bool,
    /// What it sends reaches the client through the server's relay.
    pub(in crate::client) relays: bool,
    /// What it refused of the client's datagrams (none, when all is well).
    pub(in crate::client) refused: Vec<Refusal>,
}

impl TestPeer {
    /// `name` with `keys` at `endpoint`, believing `client` has its usual key.
    pub(in crate::client) fn new(
        name: &str,
        keys: StaticKeys,
        endpoint: SocketAddr,
        client: &Name,
        start: Instant,
    ) -> Self {
        let client = Peer {
            name: client.clone(),
            key: keys_of(client.as_str()).public(),
        };
        // Distinct peers draw distinct ephemeral keys and indices.
        let seed = keys.public().as_bytes().map(|b| b ^ 0x3c);
        let clock = WallClock {
            unix_ms: 1_700_000_000_000,
            at: start,
        };
        let name = Name::new(name).expect("a valid test name");
        TestPeer {
            remote: Remote::new(name, keys, seed, clock, client),
            endpoint,
            source: endpoint,
            deaf: false,
            firewalled: false,
            relays: false,
            refused: Vec::new(),
        }
    }

    pub(in crate::client) fn name(&self) -> &str {
        self.remote.name().as_str()
    }
}

/// The test peers of a [`Rig`]: made, found, listed, moved, rekeyed, and speaking.
impl Rig {
    /// A test peer named `n` with `keys` at `endpoint`, listed or not; its index in `peers`.
    pub(super) fn add_peer(&mut self, n: &str, keys: StaticKeys, endpoint: &str) -> usize {
        let ours = self.client.config().name.clone();
        let peer = TestPeer::new(n, keys, addr(endpoint), &ours, self.t0);
        self.peers.push(peer);
        self.peers.len() - 1
    }

    /// The first test peer named `n` (impostors are added after the real one).
    pub(super) fn peer(&mut self, n: &str) -> &mut TestPeer {
        let at = self.peer_index(n);
        &mut self.peers[at]
    }

    fn peer_index(&self, n: &str) -> usize {
        self.peers
            .iter()
            .position(|p| p.name() == n)
            .unwrap_or_else(|| panic!("no test peer {n}"))
    }

    /// The server's `key` line for the test peer `n`, with the key it holds now.
    pub(super) fn key_line(&mut self, n: &str) {
        let key = self.peer(n).remote.key();
        self.line(&format!("key,{n},{key}"));
    }

    /// `n` logs in at `endpoint`: its `login` line, then its `key` line. The test peer `n`
    /// moves there (or is made, with its usual key).
    pub(super) fn join(&mut self, n: &str, endpoint: &str) {
        if self.peers.iter().any(|p| p.name() == n) {
            let peer = self.peer(n);
            peer.endpoint = addr(endpoint);
            peer.source = addr(endpoint);
        } else {
            self.add_peer(n, keys_of(n), endpoint);
        }
        self.line(&format!("login,{n},{endpoint}"));
        self.key_line(n);
    }

    /// The test peer `n` gets another key pair (a new device, say): a fresh secure layer that
    /// knows nothing of the client.
    pub(super) fn rekey_peer(&mut self, n: &str, keys: StaticKeys) {
        let at = self.peer_index(n);
        let old = &self.peers[at];
        let (endpoint, source) = (old.endpoint, old.source);
        let ours = self.client.config().name.clone();
        let mut peer = TestPeer::new(n, keys, endpoint, &ours, self.t0);
        peer.source = source;
        self.peers[at] = peer;
    }

    /// The test peer `n` seals `plaintext` to the client, and the network carries it.
    pub(super) fn say(&mut self, n: &str, plaintext: &[u8]) {
        let at = self.peer_index(n);
        self.say_as(at, plaintext);
    }

    /// The test peer at `index` in `peers` seals `plaintext` to the client.
    pub(super) fn say_as(&mut self, index: usize, plaintext: &[u8]) {
        let now = self.now;
        self.peers[index]
            .remote
            .seal(now, plaintext)
            .expect("a plaintext that fits");
        self.pump();
    }
}

/// The network between the client under test and its test peers: every sealed datagram of the
/// client goes to the peer listed where it was sent, every datagram of a peer back to the client,
/// at once and in order, until both are quiet. The rest of the client's output waits for the test.
impl Rig {
    /// Fires the peers' due timers (their handshake retries), then carries what they sent.
    pub(super) fn peer_timers(&mut self) {
        let now = self.now;
        for peer in &mut self.peers {
            if peer.remote.next_deadline().is_some_and(|at| at <= now) {
                peer.remote.handle_timeout(now);
            }
        }
        self.pump();
    }

    /// Carries sealed datagrams between the client and its test peers until both are quiet.
    /// A sealed datagram to an endpoint where no test peer listens is lost.
    pub(super) fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(transmit) = self.client.poll_transmit() {
                match transmit {
                    ClientTransmit::Datagram { to, data } if is_sealed(&data) => {
                        moved = true;
                        self.wire.push_back((to, data.clone()));
                        let found = |p: &TestPeer| p.endpoint == to || p.source == to;
                        self.deliver_to_peer(found, to, false, &data);
                    }
                    ClientTransmit::Send { data } if self.server_side(&data) => moved = true,
                    ClientTransmit::Persist(record) => self.records.push(record),
                    other => self.held.push_back(other),
                }
            }
            for at in 0..self.peers.len() {
                let source = self.peers[at].source;
                let relays = self.peers[at].relays;
                let name = self.peers[at].remote.name().clone();
                for data in self.peers[at].remote.sent() {
                    moved = true;
                    if relays {
                        let payload = RelayPayload::encode(&data).expect("a datagram that fits");
                        let line = ServerLine::Relay {
                            from: name.clone(),
                            payload,
                        };
                        self.client.handle_tcp_bytes(self.now, &line.to_vec());
                        continue;
                    }
                    self.delivered.push((source, data.clone()));
                    self.client.handle_datagram(self.now, source, &data);
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Plays the server for the path lines in `data` (all of it, or none): an `intro` is noted,
    /// a `relay` delivered to the peer it names. Returns whether `data` was such lines.
    fn server_side(&mut self, data: &[u8]) -> bool {
        let lines: Vec<&[u8]> = data
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let path_lines = lines
            .iter()
            .map(|line| ClientLine::parse(line))
            .collect::<Result<Vec<_>, _>>()
            .ok()
            .filter(|lines| {
                lines
                    .iter()
                    .all(|l| matches!(l, ClientLine::Intro(_) | ClientLine::Relay { .. }))
            });
        let Some(path_lines) = path_lines else {
            return false;
        };
        for line in path_lines {
            match line {
                ClientLine::Intro(name) => self.intros.push_back(name.as_str().to_owned()),
                ClientLine::Relay { to, payload } => {
                    let data = payload.decode();
                    let via = addr(SERVER);
                    self.deliver_to_peer(|p| p.name() == to.as_str(), via, true, &data);
                }
                _ => {}
            }
        }
        true
    }

    /// A sealed datagram of the client reaches the first peer `found` picks, if it hears; `to`
    /// is where the client sent it (the server's address, `relayed`).
    fn deliver_to_peer(
        &mut self,
        found: impl Fn(&TestPeer) -> bool,
        to: SocketAddr,
        relayed: bool,
        data: &[u8],
    ) {
        let now = self.now;
        let Some(peer) = self.peers.iter_mut().find(|p| found(p)) else {
            return;
        };
        if peer.deaf || (peer.firewalled && !relayed) {
            return;
        }
        match peer.remote.open(now, data) {
            Ok(Some(opened)) => {
                let text = String::from_utf8(opened.plaintext).expect("chat is text");
                self.opened.push_back((to, text));
            }
            Ok(None) => {}
            Err(refusal) => peer.refused.push(refusal),
        }
    }

    /// The client's transmits other than sealed datagrams (see [`chat`](Self::chat)).
    pub(super) fn transmits(&mut self) -> Vec<ClientTransmit> {
        self.pump();
        self.held.drain(..).collect()
    }

    /// The plaintexts the test peers opened, with the endpoint each was sent to, in order.
    pub(super) fn chat(&mut self) -> Vec<(SocketAddr, String)> {
        self.pump();
        self.opened.drain(..).collect()
    }

    /// Every sealed datagram the client sent (handshakes and keepalives included).
    pub(super) fn wire(&mut self) -> Vec<(SocketAddr, Bytes)> {
        self.pump();
        self.wire.drain(..).collect()
    }
}
