//! What the server state machine asks of its transport and tells its operator.

use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;

use crate::wire::{ErrorReason, Name, RejectReason};

/// A TCP connection, numbered by the transport. Numbers must not be reused while the server may
/// still know the connection (simplest: never reuse them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// I/O the server asks the transport to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerTransmit {
    /// Send one UDP datagram from the server's UDP socket.
    Datagram {
        /// Destination.
        to: SocketAddr,
        /// The datagram.
        data: Bytes,
    },
    /// Queue bytes on a TCP connection. The transport should write everything queued for a
    /// connection in one go (vectored) per loop turn.
    Send {
        /// The connection.
        conn: ConnId,
        /// Whole lines, each ending in `\n`.
        data: Bytes,
    },
    /// Queue a session's first output, everything it must be told whole before the session means
    /// anything: the snapshot (with its `dialect` lines), or a classic user's prefixed list. The
    /// transport takes it whatever the connection's output bound, which then applies to what
    /// follows: a large list is not a slow reader.
    Snapshot {
        /// The connection.
        conn: ConnId,
        /// The snapshot line(s), or the classic list.
        data: Bytes,
    },
    /// Queue the same lines on every session's connection: each connection given a
    /// [`Snapshot`](Self::Snapshot) and neither closed ([`Close`](Self::Close)) nor reported
    /// closed since, as [`Roster`](super::Roster) follows them. One transmit for all recipients,
    /// so a transport can append a turn's presence lines once to a log every writer reads,
    /// instead of queuing a copy per session; a slow consumer is still bounded per connection.
    Broadcast {
        /// Whole lines, each ending in `\n`.
        data: Bytes,
    },
    /// Flush what is queued on the connection, then close it. The server has already forgotten
    /// it: a later `handle_connection_closed` for it is ignored.
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// Ask the cluster's store (only with [`ServerConfig::cluster`](super::ServerConfig)).
    Store(super::cluster::StoreCommand),
}

/// Why the transport reports a connection gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCause {
    /// The peer closed it or it failed (EOF, reset, I/O error).
    Closed,
    /// The transport dropped it because its unsent output passed the transport's bound.
    SlowConsumer,
}

/// Why a user left the online list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// An orderly `logout` (TCP line or UDP datagram).
    Logout,
    /// The TCP session was closed or lost.
    Closed,
    /// No line within the idle timeout.
    IdleTimeout,
    /// Dropped by the transport as a slow consumer.
    SlowConsumer,
    /// The same user logged in again from the same endpoint and took over.
    Replaced,
    /// A classic session whose operator-set lease ran out.
    LeaseExpired,
    /// The server is shutting down.
    Shutdown,
}

impl LeaveReason {
    /// Every reason, for whoever keeps one counter each.
    pub const ALL: &'static [LeaveReason] = &[
        LeaveReason::Logout,
        LeaveReason::Closed,
        LeaveReason::IdleTimeout,
        LeaveReason::SlowConsumer,
        LeaveReason::Replaced,
        LeaveReason::LeaseExpired,
        LeaveReason::Shutdown,
    ];

    /// A short stable label for logs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaveReason::Logout => "logout",
            LeaveReason::Closed => "closed",
            LeaveReason::IdleTimeout => "idle-timeout",
            LeaveReason::SlowConsumer => "slow-consumer",
            LeaveReason::Replaced => "replaced",
            LeaveReason::LeaseExpired => "lease-expired",
            LeaveReason::Shutdown => "shutdown",
        }
    }
}

impl fmt::Display for LeaveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened, for the operator's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// A login was accepted by UDP (again, for a repeated login: its window starts anew) and
    /// waits for its TCP claim.
    Accepted {
        /// The user.
        name: Name,
        /// Where the login came from.
        from: SocketAddr,
    },
    /// A login was refused.
    Rejected {
        /// Where the login came from.
        from: SocketAddr,
        /// Why.
        reason: RejectReason,
    },
    /// A user is online (after the snapshot was queued and the join broadcast).
    Joined {
        /// The user.
        name: Name,
        /// Their endpoint as listed.
        endpoint: SocketAddr,
    },
    /// A user left (the logout was broadcast).
    Left {
        /// The user.
        name: Name,
        /// Their endpoint as listed.
        endpoint: SocketAddr,
        /// Why.
        reason: LeaveReason,
    },
    /// A connection was refused with `error,<reason>` and closed.
    ConnectionRefused {
        /// The connection.
        conn: ConnId,
        /// Why.
        reason: ErrorReason,
    },
    /// The cluster's store can be reached again (`up`), or no more.
    Store {
        /// Whether it can.
        up: bool,
    },
    /// Another coordinator of the cluster lost its lease: its members are being unlisted.
    Reaping {
        /// The coordinator.
        node: super::cluster::NodeId,
    },
}
