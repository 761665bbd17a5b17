//! The simulator's only source of chance: a seeded ChaCha stream with the few draws it needs.
//!
//! Each concern (network, scenario, attacker, keys) rolls its own stream of the same seed, so a change
//! in how often one of them rolls does not reshuffle the others.

use std::time::Duration;

use rand::rngs::ChaCha8Rng;
use rand::{Rng, RngExt, SeedableRng};

/// A seeded random stream.
#[derive(Debug)]
pub struct Dice {
    rng: ChaCha8Rng,
}

/// The independent streams of one seed.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// Losses, delays, chunking.
    Network = 1,
    /// Who comes, goes, crashes and chats.
    Scenario = 2,
    /// The forger's choices.
    Attacker = 3,
    /// Session ids.
    Sessions = 4,
    /// Users' long-term keys and the seeds of the clients' randomness.
    Keys = 5,
}

impl Dice {
    /// The stream `stream` of `seed`.
    pub fn new(seed: u64, stream: Stream) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream as u64);
        Dice { rng }
    }

    /// True with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// A uniform integer in `low..=high` (`low` if the range is empty).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        self.rng.random_range(low..=high)
    }

    /// A uniform index below `len` (`len` must be positive; 0 otherwise).
    pub fn index(&mut self, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        self.rng.random_range(0..len)
    }

    /// A uniform real in `low..high`.
    pub fn real(&mut self, low: f64, high: f64) -> f64 {
        if high <= low {
            return low;
        }
        self.rng.random_range(low..high)
    }

    /// A uniform duration in `low..=high` milliseconds, with microsecond resolution.
    pub fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_micros(self.between(low * 1000, high * 1000))
    }

    /// A uniform duration between two durations, with microsecond resolution.
    pub fn span(&mut self, low: Duration, high: Duration) -> Duration {
        let (low, high) = (low.as_micros() as u64, high.as_micros() as u64);
        Duration::from_micros(self.between(low, high))
    }

    /// One element, uniformly.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get(self.index(items.len()))
    }

    /// A raw 64-bit draw.
    pub fn bits(&mut self) -> u64 {
        self.rng.next_u64()
    }
}
