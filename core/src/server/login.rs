//! The UDP side: login requests answered with `Accept`/`Reject`, and UDP logouts, in both
//! dialects (native UTF-8 and classic UTF-16LE).

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use crate::wire::{
    encode_utf16le, is_classic_datagram, ClassicDatagram, ClientDatagram, Name, RejectReason,
    ServerDatagram, WireError,
};

use super::state::{Epoch, Pending, Timer};
use super::{LeaveReason, Server, ServerEvent, ServerTransmit};

/// Where a login's answers go and what it will be listed as.
#[derive(Debug, Clone, Copy)]
struct Origin {
    /// The endpoint listed for the user, and where `Accept`/`Reject` go.
    listed: SocketAddr,
    /// The endpoint the login declared.
    declared: SocketAddr,
    classic: bool,
}

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

    fn login(&mut self, now: Instant, origin: Origin, name: Name) {
        let returning = match self.by_name.get(&name).and_then(|e| self.sessions.get(e)) {
            Some(session) if session.entry.endpoint != origin.listed => {
                return self.reject(origin, RejectReason::NameTaken)
            }
            Some(_) => true,
            None => false,
        };
        if let Some(pending) = self.pending.get_mut(&name) {
            let same = pending.listed == origin.listed
                && pending.declared == origin.declared
                && pending.classic == origin.classic;
            if same {
                pending.expires = now + self.config.pending_timeout;
                self.accept(origin);
                self.events.push_back(ServerEvent::Accepted {
                    name,
                    from: origin.listed,
                });
            } else {
                self.reject(origin, RejectReason::NameTaken);
            }
            return;
        }
        // The same client coming back replaces its own session, so it takes no new place.
        if !returning && self.sessions.len() + self.pending.len() >= self.config.max_sessions {
            return self.reject(origin, RejectReason::ServerFull);
        }
        let from_ip = self.pending_by_ip.entry(origin.listed.ip()).or_default();
        if from_ip.len() >= self.config.max_pending_per_ip {
            return self.reject(origin, RejectReason::RateLimited);
        }
        from_ip.insert(name.clone());
        let epoch = self.new_epoch();
        self.pending.insert(
            name.clone(),
            Pending {
                epoch,
                listed: origin.listed,
                declared: origin.declared,
                classic: origin.classic,
                expires: now + self.config.pending_timeout,
            },
        );
        self.timers.push(
            now + self.config.pending_timeout,
            Timer::PendingExpiry {
                name: name.clone(),
                epoch,
            },
        );
        self.accept(origin);
        self.events.push_back(ServerEvent::Accepted {
            name,
            from: origin.listed,
        });
    }

    /// A UDP logout counts only from the endpoint the user is listed at (for a classic user,
    /// which cannot be checked by port, from its IP naming that endpoint): the name alone proves
    /// nothing.
    fn udp_logout(&mut self, listed: SocketAddr, name: &Name, classic: bool) {
        if self
            .pending
            .get(name)
            .is_some_and(|p| p.listed == listed && p.classic == classic)
        {
            self.take_pending(name);
        }
        let epoch = self.by_name.get(name).copied();
        match epoch.and_then(|e| self.sessions.get(&e).map(|s| (e, s))) {
            Some((epoch, session))
                if session.entry.endpoint == listed && session.conn.is_none() == classic =>
            {
                if let Some(conn) = session.conn {
                    self.conns.remove(&conn);
                    self.transmits.push_back(ServerTransmit::Close { conn });
                }
                self.depart(epoch, LeaveReason::Logout);
            }
            _ => self.stats.spoofed_logouts += 1,
        }
    }

    pub(super) fn expire_pending(&mut self, now: Instant, name: &Name, epoch: Epoch) {
        let Some(pending) = self.pending.get(name).filter(|p| p.epoch == epoch) else {
            return;
        };
        if pending.expires <= now {
            self.take_pending(name);
        } else {
            let at = pending.expires;
            let name = name.clone();
            self.timers.push(at, Timer::PendingExpiry { name, epoch });
        }
    }

    /// Removes a pending login and its per-IP accounting.
    pub(super) fn take_pending(&mut self, name: &Name) -> Option<Pending> {
        let pending = self.pending.remove(name)?;
        let ip = pending.listed.ip();
        if let Some(names) = self.pending_by_ip.get_mut(&ip) {
            names.remove(name);
            if names.is_empty() {
                self.pending_by_ip.remove(&ip);
            }
        }
        Some(pending)
    }

    fn accept(&mut self, origin: Origin) {
        let data = if origin.classic {
            self.accept_classic.clone()
        } else {
            self.accept.clone()
        };
        self.transmits.push_back(ServerTransmit::Datagram {
            to: origin.listed,
            data,
        });
    }

    fn reject(&mut self, origin: Origin, reason: RejectReason) {
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
            if session.conn.is_none() && session.entry.endpoint == listed {
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
            self.timers.push(deadline, Timer::ClassicLease { epoch });
        }
    }
}

fn reject_reason(e: WireError) -> RejectReason {
    match e {
        WireError::BadName(_) => RejectReason::BadName,
        _ => RejectReason::BadRequest,
    }
}
