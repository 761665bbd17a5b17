//! What a client can tune; the defaults are those of `docs/protocol.md`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use super::persist::Restored;
use super::secure::{StaticKeys, WallClock};
use crate::wire::{Dialect, Name, PublicKey, SessionId, MAX_SERVER_LINE};

/// Client identity, addresses, timers and limits.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Who logs in.
    pub name: Name,
    /// The server's UDP address.
    pub server: SocketAddr,
    /// The local endpoint declared in the login (the client's UDP socket address).
    pub local_endpoint: SocketAddr,
    /// This login's session id. Must be fresh for every login (randomness comes from outside).
    pub session_id: SessionId,
    /// First login retransmission delay; doubles after each try.
    pub login_retry: Duration,
    /// Login datagrams sent before `login_failed{timeout}`.
    pub login_tries: u32,
    /// Keepalive period on the TCP session.
    pub ping_interval: Duration,
    /// No line from the server for this long means the session is lost: the client logs in
    /// again (`reconnecting`; in the classic dialect, `disconnected{server-silent}`).
    pub server_timeout: Duration,
    /// First `msg` retransmission delay; doubles after each try, up to `msg_retry_max`.
    pub msg_retry: Duration,
    /// The longest wait between two tries of a `msg`: on a lossy path the tries keep coming.
    pub msg_retry_max: Duration,
    /// `msg` datagrams sent before `failed{timeout}`.
    pub msg_tries: u32,
    /// Sending to a peer with no direct path known to work searches for one (an introduction,
    /// probes); after this long without a direct datagram back, chat goes through the relay.
    pub relay_after: Duration,
    /// A direct path is known to work this long after the last direct datagram from the peer.
    pub path_idle: Duration,
    /// First wait between direct probes while relaying; doubles after each probe.
    pub probe_interval: Duration,
    /// The longest wait between direct probes while relaying.
    pub probe_interval_max: Duration,
    /// At most one introduction asked per peer this often.
    pub intro_interval: Duration,
    /// First wait before logging in again after the server session was lost; doubles after each
    /// failed attempt, up to `reconnect_max`, each wait drawn between its half and itself.
    pub reconnect_min: Duration,
    /// The longest wait between two attempts to log in again.
    pub reconnect_max: Duration,
    /// Logging in again, this many `Reject,name-taken` in a row end the client
    /// (`disconnected{name-taken}`): someone else has the name.
    pub reconnect_name_taken: u32,
    /// A message not delivered this long after it was written fails (`expired`).
    pub outbox_expiry: Duration,
    /// What an earlier run recorded (the outbox, the receive state, known contacts); its
    /// presence also means the records are kept, so messages still in the outbox when the
    /// client ends stay there for the next run instead of failing. `None`: nothing is kept.
    pub restored: Option<Restored>,
    /// Most queued (not yet sent) messages per peer; beyond it `send_message` refuses.
    pub max_queued_per_peer: usize,
    /// Longest server line accepted (the snapshot is one line; in the classic dialect, the list).
    pub max_server_line: usize,
    /// The dialect spoken to the server: `None` for feige's own, `Some(Dialect::Classic)` to log
    /// in to a textbook server (UTF-16LE datagrams, the one-shot list, `talk` with everyone; see
    /// `docs/protocol.md`, section 13). A classic login sends no TCP line, so it has no
    /// keepalive and no server-silence timeout; `server_timeout` bounds only the wait for the
    /// list, and the session id and `msg` settings go unused.
    pub dialect: Option<Dialect>,
    /// Our long-term key pair: its public half goes to the server's directory with the claim,
    /// and peers' chat is end-to-end encrypted with it. `None` (the classic dialect) keeps chat
    /// with native peers off: only sealed chat is spoken with them.
    pub identity: Option<StaticKeys>,
    /// Keys pinned in earlier runs, by name (see `ClientEvent::KeyPinned`).
    pub pinned: BTreeMap<Name, PublicKey>,
    /// Seed of every random choice of the encryption (ephemeral keys, session indices): the
    /// core has no randomness of its own. An application MUST give a fresh random seed to every
    /// client; the default, derived from the session id, is for tests and simulations.
    pub seed: [u8; 32],
    /// The wall clock, for handshake timestamps; `None` counts from zero at the client's start
    /// (tests and simulations).
    pub clock: Option<WallClock>,
}

impl ClientConfig {
    /// A configuration with the documented defaults.
    pub fn new(
        name: Name,
        server: SocketAddr,
        local_endpoint: SocketAddr,
        session_id: SessionId,
    ) -> Self {
        let seed = session_id.value().to_le_bytes();
        ClientConfig {
            name,
            server,
            local_endpoint,
            session_id,
            login_retry: Duration::from_millis(500),
            login_tries: 5,
            ping_interval: Duration::from_secs(20),
            server_timeout: Duration::from_secs(60),
            msg_retry: Duration::from_millis(300),
            msg_retry_max: Duration::from_secs(2),
            msg_tries: 12,
            relay_after: Duration::from_secs(2),
            path_idle: Duration::from_secs(15),
            probe_interval: Duration::from_secs(1),
            probe_interval_max: Duration::from_secs(30),
            intro_interval: Duration::from_secs(1),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(30),
            reconnect_name_taken: 5,
            outbox_expiry: Duration::from_secs(7 * 24 * 3600),
            restored: None,
            max_queued_per_peer: 1024,
            max_server_line: MAX_SERVER_LINE,
            dialect: None,
            identity: None,
            pinned: BTreeMap::new(),
            seed: std::array::from_fn(|i| seed[i % 8]),
            clock: None,
        }
    }

    /// A configuration with the documented defaults for logging in to a textbook (classic)
    /// server. No session id is asked for: the classic dialect never sends one.
    pub fn classic(name: Name, server: SocketAddr, local_endpoint: SocketAddr) -> Self {
        ClientConfig {
            dialect: Some(Dialect::Classic),
            ..ClientConfig::new(name, server, local_endpoint, SessionId::new(0))
        }
    }

    /// Whether the client logs in to a textbook server.
    pub(crate) fn is_classic(&self) -> bool {
        self.dialect == Some(Dialect::Classic)
    }
}
