//! The coordinator: logins, the online registry, presence broadcasts. Sans-IO.
//!
//! The server answers UDP logins, binds each to the TCP connection that claims it, keeps the
//! registry of who is online, and tells every session when someone joins or leaves. It never
//! reads a chat message: it introduces peers to each other, and relays their sealed datagrams
//! when no direct path works.

mod budget;
mod classic;
pub mod cluster;
mod config;
mod connection;
mod listing;
mod login;
mod online;
mod output;
mod relay;
mod roster;
mod sources;
mod state;
mod store;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bytes::Bytes;

pub use config::ServerConfig;
pub use output::{CloseCause, ConnId, LeaveReason, ServerEvent, ServerTransmit};
pub use roster::Roster;

use crate::timer::DeadlineQueue;
use crate::wire::{
    canonical, encode_utf16le, ClassicDatagram, Dialect, Name, PublicKey, ServerDatagram,
    ServerLine, UserEntry,
};
use online::Online;
use sources::Sources;
use state::{Conn, Epoch, Pending, Role, Timer};

/// Counters of what the server holds, refused or dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Users online here.
    pub online: usize,
    /// Users online on the other coordinators of the cluster, as listed here.
    pub remote: usize,
    /// Logins accepted and waiting for their TCP claim.
    pub pending: usize,
    /// TCP connections not (yet) bound to a session.
    pub unclaimed_connections: usize,
    /// Timer entries held (superseded ones included): at most a few per session, pending login
    /// and connection, however many came and went.
    pub timers: usize,
    /// Datagrams that did not parse.
    pub malformed_datagrams: u64,
    /// UDP logouts not from the user's own endpoint (ignored).
    pub spoofed_logouts: u64,
    /// Logins refused.
    pub rejected_logins: u64,
    /// Connections refused with `error,<reason>`, before a claim or at once when opened.
    pub refused_connections: u64,
    /// Introductions made (each tells two sessions).
    pub introductions: u64,
    /// `intro` lines dropped: past the session's budget, or naming no other native session.
    pub introductions_refused: u64,
    /// Datagrams relayed.
    pub relayed: u64,
    /// Bytes of the `relay` lines sent for them.
    pub relayed_bytes: u64,
    /// `relay` lines dropped: relaying off, past the sender's budget, or naming no other native
    /// session.
    pub relay_refused: u64,
}

/// The server state machine. See the crate docs for the driving loop.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    /// `Accept,<port>` encoded once: every login gets the same bytes.
    accept: Bytes,
    /// The same in UTF-16LE, for classic logins.
    accept_classic: Bytes,
    /// Online sessions in registration order (the epoch grows with every registration).
    sessions: Online,
    by_name: HashMap<Name, Epoch>,
    pending: HashMap<Name, Pending>,
    /// The classic logins pending from each IP by epoch, so the oldest is first: what a silent
    /// connection from that IP is bound to.
    classic_pending: HashMap<IpAddr, BTreeMap<Epoch, Name>>,
    /// Pending logins by source.
    pending_sources: Sources,
    /// Pending logins plus sessions online, by source.
    login_sources: Sources,
    /// Classic logins pending plus classic sessions online, by source.
    classic_sources: Sources,
    /// Connections not (yet) carrying a session, by source.
    unclaimed_sources: Sources,
    conns: HashMap<ConnId, Conn>,
    timers: DeadlineQueue<Timer>,
    next_epoch: Epoch,
    transmits: VecDeque<ServerTransmit>,
    events: VecDeque<ServerEvent>,
    stats: ServerStats,
    /// The other coordinators' members, with a cluster.
    cluster: Option<cluster::Cluster>,
}

static PONG: &[u8] = b"pong\n";

/// Which presence change a broadcast carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Join,
    Leave,
}

impl Server {
    /// A server with no one online.
    pub fn new(config: ServerConfig) -> Self {
        let accept = Bytes::from(
            ServerDatagram::Accept {
                tcp_port: config.tcp_port,
            }
            .to_vec(),
        );
        let mut accept_classic = Vec::new();
        encode_utf16le(&format!("Accept,{}", config.tcp_port), &mut accept_classic);
        let (v4, v6) = (config.prefix_v4, config.prefix_v6);
        let sources = || Sources::new(v4, v6);
        let cluster = config.cluster.map(cluster::Cluster::new);
        Server {
            config,
            accept,
            accept_classic: Bytes::from(accept_classic),
            sessions: Online::default(),
            by_name: HashMap::new(),
            pending: HashMap::new(),
            classic_pending: HashMap::new(),
            pending_sources: sources(),
            login_sources: sources(),
            classic_sources: sources(),
            unclaimed_sources: sources(),
            conns: HashMap::new(),
            timers: DeadlineQueue::default(),
            next_epoch: 1,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: ServerStats::default(),
            cluster,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// A datagram arrived on the server's UDP socket.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        self.on_datagram(now, canonical(from), data);
    }

    /// The transport accepted a TCP connection from `peer`. `conn` must be new.
    ///
    /// Past `max_connections`, or past its source's share of unclaimed connections, it is refused
    /// at once: `error,too-many-connections`, then closed.
    pub fn handle_connection_opened(&mut self, now: Instant, conn: ConnId, peer: SocketAddr) {
        if self.conns.contains_key(&conn) {
            return;
        }
        let peer = canonical(peer);
        if !self.admits_connection_from(peer.ip()) {
            return self.refuse_at_once(conn);
        }
        self.conns.insert(conn, Conn::new(peer));
        self.unclaimed_sources.add(peer.ip());
        self.timers.set(
            now + self.config.silent_claim_after,
            Timer::SilentClaim { conn },
        );
        self.timers.set(
            now + self.config.claim_timeout,
            Timer::ClaimDeadline { conn },
        );
        self.claim_classic_at_once(now, conn);
    }

    /// Whether a connection from `peer` would be held now, or refused at once (too many
    /// connections from its source, or in all). A transport may ask before it spends anything
    /// on the connection; [`handle_connection_opened`](Self::handle_connection_opened) decides
    /// the same way.
    pub fn admits_connection(&self, peer: SocketAddr) -> bool {
        self.admits_connection_from(canonical(peer).ip())
    }

    /// Bytes arrived on a connection, split anywhere.
    pub fn handle_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        self.on_bytes(now, conn, data);
    }

    /// A connection is gone (unknown or already-closed connections are ignored).
    pub fn handle_connection_closed(&mut self, now: Instant, conn: ConnId, cause: CloseCause) {
        let _ = now;
        let Some(c) = self.remove_conn(conn) else {
            return;
        };
        if let Role::Session { epoch, .. } = c.role {
            let reason = match cause {
                CloseCause::Closed => LeaveReason::Closed,
                CloseCause::SlowConsumer => LeaveReason::SlowConsumer,
            };
            self.depart(epoch, reason);
        }
    }

    /// Time has reached (or passed) [`poll_timeout`](Self::poll_timeout). Early calls are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::PendingExpiry { name, epoch } => self.expire_pending(now, &name, epoch),
                Timer::SilentClaim { conn } => self.claim_silent(now, conn),
                Timer::ClaimDeadline { conn } => {
                    if self.is_unclaimed(conn) {
                        self.refuse(conn, crate::wire::ErrorReason::ClaimTimeout);
                    }
                }
                Timer::Idle { epoch } => self.check_idle(now, epoch),
                Timer::ClassicLease { epoch } => self.check_lease(now, epoch),
                Timer::Heartbeat => self.on_heartbeat(now),
                Timer::CheckNodes => self.on_check_nodes(now),
                Timer::ConfirmRemote => self.on_confirm_remote(now),
            }
        }
    }

    /// Logs everyone out (`error,shutdown` to each session) and closes every connection, before
    /// the transport exits.
    pub fn shutdown(&mut self, now: Instant) {
        let _ = now;
        let line = Bytes::from(ServerLine::Error(crate::wire::ErrorReason::Shutdown).to_vec());
        for (conn, c) in std::mem::take(&mut self.conns) {
            if matches!(c.role, Role::Session { .. }) {
                self.transmits.push_back(ServerTransmit::Send {
                    conn,
                    data: line.clone(),
                });
            }
            self.transmits.push_back(ServerTransmit::Close { conn });
        }
        for session in self.sessions.take_all() {
            // The other coordinators need not wait for our lease to run out.
            self.publish_leave(&session.entry.name);
            self.events.push_back(ServerEvent::Left {
                name: session.entry.name,
                endpoint: session.entry.endpoint,
                reason: LeaveReason::Shutdown,
            });
        }
        self.by_name.clear();
        self.pending.clear();
        self.classic_pending.clear();
        for sources in [
            &mut self.pending_sources,
            &mut self.login_sources,
            &mut self.classic_sources,
            &mut self.unclaimed_sources,
        ] {
            sources.clear();
        }
        self.timers = DeadlineQueue::default();
    }

    /// The next I/O to do.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ServerTransmit> {
        self.transmits.pop_front()
    }

    /// The next event for the operator.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Everyone online on this server, in registration order (see [`listed`](Self::listed) for
    /// the whole cluster).
    pub fn online(&self) -> impl Iterator<Item = &UserEntry> + '_ {
        self.sessions.values().map(|s| &s.entry)
    }

    /// Whether a login is pending: accepted (or, in a cluster, waiting for the store's grant) and
    /// not yet claimed, refused or expired. A join may be on its way; a transport pacing its
    /// broadcasts tells from this when a burst of joins has ended (a login never claimed holds
    /// that off until it expires).
    #[must_use]
    pub fn has_pending_logins(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        ServerStats {
            online: self.sessions.len(),
            remote: self.cluster.as_ref().map_or(0, |c| c.remote.len()),
            pending: self.pending.len(),
            unclaimed_connections: self.unclaimed_sources.total(),
            timers: self.timers.len(),
            ..self.stats
        }
    }

    fn new_epoch(&mut self) -> Epoch {
        let epoch = self.next_epoch;
        self.next_epoch += 1;
        epoch
    }

    /// The native snapshot: our sessions, then the other coordinators' members.
    fn snapshot(&mut self) -> Bytes {
        let remote = self.cluster.as_mut().map(|c| c.remote.sections());
        let local = self.sessions.sections();
        Bytes::from(match remote {
            Some(remote) => listing::Sections::snapshot(&[local, remote]),
            None => listing::Sections::snapshot(&[local]),
        })
    }

    /// Everyone listed, here and (in a cluster) on the other coordinators, in snapshot order.
    pub fn listed(&self) -> impl Iterator<Item = &UserEntry> + '_ {
        let remote = self.cluster.iter().flat_map(|c| c.remote.members());
        self.sessions
            .values()
            .map(|s| &s.entry)
            .chain(remote.map(|m| &m.entry))
    }

    /// Tells every online session that `entry` joined (announcing its dialect and key to native
    /// sessions) or left: one broadcast for the native sessions, whatever their number, and the
    /// classic datagram, encoded once, to each classic user.
    fn broadcast_presence(
        &mut self,
        presence: Presence,
        entry: &UserEntry,
        entry_is_classic: bool,
        key: Option<PublicKey>,
    ) {
        let (line, datagram) = match presence {
            Presence::Join => (
                ServerLine::Login(entry.clone()),
                ClassicDatagram::Login(entry.clone()),
            ),
            Presence::Leave => (
                ServerLine::Logout(entry.clone()),
                ClassicDatagram::Logout(entry.clone()),
            ),
        };
        let mut native = line.to_vec();
        if presence == Presence::Join && entry_is_classic {
            ServerLine::Dialect {
                name: entry.name.clone(),
                dialect: Dialect::Classic,
            }
            .encode(&mut native);
        }
        if let (Presence::Join, Some(key)) = (presence, key) {
            ServerLine::Key {
                name: entry.name.clone(),
                key,
            }
            .encode(&mut native);
        }
        if self.sessions.native_count() > 0 {
            self.transmits.push_back(ServerTransmit::Broadcast {
                data: Bytes::from(native),
            });
        }
        let mut classic: Option<Bytes> = None;
        for to in self.sessions.classic_endpoints() {
            let data = classic.get_or_insert_with(|| Bytes::from(datagram.to_vec()));
            self.transmits.push_back(ServerTransmit::Datagram {
                to,
                data: data.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests;
