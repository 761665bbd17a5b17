//! The UDP side: login requests answered with `Accept`/`Reject`, and UDP logouts.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use crate::wire::{ClientDatagram, Name, RejectReason, ServerDatagram, UserEntry, WireError};

use super::state::{Epoch, Pending, Timer};
use super::{LeaveReason, Server, ServerEvent, ServerTransmit};

impl Server {
    pub(super) fn on_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        match ClientDatagram::parse(data) {
            Ok(ClientDatagram::Login(entry)) => self.login(now, from, entry),
            Ok(ClientDatagram::Logout(entry)) => self.udp_logout(from, &entry),
            Err(e) => {
                self.stats.malformed_datagrams += 1;
                // Only a login attempt is answered: anything else could be a reflection attempt.
                if data.starts_with(b"login,") {
                    let reason = match e {
                        WireError::BadName(_) => RejectReason::BadName,
                        _ => RejectReason::BadRequest,
                    };
                    self.reject(from, reason);
                }
            }
        }
    }

    fn login(&mut self, now: Instant, from: SocketAddr, entry: UserEntry) {
        let name = entry.name;
        let returning = match self.by_name.get(&name).and_then(|e| self.sessions.get(e)) {
            Some(session) if session.entry.endpoint != from => {
                return self.reject(from, RejectReason::NameTaken)
            }
            Some(_) => true,
            None => false,
        };
        if let Some(pending) = self.pending.get(&name) {
            if pending.source == from {
                self.accept(from);
            } else {
                self.reject(from, RejectReason::NameTaken);
            }
            return;
        }
        // The same client coming back replaces its own session, so it takes no new place.
        if !returning && self.sessions.len() + self.pending.len() >= self.config.max_sessions {
            return self.reject(from, RejectReason::ServerFull);
        }
        let from_ip = self.pending_by_ip.entry(from.ip()).or_default();
        if from_ip.len() >= self.config.max_pending_per_ip {
            return self.reject(from, RejectReason::RateLimited);
        }
        from_ip.insert(name.clone());
        let epoch = self.new_epoch();
        self.pending.insert(
            name.clone(),
            Pending {
                epoch,
                source: from,
            },
        );
        self.timers.push(
            now + self.config.pending_timeout,
            Timer::PendingExpiry {
                name: name.clone(),
                epoch,
            },
        );
        self.accept(from);
        self.events.push_back(ServerEvent::Accepted { name, from });
    }

    /// A UDP logout counts only from the endpoint the user logged in from: the name alone proves
    /// nothing.
    fn udp_logout(&mut self, from: SocketAddr, entry: &UserEntry) {
        if self
            .pending
            .get(&entry.name)
            .is_some_and(|p| p.source == from)
        {
            self.take_pending(&entry.name);
        }
        let epoch = self.by_name.get(&entry.name).copied();
        match epoch.and_then(|e| self.sessions.get(&e).map(|s| (e, s))) {
            Some((epoch, session)) if session.entry.endpoint == from => {
                let conn = session.conn;
                self.conns.remove(&conn);
                self.transmits.push_back(ServerTransmit::Close { conn });
                self.depart(epoch, LeaveReason::Logout);
            }
            _ => self.stats.spoofed_logouts += 1,
        }
    }

    pub(super) fn expire_pending(&mut self, name: &Name, epoch: Epoch) {
        if self.pending.get(name).is_some_and(|p| p.epoch == epoch) {
            self.take_pending(name);
        }
    }

    /// Removes a pending login and its per-IP accounting.
    pub(super) fn take_pending(&mut self, name: &Name) -> Option<Pending> {
        let pending = self.pending.remove(name)?;
        let ip = pending.source.ip();
        if let Some(names) = self.pending_by_ip.get_mut(&ip) {
            names.remove(name);
            if names.is_empty() {
                self.pending_by_ip.remove(&ip);
            }
        }
        Some(pending)
    }

    fn accept(&mut self, to: SocketAddr) {
        self.transmits.push_back(ServerTransmit::Datagram {
            to,
            data: self.accept.clone(),
        });
    }

    fn reject(&mut self, to: SocketAddr, reason: RejectReason) {
        self.stats.rejected_logins += 1;
        self.transmits.push_back(ServerTransmit::Datagram {
            to,
            data: Bytes::from(ServerDatagram::Reject(reason).to_vec()),
        });
        self.events
            .push_back(ServerEvent::Rejected { from: to, reason });
    }
}
