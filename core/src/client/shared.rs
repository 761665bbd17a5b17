//! What every phase of the client works with, whatever the phase: the configuration, the output
//! queues, the counters, and the keys believed.

use std::time::Instant;

use super::config::ClientConfig;
use super::keyring::Keyring;
use super::outbox::Outbox;
use super::output::ClientStats;
use super::secure::{Secure, WallClock};

/// The client's state outside its phase.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: ClientConfig,
    pub(crate) out: Outbox,
    pub(crate) stats: ClientStats,
    /// Outlives sessions: pins and held keys stay as they are across a reconnect.
    pub(crate) keyring: Keyring,
    /// Sessions with peers; `None` without an identity (the classic dialect).
    pub(crate) secure: Option<Secure>,
    /// The wall clock records are stamped with.
    pub(crate) clock: WallClock,
}

/// The parts of the client a session borrows for one input.
pub(crate) struct Io<'a> {
    pub(crate) config: &'a ClientConfig,
    pub(crate) out: &'a mut Outbox,
    pub(crate) stats: &'a mut ClientStats,
    pub(crate) keyring: &'a mut Keyring,
    pub(crate) secure: Option<&'a mut Secure>,
    pub(crate) clock: WallClock,
}

impl Shared {
    pub(crate) fn new(config: ClientConfig, now: Instant) -> Self {
        let clock = config.clock.unwrap_or(WallClock {
            unix_ms: 0,
            at: now,
        });
        let secure = config
            .identity
            .clone()
            .map(|keys| Secure::new(config.name.clone(), keys, config.seed, clock));
        Shared {
            keyring: Keyring::new(config.pinned.clone()),
            secure,
            clock,
            config,
            out: Outbox::default(),
            stats: ClientStats::default(),
        }
    }

    /// Borrows every part at once, beside the phase that holds the session.
    pub(crate) fn io(&mut self) -> Io<'_> {
        Io {
            config: &self.config,
            out: &mut self.out,
            stats: &mut self.stats,
            keyring: &mut self.keyring,
            secure: self.secure.as_mut(),
            clock: self.clock,
        }
    }
}
