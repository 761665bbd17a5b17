//! A client: login, the online list, keepalive, reliable peer-to-peer chat, and coming back
//! after the server session is lost. Sans-IO.
//!
//! Two things live side by side: the *link* with the server ([`Phase`]: logging in, online,
//! away) and, once the first login succeeded, the *session* ([`Session`]: the list, the paths,
//! the chat). Losing the link does not end the session: chat with the peers it knows goes on,
//! and the client logs in again ([`reconnect`](self::reconnect)) until it is online again.
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
mod persist;
mod reconnect;
mod reference_store;
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

pub use chat::SESSIONS_KEPT_PER_PEER;
pub use command::{parse_command, Command, CommandError};
pub use config::ClientConfig;
pub use keyring::TrustError;
pub use output::{
    ClientEvent, ClientState, ClientStats, ClientTransmit, DisconnectReason, FailReason,
    LoginFailure, MessageId, SendError, Via,
};
pub use persist::{Outcome, Record, Restored, SavedMessage, SavedStream};
pub use reference_store::ReferenceStore;
pub use secure::{StaticKeys, WallClock};

use crate::wire::{
    canonical, is_classic_datagram, safety_number, ClassicDatagram, ClientLine, Dialect,
    LineDecoder, Name, PeerDatagram, ServerLine, UserEntry,
};
use backoff::{deadline_after, Backoff};
use reconnect::Reconnect;
use session::{Keepalive, Session};
use shared::Shared;

/// The client state machine. Creating it queues the first login datagram.
#[derive(Debug)]
pub struct Client {
    /// `config.server`, canonical, to recognise the server's datagrams (sent to as configured).
    server: SocketAddr,
    phase: Phase,
    /// The list, paths and chat, from the first login to the end.
    session: Option<Box<Session>>,
    /// Attempts to log in again since the link was lost.
    reconnect: Reconnect,
    /// Reassembles the server's lines, however TCP splits them.
    decoder: LineDecoder,
    ctx: Shared,
    next_message_id: u64,
}

/// Where the link with the server is, with what each stage needs.
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
    /// The session is on; `None` in the classic dialect, whose link carried only the list.
    Online(Option<Keepalive>),
    /// The link was lost; the next login starts at `retry_at`.
    Away {
        retry_at: Instant,
    },
    Closed,
}

impl Client {
    /// Starts logging in.
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let next_message_id = config
            .restored
            .as_ref()
            .map_or(1, |r| r.next_message_id.max(1));
        let mut client = Client {
            server: canonical(config.server),
            decoder: LineDecoder::new(config.max_server_line),
            reconnect: Reconnect::new(config.seed),
            ctx: Shared::new(config, now),
            phase: Phase::Closed,
            session: None,
            next_message_id,
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
        match &mut self.session {
            Some(session) => {
                let io = self.ctx.io();
                session.handle_peer_datagram(now, from, data, io);
            }
            // Nobody is listed yet, so no peer datagram can be checked.
            None => {
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
                Phase::Online(keepalive) => {
                    if let Some(keepalive) = keepalive {
                        keepalive.heard(now, &self.ctx.config);
                    }
                    let Some(session) = &mut self.session else {
                        break;
                    };
                    let io = self.ctx.io();
                    let result = match line {
                        Some(line) => session.handle_line(now, line, io),
                        None => Err(DisconnectReason::ProtocolError),
                    };
                    if let Err(reason) = result {
                        self.link_lost(now, reason, true);
                    }
                }
                _ => break,
            }
        }
    }

    /// The TCP session closed, failed, or could not be opened. In the classic dialect the server
    /// closes it after the list, so a close once online is the normal end of that connection.
    pub fn handle_tcp_closed(&mut self, now: Instant) {
        match self.phase {
            Phase::Connecting {
                connected: false, ..
            }
            | Phase::FetchingList {
                connected: false, ..
            } => self.login_failed(now, LoginFailure::ConnectFailed, false),
            Phase::Connecting {
                connected: true, ..
            }
            | Phase::FetchingList {
                connected: true, ..
            } => self.login_failed(now, LoginFailure::ConnectionLost, false),
            Phase::Online(_) if self.ctx.config.is_classic() => {}
            Phase::Online(_) => self.link_lost(now, DisconnectReason::ConnectionLost, false),
            Phase::LoggingIn { .. } | Phase::Away { .. } | Phase::Closed => {}
        }
    }

    /// Time has reached (or passed) [`poll_timeout`](Self::poll_timeout). Early calls are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.phase {
            // Ended: no timer of the session (paths, handshakes) may act after the terminal event.
            Phase::Closed => return,
            Phase::LoggingIn { .. } => self.login_timeout(now),
            Phase::Connecting { deadline, .. } | Phase::FetchingList { deadline, .. } => {
                if now >= *deadline {
                    self.login_failed(now, LoginFailure::ConnectionLost, true);
                }
            }
            Phase::Online(Some(keepalive)) => match keepalive.due(now, &self.ctx.config) {
                Ok(ping) => {
                    if ping {
                        self.ctx
                            .out
                            .send_line(Bytes::from(ClientLine::Ping.to_vec()));
                    }
                }
                Err(reason) => self.link_lost(now, reason, true),
            },
            Phase::Away { retry_at } => {
                if now >= *retry_at {
                    self.phase = self.start_login(now);
                }
            }
            Phase::Online(None) => {}
        }
        if let Some(session) = &mut self.session {
            let io = self.ctx.io();
            session.handle_timeout(now, io);
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

    /// Queues a chat message to `to`: a listed user, or a contact we know who is offline (it
    /// waits in the outbox, `queued`, until they come online). The message is recorded in the
    /// outbox before anything else is sent for it.
    ///
    /// A classic peer gets it as a `talk` stamped with the sender's wall-clock time of day as
    /// text (`21:05:07`), which the textbook program shows: the sans-IO core reads no clock, so
    /// the caller passes it with each message; a native `msg` carries no time and ignores it. A
    /// time holding a `,` cannot be carried and goes out empty. A `talk` is one datagram, best
    /// effort: never acknowledged, so it is reported `sent` and never `delivered` or `failed`,
    /// and `TooLong{max}` counts UTF-16 code units. A `,` in the text is sent as is, but the
    /// textbook receiver shows only what comes before it.
    pub fn send_message_stamped(
        &mut self,
        now: Instant,
        to: &str,
        text: &str,
        time_of_day: &str,
    ) -> Result<MessageId, SendError> {
        if matches!(self.phase, Phase::Closed) {
            return Err(SendError::NotLoggedIn);
        }
        let Some(session) = &mut self.session else {
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
        if matches!(self.phase, Phase::Closed) {
            return Err(TrustError::NoKey);
        }
        let Some(session) = &mut self.session else {
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
        let (name, _) = self.live_session()?.listed(name)?;
        Some(safety_number(
            (&self.ctx.config.name, &ours),
            (name, &theirs),
        ))
    }

    /// Logs out properly (a `logout` line, then close). In the classic dialect, a `logout`
    /// datagram to the server instead, in whatever phase. What is still in the outbox fails
    /// (`logged-out`), unless the records are kept for the next run.
    pub fn logout(&mut self, now: Instant) {
        if self.ctx.config.is_classic() {
            self.classic_logout(now);
            return;
        }
        match self.phase {
            Phase::Online(_) => {
                let line = ClientLine::Logout(self.declared_entry()).to_vec();
                self.ctx.out.send_line(Bytes::from(line));
                self.finish(now, ClientEvent::LoggedOut, true);
            }
            Phase::Connecting { .. } | Phase::FetchingList { .. } => {
                self.finish(now, ClientEvent::LoggedOut, true)
            }
            Phase::LoggingIn { .. } | Phase::Away { .. } => {
                self.finish(now, ClientEvent::LoggedOut, false)
            }
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
        let link = match &self.phase {
            Phase::LoggingIn { backoff, .. } => Some(backoff.deadline()),
            Phase::Connecting { deadline, .. } | Phase::FetchingList { deadline, .. } => {
                Some(*deadline)
            }
            Phase::Online(keepalive) => keepalive.as_ref().map(Keepalive::deadline),
            Phase::Away { retry_at } => Some(*retry_at),
            Phase::Closed => return None,
        };
        let session = self.session.as_ref().and_then(|s| s.next_deadline());
        let secure = self
            .session
            .as_ref()
            .and_then(|_| self.ctx.secure.as_ref().and_then(|s| s.next_deadline()));
        [link, session, secure].into_iter().flatten().min()
    }

    /// Where the client is in its life.
    pub fn state(&self) -> ClientState {
        match (&self.phase, &self.session) {
            (Phase::Closed, _) => ClientState::Closed,
            (Phase::Online(_), _) => ClientState::Online,
            (_, Some(_)) => ClientState::Reconnecting,
            (Phase::LoggingIn { .. }, None) => ClientState::LoggingIn,
            (_, None) => ClientState::Connecting,
        }
    }

    /// Ourselves as the server listed us last, once online.
    pub fn me(&self) -> Option<&UserEntry> {
        self.live_session().map(|s| s.me())
    }

    /// The online list (us included), in the server's order: as the server told it last while
    /// reconnecting.
    pub fn users(&self) -> impl Iterator<Item = &UserEntry> + '_ {
        self.live_session().into_iter().flat_map(|s| s.users())
    }

    /// Everyone a message may be written to: those listed, and the contacts a message waits
    /// for while they are offline (from earlier runs, and everyone listed since).
    pub fn contacts(&self) -> impl Iterator<Item = &Name> + '_ {
        self.live_session().into_iter().flat_map(|s| s.contacts())
    }

    /// The dialect a `dialect` line announced for this online user (`None`: feige's own). On a
    /// textbook server (classic dialect) every listed user is classic.
    pub fn dialect(&self, name: &str) -> Option<Dialect> {
        self.live_session().and_then(|s| s.dialect(name))
    }

    /// Counters of dropped input.
    pub fn stats(&self) -> ClientStats {
        self.ctx.stats
    }

    /// The session, unless the client has ended.
    fn live_session(&self) -> Option<&Session> {
        match self.phase {
            Phase::Closed => None,
            _ => self.session.as_deref(),
        }
    }

    /// The link with the server is lost for `reason`. A native session goes on and logs in
    /// again; one replaced by our own login elsewhere, or a classic one, ends.
    fn link_lost(&mut self, now: Instant, reason: DisconnectReason, close_tcp: bool) {
        let keep_going = self.session.is_some()
            && !self.ctx.config.is_classic()
            && reason != DisconnectReason::Replaced;
        if !keep_going {
            self.finish(now, ClientEvent::Disconnected(reason), close_tcp);
            return;
        }
        if close_tcp {
            self.ctx.out.transmit(ClientTransmit::Close);
        }
        self.away(now);
    }

    /// Waits before the next attempt to log in again, and says so.
    fn away(&mut self, now: Instant) {
        if let Some(session) = &mut self.session {
            session.server_lost();
        }
        self.decoder = LineDecoder::new(self.ctx.config.max_server_line);
        let (attempt, wait) = self.reconnect.next_wait(&self.ctx.config);
        self.ctx.out.event(ClientEvent::Reconnecting {
            attempt,
            in_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
        });
        self.phase = Phase::Away {
            retry_at: deadline_after(now, wait),
        };
    }

    /// A login did not complete (`close_tcp`: its connection is still open). The first login
    /// ends the client; logging in again, it is tried again later, unless the name is taken for
    /// good.
    fn login_failed(&mut self, now: Instant, failure: LoginFailure, close_tcp: bool) {
        if self.session.is_none() || self.ctx.config.is_classic() {
            self.finish(now, ClientEvent::LoginFailed(failure), close_tcp);
            return;
        }
        if close_tcp {
            self.ctx.out.transmit(ClientTransmit::Close);
        }
        if self.reconnect.refused(failure, &self.ctx.config) {
            let reason = DisconnectReason::NameTaken;
            self.finish(now, ClientEvent::Disconnected(reason), false);
            return;
        }
        self.away(now);
    }

    /// Ends the client: unresolved messages fail first (unless kept for the next run), then the
    /// terminal `event`.
    fn finish(&mut self, now: Instant, event: ClientEvent, close_tcp: bool) {
        self.ctx.keyring.clear_listed();
        if let Some(session) = &mut self.session {
            let io = self.ctx.io();
            session.end(now, FailReason::LoggedOut, io);
        }
        if close_tcp {
            self.ctx.out.transmit(ClientTransmit::Close);
        }
        self.ctx.out.event(event);
        self.phase = Phase::Closed;
        self.decoder = LineDecoder::new(0);
    }
}
