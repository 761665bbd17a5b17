//! What every phase of the client works with, whatever the phase: the configuration, the output
//! queues, the counters, and the keys believed.

use super::config::ClientConfig;
use super::keyring::Keyring;
use super::outbox::Outbox;
use super::output::ClientStats;

/// The client's state outside its phase.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: ClientConfig,
    pub(crate) out: Outbox,
    pub(crate) stats: ClientStats,
    /// Outlives sessions: pins and held keys stay as they are across a reconnect.
    pub(crate) keyring: Keyring,
}

/// The parts of the client a session borrows for one input.
pub(crate) struct Io<'a> {
    pub(crate) config: &'a ClientConfig,
    pub(crate) out: &'a mut Outbox,
    pub(crate) stats: &'a mut ClientStats,
    pub(crate) keyring: &'a mut Keyring,
}

impl Shared {
    pub(crate) fn new(config: ClientConfig) -> Self {
        Shared {
            keyring: Keyring::new(config.pinned.clone()),
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
        }
    }
}
