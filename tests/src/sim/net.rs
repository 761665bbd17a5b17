//! The datagram network: loss, duplication, delay and reordering drawn from the seed.
//!
//! Reordering is not a separate fault: each copy of a datagram gets its own random delay, and an
//! occasional long delay lets later datagrams overtake it.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

use super::agenda::{Agenda, SimTime};
use super::dice::Dice;
use super::event::Event;

/// How hostile the network is.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Probability that a datagram arrives twice.
    pub duplicate: f64,
    /// Usual one-way latency, milliseconds.
    pub latency_ms: (u64, u64),
    /// Probability of a long delay (which reorders).
    pub straggle: f64,
    /// Longest such delay, milliseconds.
    pub straggle_ms: u64,
    /// Probability that a TCP connection attempt fails.
    pub refuse: f64,
    /// Latency of a TCP chunk, milliseconds.
    pub tcp_latency_ms: (u64, u64),
    /// Largest TCP chunk, bytes (streams are split anywhere).
    pub chunk: usize,
}

impl Faults {
    /// A stormy network whose intensity is drawn from the seed, from mild to nasty.
    pub fn stormy(dice: &mut Dice) -> Self {
        Faults {
            loss: dice.real(0.0, 0.3),
            duplicate: dice.real(0.0, 0.15),
            latency_ms: (1, dice.between(2, 80)),
            straggle: dice.real(0.0, 0.2),
            straggle_ms: dice.between(100, 5000),
            refuse: dice.real(0.0, 0.1),
            tcp_latency_ms: (1, dice.between(2, 150)),
            // Either a stream torn into tiny pieces, or segments of realistic sizes.
            chunk: if dice.chance(0.5) {
                dice.between(1, 32) as usize
            } else {
                dice.between(64, 1460) as usize
            },
        }
    }

    /// No loss, no duplicates, short delays; streams are still split anywhere.
    pub fn calm() -> Self {
        Faults {
            loss: 0.0,
            duplicate: 0.0,
            latency_ms: (1, 5),
            straggle: 0.0,
            straggle_ms: 0,
            refuse: 0.0,
            tcp_latency_ms: (1, 5),
            chunk: 1460,
        }
    }
}

/// The network: current faults and its own dice.
#[derive(Debug)]
pub struct Network {
    /// The network's random stream.
    pub dice: Dice,
    /// Faults in force.
    pub faults: Faults,
}

impl Network {
    /// A network with `faults`.
    pub fn new(dice: Dice, faults: Faults) -> Self {
        Network { dice, faults }
    }

    /// Sends a datagram: zero, one or two copies get scheduled, each with its own delay.
    pub fn send_datagram(
        &mut self,
        agenda: &mut Agenda<Event>,
        now: SimTime,
        from: SocketAddr,
        to: SocketAddr,
        data: Bytes,
    ) {
        if self.dice.chance(self.faults.loss) {
            return;
        }
        let copies = if self.dice.chance(self.faults.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let at = now + self.datagram_delay();
            agenda.schedule(
                at,
                Event::Datagram {
                    from,
                    to,
                    data: data.clone(),
                },
            );
        }
    }

    /// One-way delay of a datagram.
    fn datagram_delay(&mut self) -> Duration {
        let (low, high) = self.faults.latency_ms;
        let base = self.dice.millis(low, high);
        if self.dice.chance(self.faults.straggle) {
            base + self.dice.millis(0, self.faults.straggle_ms)
        } else {
            base
        }
    }

    /// One-way delay of a TCP segment or handshake step.
    pub fn tcp_delay(&mut self) -> Duration {
        let (low, high) = self.faults.tcp_latency_ms;
        self.dice.millis(low, high)
    }

    /// Whether this connection attempt fails.
    pub fn refuses(&mut self) -> bool {
        self.dice.chance(self.faults.refuse)
    }

    /// Size of the next chunk of a stream.
    pub fn chunk_len(&mut self, remaining: usize) -> usize {
        let most = self.faults.chunk.clamp(1, remaining.max(1));
        self.dice.between(1, most as u64) as usize
    }
}
