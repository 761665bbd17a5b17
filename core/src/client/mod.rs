//! A client: login, the online list, keepalive, and reliable peer-to-peer chat. Sans-IO.

mod backoff;
mod chat;
pub mod command;
mod config;
mod login;
mod outbox;
mod output;
mod roster;
mod session;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

pub use command::{parse_command, Command, CommandError};
pub use config::ClientConfig;
pub use output::{
    ClientEvent, ClientState, ClientStats, ClientTransmit, DisconnectReason, FailReason,
    LoginFailure, MessageId, SendError,
};

use crate::wire::{
    canonical, ClientLine, Dialect, LineDecoder, PeerDatagram, ServerLine, UserEntry,
};
use backoff::Backoff;
use outbox::Outbox;
use session::{Io, Session};

/// The client state machine. Creating it queues the first login datagram.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    /// `config.server`, canonical, to recognise the server's datagrams (sent to as configured).
    server: SocketAddr,
    phase: Phase,
    /// Reassembles the server's lines, however TCP splits them.
    decoder: LineDecoder,
    out: Outbox,
    stats: ClientStats,
    next_message_id: u64,
}

/// Where the client is, with what each stage needs.
#[derive(Debug)]
enum Phase {
    LoggingIn {
        /// The login datagram, encoded once for every retry.
        datagram: Bytes,
        backoff: Backoff,
    },
    Connecting {
        /// `handle_connected` came: the claim was sent.
        connected: bool,
        /// The snapshot must arrive by then.
        deadline: Instant,
    },
    Online(Box<Session>),
    Closed,
}

impl Client {
    /// Starts logging in.
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let mut client = Client {
            server: canonical(config.server),
            decoder: LineDecoder::new(config.max_server_line),
            config,
            phase: Phase::Closed,
            out: Outbox::default(),
            stats: ClientStats::default(),
            next_message_id: 1,
        };
        client.phase = client.start_login(now);
        client
    }

    /// The configuration in force.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// A datagram arrived on the client's UDP socket (from the server or a peer).
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        let from = canonical(from);
        if from == self.server {
            self.handle_server_datagram(now, data);
            return;
        }
        match &mut self.phase {
            Phase::Online(session) => {
                let io = Io {
                    config: &self.config,
                    out: &mut self.out,
                    stats: &mut self.stats,
                };
                session.handle_peer_datagram(now, from, data, io);
            }
            // Nobody is listed yet, so no peer datagram can be checked.
            Phase::LoggingIn { .. } | Phase::Connecting { .. } => match PeerDatagram::parse(data) {
                Ok(_) => self.stats.unknown_sender += 1,
                Err(_) => self.stats.malformed += 1,
            },
            Phase::Closed => {}
        }
    }

    /// The TCP connection asked for by [`ClientTransmit::Connect`] is open.
    pub fn handle_connected(&mut self, now: Instant) {
        let _ = now;
        if let Phase::Connecting { connected, .. } = &mut self.phase {
            if !*connected {
                *connected = true;
                self.send_claim();
            }
        }
    }

    /// Bytes arrived on the TCP session, split anywhere.
    pub fn handle_tcp_bytes(&mut self, now: Instant, data: &[u8]) {
        if !matches!(self.phase, Phase::Connecting { .. } | Phase::Online(_)) {
            return;
        }
        self.decoder.push(data);
        loop {
            // `None` stands for a line that is too long or does not parse: either ends the session.
            let line = match self.decoder.next_line() {
                None => break,
                Some(Ok(line)) => ServerLine::parse(line).ok(),
                Some(Err(_)) => None,
            };
            match &mut self.phase {
                Phase::Connecting { .. } => self.handle_login_line(now, line),
                Phase::Online(session) => {
                    let io = Io {
                        config: &self.config,
                        out: &mut self.out,
                        stats: &mut self.stats,
                    };
                    let result = match line {
                        Some(line) => session.handle_line(now, line, io),
                        None => Err(DisconnectReason::ProtocolError),
                    };
                    if let Err(reason) = result {
                        self.finish(ClientEvent::Disconnected(reason), true);
                    }
                }
                Phase::LoggingIn { .. } | Phase::Closed => break,
            }
        }
    }

    /// The TCP session closed, failed, or could not be opened.
    pub fn handle_tcp_closed(&mut self, now: Instant) {
        let _ = now;
        let failure = match self.phase {
            Phase::Connecting {
                connected: false, ..
            } => ClientEvent::LoginFailed(LoginFailure::ConnectFailed),
            Phase::Connecting {
                connected: true, ..
            } => ClientEvent::LoginFailed(LoginFailure::ConnectionLost),
            Phase::Online(_) => ClientEvent::Disconnected(DisconnectReason::ConnectionLost),
            Phase::LoggingIn { .. } | Phase::Closed => return,
        };
        self.finish(failure, false);
    }

    /// Time has reached (or passed) [`poll_timeout`](Self::poll_timeout). Early calls are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.phase {
            Phase::LoggingIn { .. } => self.login_timeout(now),
            Phase::Connecting { deadline, .. } => {
                if now >= *deadline {
                    let lost = ClientEvent::LoginFailed(LoginFailure::ConnectionLost);
                    self.finish(lost, true);
                }
            }
            Phase::Online(session) => {
                let io = Io {
                    config: &self.config,
                    out: &mut self.out,
                    stats: &mut self.stats,
                };
                if let Err(reason) = session.handle_timeout(now, io) {
                    self.finish(ClientEvent::Disconnected(reason), true);
                }
            }
            Phase::Closed => {}
        }
    }

    /// Queues a chat message to the online user `to`.
    pub fn send_message(
        &mut self,
        now: Instant,
        to: &str,
        text: &str,
    ) -> Result<MessageId, SendError> {
        let Phase::Online(session) = &mut self.phase else {
            return Err(SendError::NotLoggedIn);
        };
        let id = MessageId(self.next_message_id);
        let io = Io {
            config: &self.config,
            out: &mut self.out,
            stats: &mut self.stats,
        };
        session.send_message(now, id, to, text, io)?;
        self.next_message_id += 1;
        Ok(id)
    }

    /// Logs out properly (a `logout` line, then close); unacknowledged messages fail.
    pub fn logout(&mut self, now: Instant) {
        let _ = now;
        match self.phase {
            Phase::Online(_) => {
                let line = ClientLine::Logout(self.declared_entry()).to_vec();
                self.out.send_line(Bytes::from(line));
                self.finish(ClientEvent::LoggedOut, true);
            }
            Phase::Connecting { .. } => self.finish(ClientEvent::LoggedOut, true),
            Phase::LoggingIn { .. } => self.finish(ClientEvent::LoggedOut, false),
            Phase::Closed => {}
        }
    }

    /// The next I/O to do.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ClientTransmit> {
        self.out.pop_transmit()
    }

    /// The next event for the user.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.out.pop_event()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.phase {
            Phase::LoggingIn { backoff, .. } => Some(backoff.deadline()),
            Phase::Connecting { deadline, .. } => Some(*deadline),
            Phase::Online(session) => Some(session.next_deadline()),
            Phase::Closed => None,
        }
    }

    /// Where the client is in its life.
    pub fn state(&self) -> ClientState {
        match self.phase {
            Phase::LoggingIn { .. } => ClientState::LoggingIn,
            Phase::Connecting { .. } => ClientState::Connecting,
            Phase::Online(_) => ClientState::Online,
            Phase::Closed => ClientState::Closed,
        }
    }

    /// Ourselves as the server lists us, once online.
    pub fn me(&self) -> Option<&UserEntry> {
        match &self.phase {
            Phase::Online(session) => Some(session.me()),
            _ => None,
        }
    }

    /// The online list (us included), in the server's order.
    pub fn users(&self) -> impl Iterator<Item = &UserEntry> + '_ {
        let session = match &self.phase {
            Phase::Online(session) => Some(session),
            _ => None,
        };
        session.into_iter().flat_map(|s| s.users())
    }

    /// The dialect a `dialect` line announced for this online user (`None`: feige's own).
    pub fn dialect(&self, name: &str) -> Option<Dialect> {
        match &self.phase {
            Phase::Online(session) => session.dialect(name),
            _ => None,
        }
    }

    /// Counters of dropped input.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// Ends the client: unresolved messages fail first, then the terminal `event`.
    fn finish(&mut self, event: ClientEvent, close_tcp: bool) {
        if let Phase::Online(session) = &mut self.phase {
            session.fail_all(&mut self.out);
        }
        if close_tcp {
            self.out.transmit(ClientTransmit::Close);
        }
        self.out.event(event);
        self.phase = Phase::Closed;
        self.decoder = LineDecoder::new(0);
    }
}
