//! What an operator can tune on the server; the defaults are those of `docs/protocol.md`.

use std::time::Duration;

/// Server limits and timers.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The TCP port announced in `Accept,<port>`.
    pub tcp_port: u16,
    /// Most sessions online plus logins pending; beyond it, `Reject,server-full`.
    pub max_sessions: usize,
    /// Most pending logins from one source IP; beyond it, `Reject,rate-limited`.
    pub max_pending_per_ip: usize,
    /// How long an `Accept` waits for its TCP claim.
    pub pending_timeout: Duration,
    /// A session with no line for this long is logged out.
    pub idle_timeout: Duration,
    /// A connection that has sent nothing for this long is bound to the oldest classic login
    /// pending from its IP (a textbook client never speaks on TCP). Native logins are bound only
    /// by a claim line.
    pub silent_claim_after: Duration,
    /// A connection that has not completed its claim by then gets `error,claim-timeout`.
    pub claim_timeout: Duration,
    /// A classic (textbook) session is dropped after this long without a datagram from its IP;
    /// `None` keeps it until it logs out, as the textbook server does.
    pub classic_lease: Option<Duration>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            tcp_port: 9001,
            max_sessions: 100_000,
            max_pending_per_ip: 16_384,
            pending_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            silent_claim_after: Duration::from_millis(500),
            claim_timeout: Duration::from_secs(10),
            classic_lease: None,
        }
    }
}
