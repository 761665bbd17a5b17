//! What a client can tune; the defaults are those of `docs/protocol.md`.

use std::net::SocketAddr;
use std::time::Duration;

use crate::wire::{Name, SessionId, MAX_SERVER_LINE};

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
    /// No line from the server for this long means it is gone: `disconnected{server-silent}`.
    pub server_timeout: Duration,
    /// First `msg` retransmission delay; doubles after each try.
    pub msg_retry: Duration,
    /// `msg` datagrams sent before `failed{timeout}`.
    pub msg_tries: u32,
    /// Most queued (not yet sent) messages per peer; beyond it `send_message` refuses.
    pub max_queued_per_peer: usize,
    /// Longest server line accepted (the snapshot is one line).
    pub max_server_line: usize,
}

impl ClientConfig {
    /// A configuration with the documented defaults.
    pub fn new(
        name: Name,
        server: SocketAddr,
        local_endpoint: SocketAddr,
        session_id: SessionId,
    ) -> Self {
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
            msg_tries: 6,
            max_queued_per_peer: 1024,
            max_server_line: MAX_SERVER_LINE,
        }
    }
}
