//! A client: login, the online list, keepalive, and reliable peer-to-peer chat. Sans-IO.
//!
//! It also speaks the classic dialect of the textbook C# program: to classic peers listed by a
//! feige server (best-effort `talk`), and, with [`ClientConfig::classic`], to a textbook server.

mod backoff;
mod chat;
mod classic;
pub mod command;
mod config;
mod keyring;
mod login;
mod outbox;
mod output;
mod path;
mod roster;
mod sealing;
pub(crate) mod secure;
mod session;
mod shared;
mod talk;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

pub use command::{parse_command, Command, CommandError};
pub use config::ClientConfig;
pub use keyring::TrustError;
pub use output::{
    ClientEvent, ClientState, ClientStats, ClientTransmit, DisconnectReason, FailReason,
    LoginFailure, MessageId, SendError, Via,
};
pub use secure::{StaticKeys, WallClock};

use crate::wire::{
    canonical, is_classic_datagram, safety_number, ClassicDatagram, ClientLine, Dialect,
    LineDecoder, PeerDatagram, ServerLine, UserEntry,
};
use backoff::Backoff;
use session::Session;
use shared::Shared;

/// The client state machine. Creating it queues the first login datagram.
#[derive(Debug)]
pub struct Client {
    /// `config.server`, canonical, to recognise the server's datagrams (sent to as configured).
    server: SocketAddr,
    phase: Phase,
    /// Reassembles the server's lines, however TCP splits them.
    decoder: LineDecoder,
    ctx: Shared,
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
    /// Classic dialect: accepted, reading the one-shot list (we send nothing).
    FetchingList {
        /// `handle_connected` came.
        connected: bool,
        /// The list must arrive by then.
        deadline: Instant,
        /// The list's bytes so far.
        received: Vec<u8>,
        /// Presence datagrams that came before the list, applied after it in order.
        early_presence: Vec<ClassicDatagram>,
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
            ctx: Shared::new(config, now),
            phase: Phase::Closed,
            next_message_id: 1,
        };
        client.phase = client.start_login(now);
        client
    }

    /// The configuration in force.
    pub fn config(&self) -> &ClientConfig {
        &self.ctx.config
    }

    /// A datagram arrived on the client's UDP socket (from the server or a peer).
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        let from = canonical(from);
        if self.ctx.config.is_classic() {
            self.handle_classic_mode_datagram(now, from, data);
            return;
        }
        if from == self.server {
            self.handle_server_datagram(now, data);
            return;
        }
        match &mut self.phase {
            Phase::Online(session) => {
                let io = self.ctx.io();
                session.handle_peer_datagram(now, from, data, io);
            }
            // Nobody is listed yet, so no peer datagram can be checked.
            Phase::LoggingIn { .. } | Phase::Connecting { .. } | Phase::FetchingList { .. } => {
                let parses = if is_classic_datagram(data) {
                    ClassicDatagram::parse(data).is_ok()
                } else {
                    PeerDatagram::parse(data).is_ok()
                };
                if parses {
                    self.ctx.stats.unknown_sender += 1;
                } else {
                    self.ctx.stats.malformed += 1;
                }
            }
            Phase::Closed => {}
        }
    }

    /// The TCP connection asked for by [`ClientTransmit::Connect`] is open.
    pub fn handle_connected(&mut self, now: Instant) {
        let _ = now;
        match &mut self.phase {
            Phase::Connecting { connected, .. } if !*connected => {
                *connected = true;
                self.send_claim();
            }
            // A textbook client says nothing: the server writes the list unasked.
            Phase::FetchingList { connected, .. } => *connected = true,
            _ => {}
        }
    }

    /// Bytes arrived on the TCP session, split anywhere.
    pub fn handle_tcp_bytes(&mut self, now: Instant, data: &[u8]) {
        if let Phase::FetchingList { .. } = self.phase {
            self.handle_list_bytes(now, data);
            return;
        }
        // A classic session's connection carried only the list; nothing after it counts.
        if self.ctx.config.is_classic()
            || !matches!(self.phase, Phase::Connecting { .. } | Phase::Online(_))
        {
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
                    let io = self.ctx.io();
                    let result = match line {
                        Some(line) => session.handle_line(now, line, io),
                        None => Err(DisconnectReason::ProtocolError),
                    };
                    if let Err(reason) = result {
                        self.finish(ClientEvent::Disconnected(reason), true);
                    }
                }
                Phase::LoggingIn { .. } | Phase::FetchingList { .. } | Phase::Closed => break,
            }
        }
    }

    /// The TCP session closed, failed, or could not be opened. In the classic dialect the server
    /// closes it after the list, so a close once online is the normal end of that connection.
    pub fn handle_tcp_closed(&mut self, now: Instant) {
        let _ = now;
        let failure = match self.phase {
            Phase::Connecting {
                connected: false, ..
            }
            | Phase::FetchingList {
                connected: false, ..
            } => ClientEvent::LoginFailed(LoginFailure::ConnectFailed),
            Phase::Connecting {
                connected: true, ..
            }
            | Phase::FetchingList {
                connected: true, ..
            } => ClientEvent::LoginFailed(LoginFailure::ConnectionLost),
            Phase::Online(_) if self.ctx.config.is_classic() => return,
            Phase::Online(_) => ClientEvent::Disconnected(DisconnectReason::ConnectionLost),
            Phase::LoggingIn { .. } | Phase::Closed => return,
        };
        self.finish(failure, false);
    }

    /// Time has reached (or passed) [`poll_timeout`](Self::poll_timeout). Early calls are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.phase {
            Phase::LoggingIn { .. } => self.login_timeout(now),
            Phase::Connecting { deadline, .. } | Phase::FetchingList { deadline, .. } => {
                if now >= *deadline {
                    let lost = ClientEvent::LoginFailed(LoginFailure::ConnectionLost);
                    self.finish(lost, true);
                }
            }
            Phase::Online(session) => {
                let io = self.ctx.io();
                if let Err(reason) = session.handle_timeout(now, io) {
                    self.finish(ClientEvent::Disconnected(reason), true);
                }
            }
            Phase::Closed => {}
        }
    }

    /// Queues a chat message to the online user `to`. A message to a classic peer goes out
    /// with an empty time of day; see [`send_message_stamped`](Self::send_message_stamped).
    pub fn send_message(
        &mut self,
        now: Instant,
        to: &str,
        text: &str,
    ) -> Result<MessageId, SendError> {
        self.send_message_stamped(now, to, text, "")
    }

    /// Queues a chat message to the online user `to`, with the sender's wall-clock time of day
    /// as text (`21:05:07`), which a `talk` to a classic peer carries and the textbook program
    /// shows. The sans-IO core reads no clock, so the caller passes it with each message; a
    /// native `msg` carries no time and ignores it. A time holding a `,` cannot be carried and
    /// goes out empty.
    ///
    /// To a classic peer the message is one `talk` datagram, best effort: never acknowledged,
    /// so it is reported `sent` and never `delivered` or `failed`, and `TooLong{max}` counts
    /// UTF-16 code units. A `,` in the text is sent as is, but the textbook receiver shows only
    /// what comes before it.
    pub fn send_message_stamped(
        &mut self,
        now: Instant,
        to: &str,
        text: &str,
        time_of_day: &str,
    ) -> Result<MessageId, SendError> {
        let Phase::Online(session) = &mut self.phase else {
            return Err(SendError::NotLoggedIn);
        };
        let id = MessageId(self.next_message_id);
        let io = self.ctx.io();
        session.send_message(now, id, to, text, time_of_day, io)?;
        self.next_message_id += 1;
        Ok(id)
    }

    /// `/trust NAME`: believe the key the directory lists now for `name`, which differs from the
    /// pinned one (`ClientEvent::KeyChanged`) — after comparing safety numbers, say. The key is
    /// pinned (`ClientEvent::KeyPinned`) and chat with `name`, held until now, goes on.
    pub fn trust(&mut self, now: Instant, name: &str) -> Result<(), TrustError> {
        let Phase::Online(session) = &mut self.phase else {
            return Err(TrustError::NoKey);
        };
        session.trust(now, name, self.ctx.io())
    }

    /// `/verify NAME`: the safety number of our key and the key listed for `name`, trusted or
    /// not. Both users get the same number; comparing it out of band (read aloud, say) tells them
    /// nobody stands between them. `None` without keys on either side.
    pub fn safety_number(&self, name: &str) -> Option<String> {
        let ours = self.ctx.config.identity.as_ref()?.public();
        let theirs = self.ctx.keyring.listed_key(name)?;
        let Phase::Online(session) = &self.phase else {
            return None;
        };
        let (name, _) = session.listed(name)?;
        Some(safety_number(
            (&self.ctx.config.name, &ours),
            (name, &theirs),
        ))
    }

    /// Logs out properly (a `logout` line, then close); unacknowledged messages fail. In the
    /// classic dialect, a `logout` datagram to the server instead, in whatever phase.
    pub fn logout(&mut self, now: Instant) {
        let _ = now;
        if self.ctx.config.is_classic() {
            self.classic_logout();
            return;
        }
        match self.phase {
            Phase::Online(_) => {
                let line = ClientLine::Logout(self.declared_entry()).to_vec();
                self.ctx.out.send_line(Bytes::from(line));
                self.finish(ClientEvent::LoggedOut, true);
            }
            Phase::Connecting { .. } | Phase::FetchingList { .. } => {
                self.finish(ClientEvent::LoggedOut, true)
            }
            Phase::LoggingIn { .. } => self.finish(ClientEvent::LoggedOut, false),
            Phase::Closed => {}
        }
    }

    /// The next I/O to do.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ClientTransmit> {
        self.ctx.out.pop_transmit()
    }

    /// The next event for the user.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.ctx.out.pop_event()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.phase {
            Phase::LoggingIn { backoff, .. } => Some(backoff.deadline()),
            Phase::Connecting { deadline, .. } | Phase::FetchingList { deadline, .. } => {
                Some(*deadline)
            }
            Phase::Online(session) => {
                let secure = self.ctx.secure.as_ref().and_then(|s| s.next_deadline());
                [session.next_deadline(), secure]
                    .into_iter()
                    .flatten()
                    .min()
            }
            Phase::Closed => None,
        }
    }

    /// Where the client is in its life.
    pub fn state(&self) -> ClientState {
        match self.phase {
            Phase::LoggingIn { .. } => ClientState::LoggingIn,
            Phase::Connecting { .. } | Phase::FetchingList { .. } => ClientState::Connecting,
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

    /// The dialect a `dialect` line announced for this online user (`None`: feige's own). On a
    /// textbook server (classic dialect) every listed user is classic.
    pub fn dialect(&self, name: &str) -> Option<Dialect> {
        match &self.phase {
            Phase::Online(session) => session.dialect(name),
            _ => None,
        }
    }

    /// Counters of dropped input.
    pub fn stats(&self) -> ClientStats {
        self.ctx.stats
    }

    /// Ends the client: unresolved messages fail first, then the terminal `event`.
    fn finish(&mut self, event: ClientEvent, close_tcp: bool) {
        self.ctx.keyring.clear_listed();
        if let Phase::Online(session) = &mut self.phase {
            session.fail_all(&mut self.ctx.out);
        }
        if close_tcp {
            self.ctx.out.transmit(ClientTransmit::Close);
        }
        self.ctx.out.event(event);
        self.phase = Phase::Closed;
        self.decoder = LineDecoder::new(0);
    }
}
