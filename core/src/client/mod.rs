//! A client: login, the online list, keepalive, and reliable peer-to-peer chat. Sans-IO.

mod config;
mod output;

use std::net::SocketAddr;
use std::time::Instant;

pub use config::ClientConfig;
pub use output::{
    ClientEvent, ClientState, ClientStats, ClientTransmit, DisconnectReason, FailReason,
    LoginFailure, MessageId, SendError,
};

use crate::wire::UserEntry;

/// The client state machine. Creating it queues the first login datagram.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
}

impl Client {
    /// Starts logging in.
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let _ = now;
        Client { config }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// A datagram arrived on the client's UDP socket (from the server or a peer).
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        let _ = (now, from, data);
    }

    /// The TCP connection asked for by [`ClientTransmit::Connect`] is open.
    pub fn handle_connected(&mut self, now: Instant) {
        let _ = now;
    }

    /// Bytes arrived on the TCP session, split anywhere.
    pub fn handle_tcp_bytes(&mut self, now: Instant, data: &[u8]) {
        let _ = (now, data);
    }

    /// The TCP session closed, failed, or could not be opened.
    pub fn handle_tcp_closed(&mut self, now: Instant) {
        let _ = now;
    }

    /// Time has reached (or passed) [`poll_timeout`](Self::poll_timeout). Early calls are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
    }

    /// Queues a chat message to the online user `to`.
    pub fn send_message(
        &mut self,
        now: Instant,
        to: &str,
        text: &str,
    ) -> Result<MessageId, SendError> {
        let _ = (now, to, text);
        Err(SendError::NotLoggedIn)
    }

    /// Logs out properly (a `logout` line, then close); unacknowledged messages fail.
    pub fn logout(&mut self, now: Instant) {
        let _ = now;
    }

    /// The next I/O to do.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ClientTransmit> {
        None
    }

    /// The next event for the user.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        None
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Where the client is in its life.
    pub fn state(&self) -> ClientState {
        ClientState::LoggingIn
    }

    /// Ourselves as the server lists us, once online.
    pub fn me(&self) -> Option<&UserEntry> {
        None
    }

    /// The online list (us included), in the server's order.
    pub fn users(&self) -> impl Iterator<Item = &UserEntry> + '_ {
        std::iter::empty()
    }

    /// Counters of dropped input.
    pub fn stats(&self) -> ClientStats {
        ClientStats::default()
    }
}
