//! The UDP side: login requests answered with `Accept`/`Reject`, and UDP logouts, in both
//! dialects (native UTF-8 and classic UTF-16LE).

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use crate::wire::{
    encode_utf16le, is_classic_datagram, ClassicDatagram, ClientDatagram, ErrorReason, Name,
    RejectReason, ServerDatagram, WireError,
};

use super::sources::Limit;
use super::state::{Epoch, Origin, Pending, Timer};
use super::{LeaveReason, Server, ServerEvent, ServerTransmit};

impl Server {
    pub(super) fn on_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if is_classic_datagram(data) {
            return self.on_classic_datagram(now, from, data);
        }
        match ClientDatagram::parse(data) {
            Ok(ClientDatagram::Login(entry)) => {
                let origin = Origin {
                    listed: from,
                    declared: entry.endpoint,
                    classic: false,
                };
                self.login(now, origin, entry.name)
            }
            Ok(ClientDatagram::Logout(entry)) => self.udp_logout(from, &entry.name, false),
            Err(e) => {
                self.stats.malformed_datagrams += 1;
                // Only a login attempt is answered: anything else could be a reflection attempt.
                if data.starts_with(b"login,") {
                    let origin = Origin {
                        listed: from,
                        declared: from,
                        classic: false,
                    };
                    self.reject(origin, reject_reason(e));
                }
            }
        }
    }

    /// A textbook client sends from a fresh port each time, so only its source IP can be checked:
    /// it must equal the IP of the endpoint it declares, or the datagram is dropped (answering a
    /// declared endpoint elsewhere would reflect traffic at a third party).
    fn on_classic_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        match ClassicDatagram::parse(data) {
            Ok(ClassicDatagram::Login(entry)) if entry.endpoint.ip() == from.ip() => {
                self.refresh_classic(now, &entry.name, entry.endpoint);
                let origin = Origin {
                    listed: entry.endpoint,
                    declared: entry.endpoint,
                    classic: true,
                };
                self.login(now, origin, entry.name)
            }
            Ok(ClassicDatagram::Logout(entry)) if entry.endpoint.ip() == from.ip() => {
                self.udp_logout(entry.endpoint, &entry.name, true)
            }
            Ok(ClassicDatagram::Login(_) | ClassicDatagram::Logout(_)) => {
                self.stats.spoofed_logouts += 1
            }
            Ok(_) | Err(_) => self.stats.malformed_datagrams += 1,
        }
    }

    /// Decides a login (section 9.2 of the protocol): `Accept` again for a repeated one,
    /// `Reject` for a name held by someone else or a source over its limits, or a new pending
    /// login.
    fn login(&mut self, now: Instant, origin: Origin, name: Name) {
        let returning = match self.by_name.get(&name).and_then(|e| self.sessions.get(e)) {
            Some(session) if !session.may_be_replaced_by(&origin) => {
                return self.reject(origin, RejectReason::NameTaken)
            }
            Some(_) => true,
            None => false,
        };
        if let Some(reason) = self.cluster_refuses(&name) {
            return self.reject(origin, reason);
        }
        // Past its expiry a pending login is gone, whether or not its timer has fired yet.
        if self.pending.get(&name).is_some_and(|p| p.expires <= now) {
            self.drop_pending(&name);
        }
        if let Some(pending) = self.pending.get_mut(&name) {
            if pending.origin == origin {
                let window = now + self.config.pending_timeout;
                pending.expires = window.min(pending.born + self.config.pending_max_life);
                if !pending.granted {
                    // Accepted once the cluster's store grants the name.
                    return;
                }
                self.accept(name, origin);
                return;
            }
            // As for a session: the owner of the socket a classic login declared takes over.
            let supersedes =
                pending.origin.classic && !origin.classic && pending.origin.listed == origin.listed;
            if !supersedes {
                return self.reject(origin, RejectReason::NameTaken);
            }
            self.drop_pending(&name);
        }
        // The same client coming back replaces its own session, so it takes no new place.
        if !returning {
            if let Some(reason) = self.over_capacity(origin) {
                return self.reject(origin, reason);
            }
        }
        let pending_limit = Limit {
            per_ip: self.config.max_pending_per_ip,
            per_prefix: self.config.max_pending_per_prefix,
        };
        if !self
            .pending_sources
            .admits(origin.listed.ip(), pending_limit)
        {
            return self.reject(origin, RejectReason::RateLimited);
        }
        let epoch = self.add_pending(now, origin, name.clone());
        if self.claim_in_store(&name, epoch) {
            // Accepted once the cluster's store grants the name.
            return;
        }
        self.accept(name, origin);
    }

    /// Why a login that would take a new place is refused, if it is: the server is full, or the
    /// classic users are as many as they may be, or its source holds as many logins as it may.
    fn over_capacity(&self, origin: Origin) -> Option<RejectReason> {
        let config = &self.config;
        let ip = origin.listed.ip();
        let held = self.sessions.len() + self.pending.len();
        let classic_full = self.classic_sources.total() >= config.max_classic_sessions;
        if held >= config.max_sessions || (origin.classic && classic_full) {
            return Some(RejectReason::ServerFull);
        }
        let logins = Limit {
            per_ip: config.max_sessions_per_ip,
            per_prefix: config.max_sessions_per_prefix,
        };
        let classic = Limit {
            per_ip: config.max_classic_per_ip,
            per_prefix: config.max_classic_per_prefix,
        };
        let admitted = self.login_sources.admits(ip, logins)
            && (!origin.classic || self.classic_sources.admits(ip, classic));
        (!admitted).then_some(RejectReason::RateLimited)
    }

    /// Records a new pending login and arms its expiry; its epoch.
    fn add_pending(&mut self, now: Instant, origin: Origin, name: Name) -> Epoch {
        let epoch = self.new_epoch();
        let ip = origin.listed.ip();
        self.pending_sources.add(ip);
        self.login_sources.add(ip);
        if origin.classic {
            self.classic_sources.add(ip);
            self.classic_pending
                .entry(ip)
                .or_default()
                .insert(epoch, name.clone());
        }
        let window = self
            .config
            .pending_timeout
            .min(self.config.pending_max_life);
        self.timers.set(
            now + window,
            Timer::PendingExpiry {
                name: name.clone(),
                epoch,
            },
        );
        self.pending.insert(
            name,
            Pending {
                epoch,
                origin,
                born: now,
                expires: now + window,
                granted: self.cluster.is_none(),
                held: None,
            },
        );
        epoch
    }

    /// A UDP logout counts only from the endpoint the user is listed at (for a classic user,
    /// which cannot be checked by port, from its IP naming that endpoint): the name alone proves
    /// nothing.
    fn udp_logout(&mut self, listed: SocketAddr, name: &Name, classic: bool) {
        let withdrawn = self
            .pending
            .get(name)
            .is_some_and(|p| p.origin.listed == listed && p.origin.classic == classic);
        if withdrawn {
            self.drop_pending(name);
        }
        let epoch = self.by_name.get(name).copied();
        match epoch.and_then(|e| self.sessions.get(&e).map(|s| (e, s))) {
            Some((epoch, session))
                if session.entry.endpoint == listed && session.is_classic() == classic =>
            {
                if let Some(conn) = session.conn {
                    self.remove_conn(conn);
                    self.transmits.push_back(ServerTransmit::Close { conn });
                }
                self.depart(epoch, LeaveReason::Logout);
            }
            // A withdrawal is the user's own logout too, not a spoof.
            _ if withdrawn => {}
            _ => self.stats.spoofed_logouts += 1,
        }
    }

    pub(super) fn expire_pending(&mut self, now: Instant, name: &Name, epoch: Epoch) {
        let Some(pending) = self.pending.get(name).filter(|p| p.epoch == epoch) else {
            return;
        };
        if pending.expires <= now {
            self.drop_pending(name);
        } else {
            let at = pending.expires;
            let name = name.clone();
            self.timers.set(at, Timer::PendingExpiry { name, epoch });
        }
    }

    /// Removes a pending login about to become a session: its expiry timer and its place among
    /// the pending logins of its source go, its place among the source's logins stays.
    pub(super) fn take_pending(&mut self, name: &Name) -> Option<Pending> {
        let pending = self.pending.remove(name)?;
        let ip = pending.origin.listed.ip();
        self.pending_sources.remove(ip);
        if pending.origin.classic {
            if let Some(by_epoch) = self.classic_pending.get_mut(&ip) {
                by_epoch.remove(&pending.epoch);
                if by_epoch.is_empty() {
                    self.classic_pending.remove(&ip);
                }
            }
        }
        self.timers.cancel(&Timer::PendingExpiry {
            name: name.clone(),
            epoch: pending.epoch,
        });
        Some(pending)
    }

    /// Forgets a pending login that will not become a session (expired, withdrawn, superseded,
    /// refused by the cluster's store), refusing a claim held for it; returns where it came from.
    pub(super) fn drop_pending(&mut self, name: &Name) -> Option<Origin> {
        let pending = self.take_pending(name)?;
        self.forget_login(pending.origin.listed.ip(), pending.origin.classic);
        if pending.granted {
            self.unclaim(name);
        }
        if let Some((conn, _)) = pending.held {
            self.refuse(conn, ErrorReason::NoPendingLogin);
        }
        Some(pending.origin)
    }

    /// Answers `Accept` to the login of `name` from `origin`.
    pub(super) fn accept(&mut self, name: Name, origin: Origin) {
        let data = if origin.classic {
            self.accept_classic.clone()
        } else {
            self.accept.clone()
        };
        self.transmits.push_back(ServerTransmit::Datagram {
            to: origin.listed,
            data,
        });
        self.events.push_back(ServerEvent::Accepted {
            name,
            from: origin.listed,
        });
    }

    pub(super) fn reject(&mut self, origin: Origin, reason: RejectReason) {
        self.stats.rejected_logins += 1;
        let mut data = Vec::new();
        if origin.classic {
            encode_utf16le(&format!("Reject,{reason}"), &mut data);
        } else {
            ServerDatagram::Reject(reason).encode(&mut data);
        }
        self.transmits.push_back(ServerTransmit::Datagram {
            to: origin.listed,
            data: Bytes::from(data),
        });
        self.events.push_back(ServerEvent::Rejected {
            from: origin.listed,
            reason,
        });
    }

    /// A classic user's datagram to the server renews its lease.
    fn refresh_classic(&mut self, now: Instant, name: &Name, listed: SocketAddr) {
        if let Some(session) = self
            .by_name
            .get(name)
            .and_then(|e| self.sessions.get_mut(e))
        {
            if session.is_classic() && session.entry.endpoint == listed {
                session.last_seen = now;
            }
        }
    }

    /// A classic session past its lease (when the operator set one) is dropped.
    pub(super) fn check_lease(&mut self, now: Instant, epoch: Epoch) {
        let Some(lease) = self.config.classic_lease else {
            return;
        };
        let Some(session) = self.sessions.get(&epoch) else {
            return;
        };
        let deadline = session.last_seen + lease;
        if deadline <= now {
            self.depart(epoch, LeaveReason::LeaseExpired);
        } else {
            self.timers.set(deadline, Timer::ClassicLease { epoch });
        }
    }
}

fn reject_reason(e: WireError) -> RejectReason {
    match e {
        WireError::BadName(_) => RejectReason::BadName,
        _ => RejectReason::BadRequest,
    }
}
