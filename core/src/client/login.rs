//! Getting online: login datagrams with backoff, `Accept`/`Reject`, the TCP claim, the snapshot.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::backoff::{deadline_after, Backoff, Step};
use super::output::{ClientEvent, ClientTransmit, LoginFailure};
use super::roster::Roster;
use super::session::{Keepalive, Session};
use super::{Client, Phase};
use crate::wire::{
    canonical, ClassicDatagram, ClientDatagram, ClientLine, ServerDatagram, ServerLine, UserEntry,
};

impl Client {
    /// Our declared entry: what the login datagram, the claim and the logout line carry.
    pub(super) fn declared_entry(&self) -> UserEntry {
        UserEntry::new(self.ctx.config.name.clone(), self.ctx.config.local_endpoint)
    }

    /// A datagram from the server's address.
    pub(super) fn handle_server_datagram(&mut self, now: Instant, data: &[u8]) {
        let Ok(datagram) = ServerDatagram::parse(data) else {
            self.ctx.stats.malformed += 1;
            return;
        };
        // Once accepted, repeated answers to our retransmitted logins mean nothing.
        if !matches!(self.phase, Phase::LoggingIn { .. }) {
            return;
        }
        match datagram {
            ServerDatagram::Accept { tcp_port } => {
                let to = SocketAddr::new(self.ctx.config.server.ip(), tcp_port);
                self.ctx.out.transmit(ClientTransmit::Connect { to });
                self.phase = Phase::Connecting {
                    connected: false,
                    deadline: deadline_after(now, self.ctx.config.server_timeout),
                };
            }
            ServerDatagram::Reject(reason) => {
                self.login_failed(now, LoginFailure::Rejected(reason), false);
            }
        }
    }

    /// The login retry timer.
    pub(super) fn login_timeout(&mut self, now: Instant) {
        let Phase::LoggingIn { datagram, backoff } = &mut self.phase else {
            return;
        };
        match backoff.step(now) {
            Step::Wait => {}
            Step::Resend => {
                let datagram = datagram.clone();
                self.ctx.out.datagram(self.ctx.config.server, datagram);
            }
            Step::GiveUp => self.login_failed(now, LoginFailure::Timeout, false),
        }
    }

    /// The first login datagram (UTF-16LE in the classic dialect), sent from [`Client::new`].
    pub(super) fn start_login(&mut self, now: Instant) -> Phase {
        let login = self.declared_entry();
        let datagram = Bytes::from(if self.ctx.config.is_classic() {
            ClassicDatagram::Login(login).to_vec()
        } else {
            ClientDatagram::Login(login).to_vec()
        });
        self.ctx
            .out
            .datagram(self.ctx.config.server, datagram.clone());
        Phase::LoggingIn {
            datagram,
            backoff: Backoff::start(
                now,
                self.ctx.config.login_retry,
                self.ctx.config.login_tries,
            ),
        }
    }

    /// TCP is open: claim the pending login.
    pub(super) fn send_claim(&mut self) {
        let claim = ClientLine::Login {
            entry: self.declared_entry(),
            key: self
                .ctx
                .config
                .identity
                .as_ref()
                .map(super::StaticKeys::public),
        }
        .to_vec();
        self.ctx.out.send_line(Bytes::from(claim));
    }

    /// A line before the snapshot: only the snapshot or an `error` is valid here.
    pub(super) fn handle_login_line(&mut self, now: Instant, line: Option<ServerLine>) {
        match line {
            Some(ServerLine::Snapshot(entries)) => self.enter_session(now, entries),
            Some(ServerLine::Error(reason)) => {
                self.login_failed(now, LoginFailure::Refused(reason), true);
            }
            _ => self.login_failed(now, LoginFailure::BadSnapshot, true),
        }
    }

    fn enter_session(&mut self, now: Instant, entries: Vec<UserEntry>) {
        let users: Vec<UserEntry> = entries
            .into_iter()
            .map(|e| UserEntry::new(e.name, canonical(e.endpoint)))
            .collect();
        let me = users
            .iter()
            .find(|e| e.name == self.ctx.config.name)
            .cloned();
        let (Some(me), Some(roster)) = (me, Roster::from_snapshot(&users)) else {
            self.login_failed(now, LoginFailure::BadSnapshot, true);
            return;
        };
        self.reconnect.succeeded();
        self.phase = Phase::Online(Some(Keepalive::new(now, &self.ctx.config)));
        match &mut self.session {
            // Logged in again: only what changed is told.
            Some(session) => session.relist(now, me, users, roster, self.ctx.io()),
            None => {
                let session = Session::new(now, me.clone(), roster, self.ctx.io());
                self.session = Some(Box::new(session));
                self.ctx.out.event(ClientEvent::LoggedIn { me, users });
            }
        }
    }
}
