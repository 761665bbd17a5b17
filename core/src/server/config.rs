//! What an operator can tune on the server; the defaults are those of `docs/protocol.md`.

use std::time::Duration;

/// Server limits and timers.
///
/// A *source* is a client's IP address (an IPv4-mapped IPv6 address counts as its IPv4 address)
/// and the network *prefix* it is in: one host is bounded by the `_per_ip` limits, and the hosts
/// of one network — which an attacker may own by the hundred, IPv6 /64s especially — together
/// by the `_per_prefix` ones.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The TCP port announced in `Accept,<port>`.
    pub tcp_port: u16,
    /// Most sessions online plus logins pending; beyond it, `Reject,server-full`.
    pub max_sessions: usize,
    /// Most pending logins from one source IP; beyond it, `Reject,rate-limited`.
    pub max_pending_per_ip: usize,
    /// Most pending logins from one prefix; beyond it, `Reject,rate-limited`.
    pub max_pending_per_prefix: usize,
    /// Most sessions online plus logins pending from one source IP; beyond it,
    /// `Reject,rate-limited`. A host of 10,000 clients (a load test, a big NAT) stays under it.
    pub max_sessions_per_ip: usize,
    /// Most sessions online plus logins pending from one prefix; beyond it, `Reject,rate-limited`.
    pub max_sessions_per_prefix: usize,
    /// Most classic (textbook) users online plus classic logins pending from one source IP;
    /// beyond it, `Reject,rate-limited`. Classic users give no sign of life, so without these
    /// caps one host could fill the server with them for good.
    pub max_classic_per_ip: usize,
    /// The same per prefix.
    pub max_classic_per_prefix: usize,
    /// Most classic users online plus classic logins pending in all; beyond it,
    /// `Reject,server-full` (to classic logins only: native users are never crowded out).
    pub max_classic_sessions: usize,
    /// Length of the IPv4 prefix that counts as one network (bits, at most 32).
    pub prefix_v4: u8,
    /// Length of the IPv6 prefix that counts as one network (bits, at most 128).
    pub prefix_v6: u8,
    /// Most connections from one source IP not (yet) carrying a session; one more is refused at
    /// once with `error,too-many-connections`.
    pub max_unclaimed_per_ip: usize,
    /// The same per prefix.
    pub max_unclaimed_per_prefix: usize,
    /// Most connections held at once, as the transport can afford them (from its file-descriptor
    /// limit); `None` for no limit. When set, a connection beyond it is refused, and no source
    /// may hold more than a quarter of it unclaimed, whatever the two limits above say, so one
    /// host can never take the room every other host needs to log in.
    pub max_connections: Option<usize>,
    /// How long an `Accept` waits for its TCP claim; a repeated identical login restarts it.
    pub pending_timeout: Duration,
    /// How long a pending login can live at most from its first `Accept`, however often it is
    /// repeated.
    pub pending_max_life: Duration,
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
    /// Whether chat datagrams are relayed between sessions (`relay` lines) for peers that find no
    /// direct path; `false` refuses them (`server --relay off`).
    pub relay: bool,
    /// Relayed bytes (the `relay` line's payload, as sent) one session may send a second on
    /// average, and in a burst; beyond it, its `relay` lines are dropped.
    pub relay_bytes_per_sec: u32,
    /// The burst of the above.
    pub relay_burst_bytes: u32,
    /// Introductions (`intro` lines) one session may ask for a second on average, and in a
    /// burst; beyond it, they are dropped.
    pub intros_per_sec: u32,
    /// The burst of the above.
    pub intro_burst: u32,
    /// The cluster this coordinator belongs to (`server --cluster`); `None`: it serves alone.
    pub cluster: Option<super::cluster::ClusterConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            tcp_port: 9001,
            max_sessions: 100_000,
            max_pending_per_ip: 16_384,
            max_pending_per_prefix: 32_768,
            max_sessions_per_ip: 16_384,
            max_sessions_per_prefix: 32_768,
            max_classic_per_ip: 16,
            max_classic_per_prefix: 64,
            max_classic_sessions: 4_096,
            prefix_v4: 24,
            prefix_v6: 64,
            max_unclaimed_per_ip: 64,
            max_unclaimed_per_prefix: 256,
            max_connections: None,
            pending_timeout: Duration::from_secs(10),
            pending_max_life: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            silent_claim_after: Duration::from_millis(500),
            claim_timeout: Duration::from_secs(10),
            classic_lease: None,
            relay: true,
            relay_bytes_per_sec: 64 * 1024,
            relay_burst_bytes: 256 * 1024,
            intros_per_sec: 4,
            intro_burst: 16,
            cluster: None,
        }
    }
}
