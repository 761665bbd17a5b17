//! The TCP side: claiming a pending login, the session's lines, and every way of leaving.

use std::time::Instant;

use bytes::Bytes;

use crate::wire::{
    encode_snapshot, ClientLine, Dialect, ErrorReason, Name, ServerLine, UserEntry, WireError,
};

use super::state::{Epoch, Role, Session, Timer};
use super::{ConnId, LeaveReason, Presence, Server, ServerEvent, ServerTransmit, PONG};

impl Server {
    pub(super) fn on_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if let Role::Unclaimed { silent } = &mut c.role {
            *silent = false;
        }
        c.decoder.push(data);
        loop {
            // Parse into an owned value so the connection is free to change below.
            let line = match self
                .conns
                .get_mut(&conn)
                .and_then(|c| c.decoder.next_line())
            {
                None => return,
                Some(Err(_)) => Err(WireError::TooLong),
                Some(Ok(line)) => ClientLine::parse(line),
            };
            self.on_line(now, conn, line);
        }
    }

    fn on_line(&mut self, now: Instant, conn: ConnId, line: Result<ClientLine, WireError>) {
        let Some(role) = self.conns.get(&conn).map(|c| c.role.clone()) else {
            return;
        };
        match (role, line) {
            (_, Err(WireError::TooLong)) => self.refuse(conn, ErrorReason::LineTooLong),
            (Role::Unclaimed { .. }, Ok(ClientLine::Login(entry))) => self.claim(now, conn, &entry),
            (Role::Unclaimed { .. }, _) => self.refuse(conn, ErrorReason::BadLine),
            (Role::Session { epoch, .. }, Ok(ClientLine::Ping)) => {
                self.touch(now, epoch);
                self.transmits.push_back(ServerTransmit::Send {
                    conn,
                    data: Bytes::from_static(PONG),
                });
            }
            (Role::Session { name, epoch }, Ok(ClientLine::Logout(entry)))
                if entry.name == name =>
            {
                self.conns.remove(&conn);
                self.transmits.push_back(ServerTransmit::Close { conn });
                self.depart(epoch, LeaveReason::Logout);
            }
            (Role::Session { .. }, _) => self.refuse(conn, ErrorReason::BadLine),
        }
    }

    /// Binds the connection to the pending login of `name`, if it came from the same IP.
    fn claim(&mut self, now: Instant, conn: ConnId, claim: &UserEntry) {
        let name = &claim.name;
        // A classic login is bound by silence only: its client never sends a claim.
        let Some(pending) = self
            .pending
            .get(name)
            .filter(|p| !p.classic && p.declared == claim.endpoint)
        else {
            return self.refuse(conn, ErrorReason::NoPendingLogin);
        };
        let Some(peer) = self.conns.get(&conn).map(|c| c.peer) else {
            return;
        };
        if pending.listed.ip() != peer.ip() {
            return self.refuse(conn, ErrorReason::IpMismatch);
        }
        self.bind(now, conn, name);
    }

    /// Turns the pending login of `name` into a session carried by `conn`.
    fn bind(&mut self, now: Instant, conn: ConnId, name: &Name) {
        let Some(pending) = self.take_pending(name) else {
            return;
        };
        let entry = UserEntry::new(name.clone(), pending.listed);
        if pending.classic {
            self.establish_classic(now, conn, entry);
        } else {
            self.establish(now, conn, entry);
        }
    }

    /// A connection from an IP whose pending logins are all classic is a textbook client come
    /// for its list: it never speaks first, so it is served at once.
    pub(super) fn claim_classic_at_once(&mut self, now: Instant, conn: ConnId) {
        self.claim_classic_by_silence(now, conn, true);
    }

    /// A connection that has said nothing for a while is a textbook client whose IP also has
    /// native logins pending: it gets the oldest classic login from its IP. A native login is
    /// never bound by silence — on a shared host that would hand one client's login to another
    /// client's connection.
    pub(super) fn claim_silent(&mut self, now: Instant, conn: ConnId) {
        let silent = self
            .conns
            .get(&conn)
            .is_some_and(|c| c.role == (Role::Unclaimed { silent: true }));
        if silent {
            self.claim_classic_by_silence(now, conn, false);
        }
    }

    /// Binds `conn` to the oldest classic login pending from its IP; with `only_classic`, only
    /// when no native login from that IP is pending.
    fn claim_classic_by_silence(&mut self, now: Instant, conn: ConnId, only_classic: bool) {
        let Some(ip) = self.conns.get(&conn).map(|c| c.peer.ip()) else {
            return;
        };
        let Some(names) = self.pending_by_ip.get(&ip) else {
            return;
        };
        let mut oldest: Option<(Epoch, &Name)> = None;
        for name in names {
            match self.pending.get(name) {
                Some(p) if p.classic && oldest.is_none_or(|(epoch, _)| p.epoch < epoch) => {
                    oldest = Some((p.epoch, name));
                }
                Some(p) if p.classic => {}
                _ if only_classic => return,
                _ => {}
            }
        }
        if let Some((_, name)) = oldest {
            let name = name.clone();
            self.bind(now, conn, &name);
        }
    }

    pub(super) fn is_unclaimed(&self, conn: ConnId) -> bool {
        self.conns
            .get(&conn)
            .is_some_and(|c| matches!(c.role, Role::Unclaimed { .. }))
    }

    /// Registers the session: the snapshot to the newcomer, then the join to everyone else.
    fn establish(&mut self, now: Instant, conn: ConnId, entry: UserEntry) {
        if let Some(&old) = self.by_name.get(&entry.name) {
            self.drop_session(old, LeaveReason::Replaced, ErrorReason::Replaced);
        }
        let epoch = self.new_epoch();
        self.broadcast_presence(Presence::Join, &entry, false);
        self.by_name.insert(entry.name.clone(), epoch);
        self.sessions.insert(
            epoch,
            Session {
                entry: entry.clone(),
                conn: Some(conn),
                last_seen: now,
            },
        );
        if let Some(c) = self.conns.get_mut(&conn) {
            c.role = Role::Session {
                name: entry.name.clone(),
                epoch,
            };
        }
        let mut snapshot = Vec::with_capacity(self.sessions.len() * 32);
        encode_snapshot(
            &mut snapshot,
            self.sessions
                .values()
                .map(|s| (&s.entry.name, s.entry.endpoint)),
        );
        for classic in self.sessions.values().filter(|s| s.conn.is_none()) {
            ServerLine::Dialect {
                name: classic.entry.name.clone(),
                dialect: Dialect::Classic,
            }
            .encode(&mut snapshot);
        }
        self.transmits.push_back(ServerTransmit::Send {
            conn,
            data: Bytes::from(snapshot),
        });
        self.timers
            .push(now + self.config.idle_timeout, Timer::Idle { epoch });
        self.events.push_back(ServerEvent::Joined {
            name: entry.name,
            endpoint: entry.endpoint,
        });
    }

    fn touch(&mut self, now: Instant, epoch: Epoch) {
        if let Some(s) = self.sessions.get_mut(&epoch) {
            s.last_seen = now;
        }
    }

    pub(super) fn check_idle(&mut self, now: Instant, epoch: Epoch) {
        let Some(session) = self.sessions.get(&epoch) else {
            return;
        };
        let deadline = session.last_seen + self.config.idle_timeout;
        if deadline <= now {
            self.drop_session(epoch, LeaveReason::IdleTimeout, ErrorReason::IdleTimeout);
        } else {
            self.timers.push(deadline, Timer::Idle { epoch });
        }
    }

    /// Sends `error,<reason>` and closes; a session on the connection leaves.
    pub(super) fn refuse(&mut self, conn: ConnId, reason: ErrorReason) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        match c.role {
            Role::Session { epoch, .. } => self.drop_session(epoch, LeaveReason::Closed, reason),
            Role::Unclaimed { .. } => {
                self.conns.remove(&conn);
                self.send_error_and_close(conn, reason);
                self.stats.refused_connections += 1;
                self.events
                    .push_back(ServerEvent::ConnectionRefused { conn, reason });
            }
        }
    }

    /// Ends a session the server decided to end: tells it why, closes it, tells everyone else.
    pub(super) fn drop_session(&mut self, epoch: Epoch, leave: LeaveReason, error: ErrorReason) {
        if let Some(conn) = self.sessions.get(&epoch).and_then(|s| s.conn) {
            self.conns.remove(&conn);
            self.send_error_and_close(conn, error);
        }
        self.depart(epoch, leave);
    }

    fn send_error_and_close(&mut self, conn: ConnId, reason: ErrorReason) {
        self.transmits.push_back(ServerTransmit::Send {
            conn,
            data: Bytes::from(ServerLine::Error(reason).to_vec()),
        });
        self.transmits.push_back(ServerTransmit::Close { conn });
    }

    /// Removes the session and broadcasts exactly one `logout` for it. A stale epoch is a no-op.
    pub(super) fn depart(&mut self, epoch: Epoch, reason: LeaveReason) {
        let Some(session) = self.sessions.remove(&epoch) else {
            return;
        };
        let name = session.entry.name.clone();
        if self.by_name.get(&name) == Some(&epoch) {
            self.by_name.remove(&name);
        }
        self.broadcast_presence(Presence::Leave, &session.entry, false);
        self.events.push_back(ServerEvent::Left {
            name,
            endpoint: session.entry.endpoint,
            reason,
        });
    }
}
