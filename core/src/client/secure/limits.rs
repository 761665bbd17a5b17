//! The secure layer's timers and bounds (protocol.md, section 8.1), WireGuard's where it has one.

use std::time::Duration;

/// Every timer and bound of the secure layer; [`Limits::default`] is the documented one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The initiator of a session starts a new handshake when it seals on a session this old.
    pub(crate) rekey_after_time: Duration,
    /// No session is used to seal or open past this age.
    pub(crate) reject_after_time: Duration,
    /// Either side starts a new handshake when it has sealed this many messages on a session.
    pub(crate) rekey_after_messages: u64,
    /// No session seals this many; a counter this high is never opened.
    pub(crate) reject_after_messages: u64,
    /// Sealing on a session the peer has not answered for this long, across at least
    /// `rekey_after_unanswered` datagrams, starts a new handshake: the peer may have restarted
    /// and lost the session.
    pub(crate) rekey_after_silence: Duration,
    pub(crate) rekey_after_unanswered: u32,
    /// First wait before an initiation is sent again (a fresh one); doubles after each try.
    pub(crate) handshake_retry: Duration,
    /// Initiations sent before the handshake is given up and the queue dropped.
    pub(crate) handshake_tries: u32,
    /// Plaintexts held per peer while no session can carry them; the oldest goes first.
    pub(crate) queue_per_peer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rekey_after_time: Duration::from_secs(120),
            reject_after_time: Duration::from_secs(180),
            rekey_after_messages: 1 << 20,
            reject_after_messages: 1 << 32,
            rekey_after_silence: Duration::from_secs(2),
            rekey_after_unanswered: 3,
            handshake_retry: Duration::from_millis(300),
            handshake_tries: 5,
            queue_per_peer: 16,
        }
    }
}
