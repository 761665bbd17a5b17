//! What the server remembers about logins, sessions and connections.

use std::net::SocketAddr;
use std::time::Instant;

use crate::wire::{LineDecoder, Name, UserEntry, MAX_CLIENT_LINE};

use super::output::ConnId;

/// Identifies one login's lifetime. A timer, close or logout carrying an old epoch never touches
/// a newer login of the same name.
pub(crate) type Epoch = u64;

/// A login accepted by UDP, waiting for its TCP claim.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) epoch: Epoch,
    /// The endpoint peers will be told: the datagram's source for a native client, the declared
    /// endpoint for a classic one (which sends from throw-away ports).
    pub(crate) listed: SocketAddr,
    /// The endpoint the login declared: the TCP claim must name the same one, so another
    /// client on the same host cannot take this login with a claim of the same name.
    pub(crate) declared: SocketAddr,
    pub(crate) classic: bool,
    /// A repeated login pushes this back, so its `Accept` never arrives after the expiry.
    pub(crate) expires: Instant,
}

/// Someone online.
#[derive(Debug)]
pub(crate) struct Session {
    /// Name and observed endpoint, as every list shows them.
    pub(crate) entry: UserEntry,
    /// The TCP session; `None` for a classic user, reached by UTF-16LE datagrams at its listed
    /// endpoint (its list connection was closed right after the list).
    pub(crate) conn: Option<ConnId>,
    /// Last line (native) or datagram (classic) from the user.
    pub(crate) last_seen: Instant,
}

/// A TCP connection the transport reported.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) peer: SocketAddr,
    pub(crate) decoder: LineDecoder,
    pub(crate) role: Role,
}

/// Whether a connection has claimed a login yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    /// Waiting for the claim line; `silent` while not a byte has arrived.
    Unclaimed { silent: bool },
    /// Carrying the session registered under this epoch.
    Session { name: Name, epoch: Epoch },
}

impl Conn {
    pub(crate) fn new(peer: SocketAddr) -> Self {
        Conn {
            peer,
            decoder: LineDecoder::new(MAX_CLIENT_LINE),
            role: Role::Unclaimed { silent: true },
        }
    }
}

/// Why the server woke up.
#[derive(Debug)]
pub(crate) enum Timer {
    PendingExpiry { name: Name, epoch: Epoch },
    SilentClaim { conn: ConnId },
    ClaimDeadline { conn: ConnId },
    Idle { epoch: Epoch },
    ClassicLease { epoch: Epoch },
}
