//! Two sides sealing to each other over a network that loses, duplicates and reorders, with an
//! attacker replaying, tampering with and truncating what it recorded, while sides forget each
//! other or restart. Shared by the property test and the `secure_ops` fuzz body.
//!
//! Checked all along: every plaintext opened was sealed by the other side, byte for byte, and no
//! sealed datagram is opened twice (each plaintext carries a unique id). Checked at the end,
//! after the network turns loss-free and the handshakes settle: a message sealed then, and
//! resealed on the chat's backoff until it is opened, gets through from each side.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::rig::Rig;
use super::Sealed;
use crate::wire::MAX_SEALED_PLAINTEXT;

/// One step of a run. The fuzz seeds (`fuzz/make_seeds.py`) name variants by position: add new
/// ones at the end only.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub(crate) enum Op {
    /// A side seals a fresh message of about `len` bytes to the other.
    Seal { side: bool, len: u16 },
    /// The network delivers the datagram in flight at `pick` (modulo how many are).
    Deliver { pick: u16 },
    /// It delivers that datagram and keeps a copy in flight.
    Duplicate { pick: u16 },
    /// It loses that datagram.
    Lose { pick: u16 },
    /// The attacker sends a datagram it recorded (any ever sent) to either side.
    Replay { pick: u16, side: bool },
    /// The attacker sends a recorded datagram with one byte changed.
    Tamper {
        pick: u16,
        side: bool,
        at: u16,
        xor: u8,
    },
    /// The attacker sends a recorded datagram cut short.
    Truncate { pick: u16, side: bool, len: u16 },
    /// The attacker sends bytes of its own.
    Garbage { side: bool, data: Vec<u8> },
    /// Time passes.
    Tick { ms: u16 },
    /// A side forgets the other (it left and came back).
    Forget { side: bool },
    /// A side restarts from nothing, its wall clock later.
    Restart { side: bool },
}

/// A plaintext: its id, then filler. Replies (`ack`s) have the top bit of the id set.
const ID_LEN: usize = 8;
const ACK: u64 = 1 << 63;

/// The chat's retransmission waits (protocol.md, section 5): the final phase reseals on them.
const RESEAL_WAITS_MS: [u64; 6] = [0, 300, 600, 1200, 2400, 4800];

struct Chaos {
    rig: Rig,
    /// Datagrams on their way, to side 0 or 1.
    in_flight: Vec<(usize, Bytes)>,
    /// Everything ever sent, for the attacker.
    recorded: Vec<Bytes>,
    /// The plaintext of every id, by the side that sealed it.
    sealed: [HashMap<u64, Vec<u8>>; 2],
    opened: HashSet<u64>,
    next_id: u64,
}

/// Runs `ops` from `start` (only time differences matter), then the final phase.
pub(crate) fn run(start: Instant, ops: &[Op]) {
    let mut chaos = Chaos {
        rig: Rig::new(start),
        in_flight: Vec::new(),
        recorded: Vec::new(),
        sealed: [HashMap::new(), HashMap::new()],
        opened: HashSet::new(),
        next_id: 0,
    };
    for op in ops {
        chaos.apply(op);
    }
    chaos.settle();
    for side in [0, 1, 1, 0] {
        chaos.gets_through(side);
    }
}

fn side(flag: bool) -> usize {
    usize::from(flag)
}

impl Chaos {
    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Seal { side: s, len } => {
                self.seal(side(s), 0, usize::from(len));
            }
            Op::Deliver { pick } => {
                if let Some((to, data)) = self.take(pick) {
                    self.deliver(to, &data);
                }
            }
            Op::Duplicate { pick } => {
                if let Some((to, data)) = self.take(pick) {
                    self.in_flight.push((to, data.clone()));
                    self.deliver(to, &data);
                }
            }
            Op::Lose { pick } => {
                self.take(pick);
            }
            Op::Replay { pick, side: s } => {
                if let Some(data) = self.recorded(pick) {
                    self.deliver(side(s), &data);
                }
            }
            Op::Tamper {
                pick,
                side: s,
                at,
                xor,
            } => {
                if let Some(data) = self.recorded(pick) {
                    let mut data = data.to_vec();
                    let at = usize::from(at) % data.len().max(1);
                    if let Some(byte) = data.get_mut(at) {
                        *byte ^= xor.max(1);
                    }
                    self.deliver(side(s), &data);
                }
            }
            Op::Truncate { pick, side: s, len } => {
                if let Some(data) = self.recorded(pick) {
                    let len = usize::from(len) % data.len().max(1);
                    self.deliver(side(s), &data[..len]);
                }
            }
            Op::Garbage { side: s, ref data } => self.deliver(side(s), data),
            Op::Tick { ms } => {
                self.rig.advance(Duration::from_millis(u64::from(ms)));
                self.collect();
            }
            Op::Forget { side: s } => self.rig.forget(side(s)),
            Op::Restart { side: s } => {
                self.rig.restart(side(s));
                // What the old instance had queued to send is gone with it.
            }
        }
    }

    /// Seals a new plaintext from `from` whose id says what it is; returns the id.
    fn seal(&mut self, from: usize, flags: u64, len: usize) -> u64 {
        let id = self.next_id | flags;
        self.next_id += 1;
        let mut plaintext = id.to_le_bytes().to_vec();
        let filler = len.min(MAX_SEALED_PLAINTEXT - ID_LEN);
        plaintext.extend((0..filler).map(|i| (i as u8) ^ (from as u8)));
        match self.rig.seal(from, &plaintext) {
            Ok(Sealed::Sent | Sealed::Queued) => {}
            Err(e) => panic!("a plaintext within the limit refused: {e:?}"),
        }
        self.sealed[from].insert(id, plaintext);
        self.collect();
        id
    }

    /// Moves what both sides sent into the network (and the attacker's records).
    fn collect(&mut self) {
        for from in 0..2 {
            for data in self.rig.sent(from) {
                self.recorded.push(data.clone());
                self.in_flight.push((1 - from, data));
            }
        }
    }

    fn take(&mut self, pick: u16) -> Option<(usize, Bytes)> {
        if self.in_flight.is_empty() {
            return None;
        }
        let at = usize::from(pick) % self.in_flight.len();
        Some(self.in_flight.remove(at))
    }

    fn recorded(&self, pick: u16) -> Option<Bytes> {
        if self.recorded.is_empty() {
            return None;
        }
        self.recorded
            .get(usize::from(pick) % self.recorded.len())
            .cloned()
    }

    /// `data` arrives at `to`: what opens must have been sealed by the other side, once; a
    /// message is acknowledged, as the chat does.
    fn deliver(&mut self, to: usize, data: &[u8]) {
        let Ok(Some(opened)) = self.rig.open(to, data) else {
            self.collect();
            return;
        };
        assert_eq!(
            opened.peer,
            self.rig.peer_of(to).name,
            "opened for the wrong peer"
        );
        let id = opened
            .plaintext
            .first_chunk::<ID_LEN>()
            .map(|b| u64::from_le_bytes(*b));
        let Some(id) = id else {
            panic!("opened a plaintext nobody sealed: {:?}", opened.plaintext);
        };
        assert_eq!(
            self.sealed[1 - to].get(&id),
            Some(&opened.plaintext),
            "opened a plaintext the other side did not seal"
        );
        assert!(self.opened.insert(id), "plaintext {id} opened twice");
        self.collect();
        if id & ACK == 0 {
            self.seal(to, ACK, 0);
        }
    }

    /// Delivers everything in flight, in order, until the network is quiet.
    fn flush_network(&mut self) {
        while !self.in_flight.is_empty() {
            let (to, data) = self.in_flight.remove(0);
            self.deliver(to, &data);
        }
    }

    /// The network turns loss-free: everything in flight arrives, and the handshakes under way
    /// complete or give up.
    fn settle(&mut self) {
        self.collect();
        self.flush_network();
        for _ in 0..40 {
            self.rig.advance(Duration::from_millis(300));
            self.collect();
            self.flush_network();
        }
    }

    /// A message from `from`, resealed on the chat's backoff, is opened by the other side.
    fn gets_through(&mut self, from: usize) {
        let mut ids = Vec::new();
        for wait in RESEAL_WAITS_MS {
            self.rig.advance(Duration::from_millis(wait));
            self.collect();
            self.flush_network();
            if ids.iter().any(|id| self.opened.contains(id)) {
                return;
            }
            ids.push(self.seal(from, 0, 32));
            self.flush_network();
            if ids.iter().any(|id| self.opened.contains(id)) {
                return;
            }
        }
        panic!("a message from side {from} did not get through a loss-free network");
    }
}
