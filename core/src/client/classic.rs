//! Logging in to a textbook server (classic dialect): the UTF-16LE login, an `Accept` from any
//! port of the server's IP, the one-shot list on a connection we never write to, presence by
//! datagram, and the `logout` datagram.
//!
//! The textbook server answers and announces from fresh ports, so only its IP can be checked.
//! Peers' `talk` datagrams may come from that IP too (several users on one host).

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::backoff::deadline_after;
use super::output::{ClientEvent, ClientTransmit, LoginFailure};
use super::roster::Roster;
use super::session::Session;
use super::{Client, Phase};
use crate::wire::{
    canonical, decode_classic_list, decode_utf16le, ClassicDatagram, ServerDatagram, UserEntry,
};

/// Presence datagrams kept while the list is on its way; more are dropped.
const MAX_EARLY_PRESENCE: usize = 1024;

/// Most bytes in the list's length prefix.
const MAX_LIST_PREFIX: usize = 5;

impl Client {
    /// Any datagram, in the classic dialect.
    pub(super) fn handle_classic_mode_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        data: &[u8],
    ) {
        let from_server_ip = from.ip() == self.server.ip();
        let datagram = match ClassicDatagram::parse(data) {
            Ok(datagram) => datagram,
            Err(_) => {
                match classic_reject(data) {
                    Some(failure) if from_server_ip => self.login_refused(now, failure),
                    _ => self.ctx.stats.malformed += 1,
                }
                return;
            }
        };
        if let ClassicDatagram::Talk {
            from: name, text, ..
        } = datagram
        {
            match &mut self.session {
                Some(session) => {
                    let io = self.ctx.io();
                    session.handle_talk(now, from, name, text, io);
                }
                None => self.ctx.stats.unknown_sender += 1,
            }
            return;
        }
        if !from_server_ip {
            self.ctx.stats.wrong_source += 1;
            return;
        }
        match (&mut self.phase, datagram) {
            (Phase::LoggingIn { .. }, ClassicDatagram::Accept { tcp_port }) => {
                let to = SocketAddr::new(self.ctx.config.server.ip(), tcp_port);
                self.ctx.out.transmit(ClientTransmit::Connect { to });
                self.phase = Phase::FetchingList {
                    connected: false,
                    deadline: deadline_after(now, self.ctx.config.server_timeout),
                    received: Vec::new(),
                    early_presence: Vec::new(),
                };
            }
            // Repeated answers to our retransmitted logins mean nothing.
            (_, ClassicDatagram::Accept { .. }) => {}
            (Phase::FetchingList { early_presence, .. }, presence) => {
                if early_presence.len() < MAX_EARLY_PRESENCE {
                    early_presence.push(presence);
                }
            }
            (Phase::Online(_), presence) => {
                if let Some(session) = &mut self.session {
                    let io = self.ctx.io();
                    session.handle_classic_presence(now, presence, io);
                }
            }
            // Before the Accept nothing is known to update.
            (
                Phase::LoggingIn { .. }
                | Phase::Connecting { .. }
                | Phase::Away { .. }
                | Phase::Closed,
                _,
            ) => {}
        }
    }

    /// A `Reject` while logging in ends the login; a late one means nothing.
    fn login_refused(&mut self, now: Instant, failure: LoginFailure) {
        if matches!(self.phase, Phase::LoggingIn { .. }) {
            self.login_failed(now, failure, false);
        }
    }

    /// Bytes of the one-shot list. It is complete once its announced length is there; what
    /// follows it is ignored, since the connection is closed right after.
    pub(super) fn handle_list_bytes(&mut self, now: Instant, data: &[u8]) {
        let Phase::FetchingList { received, .. } = &mut self.phase else {
            return;
        };
        received.extend_from_slice(data);
        let bound = self
            .ctx
            .config
            .max_server_line
            .saturating_add(MAX_LIST_PREFIX);
        match decode_classic_list(received) {
            Ok(Some((entries, used))) if used <= bound => self.enter_classic_session(now, entries),
            Ok(None) if received.len() <= bound => {}
            Ok(_) | Err(_) => self.login_failed(now, LoginFailure::BadSnapshot, true),
        }
    }

    /// Online with the list, which must show us at our declared endpoint (a textbook server
    /// lists what we declared). The connection has served its purpose and is closed.
    fn enter_classic_session(&mut self, now: Instant, entries: Vec<UserEntry>) {
        let Phase::FetchingList { early_presence, .. } = &mut self.phase else {
            return;
        };
        let early_presence = std::mem::take(early_presence);
        let entries: Vec<UserEntry> = entries
            .into_iter()
            .map(|e| UserEntry::new(e.name, canonical(e.endpoint)))
            .collect();
        let me = UserEntry::new(
            self.ctx.config.name.clone(),
            canonical(self.ctx.config.local_endpoint),
        );
        let Some(roster) = Roster::from_classic_list(&entries, &me) else {
            self.login_failed(now, LoginFailure::BadSnapshot, true);
            return;
        };
        let users: Vec<UserEntry> = roster.iter().cloned().collect();
        let mut session = Session::new(now, me.clone(), roster, self.ctx.io());
        self.ctx.out.transmit(ClientTransmit::Close);
        self.ctx.out.event(ClientEvent::LoggedIn { me, users });
        for presence in early_presence {
            let io = self.ctx.io();
            session.handle_classic_presence(now, presence, io);
        }
        self.session = Some(Box::new(session));
        self.phase = Phase::Online(None);
    }

    /// The `logout` datagram to the server, in every phase: a textbook server may list us from
    /// the login on, and without keepalive it would list us forever.
    pub(super) fn classic_logout(&mut self, now: Instant) {
        let close_tcp = match self.phase {
            Phase::Closed => return,
            Phase::FetchingList { .. } => true,
            Phase::LoggingIn { .. }
            | Phase::Connecting { .. }
            | Phase::Online(_)
            | Phase::Away { .. } => false,
        };
        let logout = ClassicDatagram::Logout(self.declared_entry()).to_vec();
        self.ctx
            .out
            .datagram(self.ctx.config.server, Bytes::from(logout));
        self.finish(now, ClientEvent::LoggedOut, close_tcp);
    }
}

/// A feige server refuses a classic login with `Reject,<reason>` in UTF-16LE (the textbook
/// server never refuses).
fn classic_reject(data: &[u8]) -> Option<LoginFailure> {
    let text = decode_utf16le(data).ok()?;
    match ServerDatagram::parse(text.as_bytes()) {
        Ok(ServerDatagram::Reject(reason)) => Some(LoginFailure::Rejected(reason)),
        _ => None,
    }
}
