//! The TCP side: claiming a pending login, the session's lines, and every way of leaving.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bytes::Bytes;

use crate::wire::{
    ClientLine, ErrorReason, Name, PublicKey, ServerLine, UserEntry, WireError, MAX_RELAY_LINE,
};

use super::sources::Limit;
use super::state::{Conn, Epoch, Role, Session, Timer};
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
            (Role::Unclaimed { .. }, Ok(ClientLine::Login { entry, key })) => {
                self.claim(now, conn, &entry, key)
            }
            (Role::Unclaimed { .. }, _) => self.refuse(conn, ErrorReason::BadLine),
            (Role::Session { epoch, .. }, Ok(ClientLine::Ping)) => {
                self.touch(now, epoch);
                self.transmits.push_back(ServerTransmit::Send {
                    conn,
                    data: Bytes::from_static(PONG),
                });
            }
            (Role::Session { epoch, .. }, Ok(ClientLine::Intro(target))) => {
                self.touch(now, epoch);
                self.introduce(now, epoch, &target);
            }
            (Role::Session { epoch, .. }, Ok(ClientLine::Relay { to, payload })) => {
                self.touch(now, epoch);
                self.relay(now, epoch, &to, &payload);
            }
            (Role::Session { name, epoch }, Ok(ClientLine::Logout(entry)))
                if entry.name == name =>
            {
                self.remove_conn(conn);
                self.transmits.push_back(ServerTransmit::Close { conn });
                self.depart(epoch, LeaveReason::Logout);
            }
            (Role::Session { .. }, _) => self.refuse(conn, ErrorReason::BadLine),
        }
    }

    /// Binds the connection to the pending login of `name`, if it came from the same IP and its
    /// name is ours. In a cluster, a claim that comes before the store granted the name (or
    /// granted it again, after the store was away) waits for the store's answer, however soon
    /// the client connected; one claim waits per login.
    fn claim(&mut self, now: Instant, conn: ConnId, claim: &UserEntry, key: Option<PublicKey>) {
        let name = &claim.name;
        let Some(peer) = self.conns.get(&conn).map(|c| c.peer) else {
            return;
        };
        // A classic login is bound by silence only: its client never sends a claim.
        let Some(pending) = self
            .pending
            .get_mut(name)
            .filter(|p| !p.origin.classic && p.origin.declared == claim.endpoint)
        else {
            return self.refuse(conn, ErrorReason::NoPendingLogin);
        };
        if pending.origin.listed.ip() != peer.ip() {
            return self.refuse(conn, ErrorReason::IpMismatch);
        }
        if !pending.granted {
            if pending.held.is_some() {
                return self.refuse(conn, ErrorReason::NoPendingLogin);
            }
            pending.held = Some((conn, key));
            return;
        }
        self.bind(now, conn, name, key);
    }

    /// Turns the pending login of `name` into a session carried by `conn`, which is no longer an
    /// unclaimed connection.
    pub(super) fn bind(&mut self, now: Instant, conn: ConnId, name: &Name, key: Option<PublicKey>) {
        let Some(peer) = self.conns.get(&conn).map(|c| c.peer) else {
            return;
        };
        let Some(pending) = self.take_pending(name) else {
            return;
        };
        self.release_unclaimed(conn, peer);
        let entry = UserEntry::new(name.clone(), pending.origin.listed);
        if pending.origin.classic {
            self.establish_classic(now, conn, entry);
        } else {
            self.establish(now, conn, entry, key);
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
    /// when no native login from that IP is pending. Only a classic login is ever bound here, and
    /// a classic login was admitted only if its session could replace nothing but a classic
    /// session at the same endpoint, so no native session is ever dropped by silence.
    fn claim_classic_by_silence(&mut self, now: Instant, conn: ConnId, only_classic: bool) {
        let Some(ip) = self.conns.get(&conn).map(|c| c.peer.ip()) else {
            return;
        };
        let Some(classic) = self.classic_pending.get(&ip) else {
            return;
        };
        if only_classic && classic.len() < self.pending_sources.at_ip(ip) {
            return;
        }
        let granted = classic
            .values()
            .find(|name| self.pending.get(*name).is_some_and(|p| p.granted))
            .cloned();
        if let Some(name) = granted {
            // A textbook client announces no key.
            self.bind(now, conn, &name, None);
        }
    }

    /// Whether a new connection from `ip` fits: the server holds fewer than `max_connections`,
    /// and `ip` and its prefix hold fewer unclaimed ones than they may (at most a quarter of
    /// `max_connections` each, when it is set).
    pub(super) fn admits_connection_from(&self, ip: IpAddr) -> bool {
        let config = &self.config;
        let mut limit = Limit {
            per_ip: config.max_unclaimed_per_ip,
            per_prefix: config.max_unclaimed_per_prefix,
        };
        if let Some(max) = config.max_connections {
            if self.conns.len() >= max {
                return false;
            }
            let share = (max / 4).max(1);
            limit.per_ip = limit.per_ip.min(share);
            limit.per_prefix = limit.per_prefix.min(share);
        }
        self.unclaimed_sources.admits(ip, limit)
    }

    /// Refuses a connection the server will not hold: it is told why and closed, and never
    /// known.
    pub(super) fn refuse_at_once(&mut self, conn: ConnId) {
        let reason = ErrorReason::TooManyConnections;
        self.send_error_and_close(conn, reason);
        self.stats.refused_connections += 1;
        self.events
            .push_back(ServerEvent::ConnectionRefused { conn, reason });
    }

    /// Forgets a connection; one still unclaimed gives back its place and its timers.
    pub(super) fn remove_conn(&mut self, conn: ConnId) -> Option<Conn> {
        let c = self.conns.remove(&conn)?;
        if matches!(c.role, Role::Unclaimed { .. }) {
            self.release_unclaimed(conn, c.peer);
        }
        Some(c)
    }

    /// An unclaimed connection is claimed or gone: its source holds one fewer, and its claim
    /// timers mean nothing any more.
    fn release_unclaimed(&mut self, conn: ConnId, peer: SocketAddr) {
        self.unclaimed_sources.remove(peer.ip());
        self.timers.cancel(&Timer::SilentClaim { conn });
        self.timers.cancel(&Timer::ClaimDeadline { conn });
    }

    pub(super) fn is_unclaimed(&self, conn: ConnId) -> bool {
        self.conns
            .get(&conn)
            .is_some_and(|c| matches!(c.role, Role::Unclaimed { .. }))
    }

    /// Registers the session: the snapshot to the newcomer, then the join to everyone else.
    fn establish(&mut self, now: Instant, conn: ConnId, entry: UserEntry, key: Option<PublicKey>) {
        if let Some(&old) = self.by_name.get(&entry.name) {
            // Admitted as the same user coming back (`Session::may_be_replaced_by`), and a name
            // has one pending login at a time: the session is listed at this very endpoint.
            debug_assert!(self
                .sessions
                .get(&old)
                .is_some_and(|s| s.entry.endpoint == entry.endpoint));
            self.drop_session(old, LeaveReason::Replaced, ErrorReason::Replaced);
        }
        let epoch = self.new_epoch();
        self.broadcast_presence(Presence::Join, &entry, false, key);
        self.by_name.insert(entry.name.clone(), epoch);
        let session = Session::new(entry.clone(), Some(conn), key, now, &self.config);
        self.sessions.insert(epoch, session);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.role = Role::Session {
                name: entry.name.clone(),
                epoch,
            };
            c.decoder.set_max_line(MAX_RELAY_LINE);
        }
        self.publish_join(epoch);
        let snapshot = self.snapshot();
        self.transmits.push_back(ServerTransmit::Snapshot {
            conn,
            data: snapshot,
        });
        self.timers
            .set(now + self.config.idle_timeout, Timer::Idle { epoch });
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
            self.timers.set(deadline, Timer::Idle { epoch });
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
                self.remove_conn(conn);
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
            self.remove_conn(conn);
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
        let Some(session) = self.sessions.remove(epoch) else {
            return;
        };
        self.forget_login(session.entry.endpoint.ip(), session.is_classic());
        self.timers.cancel(&Timer::Idle { epoch });
        self.timers.cancel(&Timer::ClassicLease { epoch });
        let name = session.entry.name.clone();
        if self.by_name.get(&name) == Some(&epoch) {
            self.by_name.remove(&name);
            self.publish_leave(&name);
        }
        self.broadcast_presence(Presence::Leave, &session.entry, false, None);
        self.events.push_back(ServerEvent::Left {
            name,
            endpoint: session.entry.endpoint,
            reason,
        });
    }

    /// A login (pending or online) from `ip` is over: its source holds one fewer.
    pub(super) fn forget_login(&mut self, ip: IpAddr, classic: bool) {
        self.login_sources.remove(ip);
        if classic {
            self.classic_sources.remove(ip);
        }
    }
}
