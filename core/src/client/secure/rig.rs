//! Two [`Secure`]s and a hand-driven network between them, for the tests, the fuzz bodies and
//! the benchmark: every datagram one side sends is checked to go to the other side, and the
//! caller decides what the network does with it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::WallClock;
use super::{
    Directory, Limits, Opened, Peer, Refusal, SealError, Sealed, Secure, Sends, StaticKeys,
};
use crate::wire::{Name, PublicKey};

/// The wall clock of the first run of each side, in Unix milliseconds.
const EPOCH_MS: u64 = 1_700_000_000_000;

/// How far ahead of its old self a restarted side's wall clock is, per restart.
const RESTART_AHEAD: Duration = Duration::from_secs(60);

/// The keys a side trusts.
#[derive(Debug, Default)]
pub(crate) struct Trust(pub(crate) HashMap<Name, PublicKey>);

impl Directory for Trust {
    fn trusted_key(&self, name: &Name) -> Option<PublicKey> {
        self.0.get(name).copied()
    }
}

/// One side: its layer, who it is, what it sent and whom it trusts.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) secure: Secure,
    /// Ourselves as the other side sees us.
    pub(crate) me: Peer,
    private: [u8; 32],
    out: Sends,
    pub(crate) trust: Trust,
    restarts: u32,
}

/// Side 0 (alice) and side 1 (bob).
#[derive(Debug)]
pub(crate) struct Rig {
    pub(crate) now: Instant,
    start: Instant,
    /// `None`: the defaults, through [`Secure::new`].
    limits: Option<Limits>,
    pub(crate) nodes: [Node; 2],
}

/// A side's layer, with the defaults or other limits.
fn layer(
    me: &Peer,
    keys: StaticKeys,
    seed: [u8; 32],
    clock: WallClock,
    limits: Option<Limits>,
) -> Secure {
    let me = me.name.clone();
    match limits {
        None => Secure::new(me, keys, seed, clock),
        Some(limits) => Secure::with_limits(me, keys, seed, clock, limits),
    }
}

impl Rig {
    pub(crate) fn new(start: Instant) -> Self {
        Rig::build(start, None)
    }

    #[cfg(test)]
    pub(crate) fn with_limits(start: Instant, limits: Limits) -> Self {
        Rig::build(start, Some(limits))
    }

    fn build(start: Instant, limits: Option<Limits>) -> Self {
        let node = |name: &str, private: [u8; 32]| {
            let keys = StaticKeys::from_private(private);
            let me = Peer {
                name: Name::new(name).expect("a valid literal name"),
                key: keys.public(),
            };
            let clock = WallClock {
                unix_ms: EPOCH_MS,
                at: start,
            };
            let seed = [private[0] ^ 0x5a; 32];
            Node {
                secure: layer(&me, keys, seed, clock, limits),
                me,
                private,
                out: Sends::default(),
                trust: Trust::default(),
                restarts: 0,
            }
        };
        let mut nodes = [node("alice", [1; 32]), node("小明", [2; 32])];
        for side in 0..2 {
            let other = nodes[1 - side].me.clone();
            nodes[side].trust.0.insert(other.name, other.key);
        }
        Rig {
            now: start,
            start,
            limits,
            nodes,
        }
    }

    /// The other side of `side`.
    pub(crate) fn peer_of(&self, side: usize) -> Peer {
        self.nodes[1 - side].me.clone()
    }

    /// `side` seals `plaintext` for the other side.
    pub(crate) fn seal(&mut self, side: usize, plaintext: &[u8]) -> Result<Sealed, SealError> {
        let peer = self.peer_of(side);
        let node = &mut self.nodes[side];
        node.secure.seal(self.now, &peer, plaintext, &mut node.out)
    }

    /// Everything `side` sent since last asked, each checked to go to the other side.
    pub(crate) fn sent(&mut self, side: usize) -> Vec<Bytes> {
        let to = self.nodes[1 - side].me.name.clone();
        std::iter::from_fn(|| self.nodes[side].out.pop())
            .map(|(at, data)| {
                assert_eq!(at, to, "a datagram to another peer than the other side");
                data
            })
            .collect()
    }

    /// `datagram` arrives at `side`: its plaintext, if it carried one.
    pub(crate) fn open(&mut self, side: usize, datagram: &[u8]) -> Result<Option<Opened>, Refusal> {
        let node = &mut self.nodes[side];
        node.secure
            .open(self.now, datagram, &node.trust, &mut node.out)
            .map(|authentic| authentic.opened())
    }

    /// Time passes; both sides handle their timers, and neither leaves one due.
    pub(crate) fn advance(&mut self, by: Duration) {
        self.now += by;
        for node in &mut self.nodes {
            node.secure.handle_timeout(self.now, &mut node.out);
            assert!(
                node.secure.next_deadline().is_none_or(|at| at > self.now),
                "a timer is still due after handle_timeout"
            );
        }
    }

    /// Delivers everything both sides send, in order, until neither has anything to say;
    /// returns what each side opened and refused.
    pub(crate) fn exchange(&mut self) -> Exchange {
        let mut seen = Exchange::default();
        loop {
            let mut quiet = true;
            for side in 0..2 {
                for datagram in self.sent(side) {
                    quiet = false;
                    match self.open(1 - side, &datagram) {
                        Ok(Some(opened)) => seen.opened[1 - side].push(opened.plaintext),
                        Ok(None) => {}
                        Err(refusal) => seen.refused[1 - side].push(refusal),
                    }
                }
            }
            if quiet {
                return seen;
            }
        }
    }

    /// `side` starts again from nothing, its wall clock further ahead; the other side still
    /// trusts its key.
    pub(crate) fn restart(&mut self, side: usize) {
        let node = &mut self.nodes[side];
        node.restarts += 1;
        let ahead = RESTART_AHEAD * node.restarts;
        let elapsed = self.now.saturating_duration_since(self.start) + ahead;
        let clock = WallClock {
            unix_ms: EPOCH_MS + u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX / 2),
            at: self.now,
        };
        let mut seed = [node.private[0] ^ 0x5a; 32];
        seed[..4].copy_from_slice(&node.restarts.to_le_bytes());
        let keys = StaticKeys::from_private(node.private);
        node.secure = layer(&node.me, keys, seed, clock, self.limits);
        node.out = Sends::default();
    }

    /// `side` forgets the other (it left and came back, say).
    pub(crate) fn forget(&mut self, side: usize) {
        let other = self.nodes[1 - side].me.name.clone();
        self.nodes[side].secure.forget(&other);
    }
}

/// What [`Rig::exchange`] saw at each side.
#[derive(Debug, Default)]
pub(crate) struct Exchange {
    pub(crate) opened: [Vec<Vec<u8>>; 2],
    pub(crate) refused: [Vec<Refusal>; 2],
}
