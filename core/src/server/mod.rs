//! The coordinator: logins, the online registry, presence broadcasts. Sans-IO.

mod config;
mod output;

use std::net::SocketAddr;
use std::time::Instant;

pub use config::ServerConfig;
pub use output::{CloseCause, ConnId, LeaveReason, ServerEvent, ServerTransmit};

use crate::wire::UserEntry;

/// Counters of what the server refused or dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Users online.
    pub online: usize,
    /// Logins accepted and waiting for their TCP claim.
    pub pending: usize,
    /// TCP connections not (yet) bound to a session.
    pub unclaimed_connections: usize,
    /// Datagrams that did not parse.
    pub malformed_datagrams: u64,
    /// UDP logouts not from the user's own endpoint (ignored).
    pub spoofed_logouts: u64,
    /// Logins refused.
    pub rejected_logins: u64,
    /// Connections refused with `error,<reason>`.
    pub refused_connections: u64,
}

/// The server state machine. See the crate docs for the driving loop.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
}

impl Server {
    /// A server with no one online.
    pub fn new(config: ServerConfig) -> Self {
        Server { config }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// A datagram arrived on the server's UDP socket.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        let _ = (now, from, data);
    }

    /// The transport accepted a TCP connection from `peer`.
    pub fn handle_connection_opened(&mut self, now: Instant, conn: ConnId, peer: SocketAddr) {
        let _ = (now, conn, peer);
    }

    /// Bytes arrived on a connection, split anywhere.
    pub fn handle_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        let _ = (now, conn, data);
    }

    /// A connection is gone (unknown or already-closed connections are ignored).
    pub fn handle_connection_closed(&mut self, now: Instant, conn: ConnId, cause: CloseCause) {
        let _ = (now, conn, cause);
    }

    /// Time has reached (or passed) [`poll_timeout`](Self::poll_timeout). Early calls are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
    }

    /// Logs everyone out (`error,shutdown` to each session) before the transport exits.
    pub fn shutdown(&mut self, now: Instant) {
        let _ = now;
    }

    /// The next I/O to do.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ServerTransmit> {
        None
    }

    /// The next event for the operator.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        None
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Everyone online, in registration order.
    pub fn online(&self) -> impl Iterator<Item = &UserEntry> + '_ {
        std::iter::empty()
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        ServerStats::default()
    }
}
