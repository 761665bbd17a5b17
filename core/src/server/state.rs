//! What the server remembers about logins, sessions and connections.

use std::net::SocketAddr;
use std::time::Instant;

use crate::wire::{LineDecoder, Name, PublicKey, UserEntry, MAX_CLIENT_LINE};

use super::budget::Budget;
use super::config::ServerConfig;
use super::output::ConnId;

/// Identifies one login's lifetime. A timer, close or logout carrying an old epoch never touches
/// a newer login of the same name.
pub(crate) type Epoch = u64;

/// Where a login came from, what it will be listed as, and in which dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The endpoint peers will be told, and where `Accept`/`Reject` go: the datagram's source
    /// for a native client, the declared endpoint for a classic one (which sends from
    /// throw-away ports).
    pub(crate) listed: SocketAddr,
    /// The endpoint the login declared: the TCP claim must name the same one, so another
    /// client on the same host cannot take this login with a claim of the same name.
    pub(crate) declared: SocketAddr,
    pub(crate) classic: bool,
}

/// A login accepted by UDP, waiting for its TCP claim.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) epoch: Epoch,
    pub(crate) origin: Origin,
    /// When it was first accepted: repeating the login never keeps it past
    /// `pending_max_life` from here.
    pub(crate) born: Instant,
    /// A repeated login pushes this back, so its `Accept` never arrives after the expiry.
    pub(crate) expires: Instant,
    /// The name is ours: always, alone; in a cluster, once the store granted it (the login is
    /// accepted then).
    pub(crate) granted: bool,
    /// A TCP claim that came while the name was not granted (before the store answered, or
    /// while it answers again after an outage), with the key it announced: bound once the store
    /// grants the name, refused if it does not.
    pub(crate) held: Option<(ConnId, Option<PublicKey>)>,
}

/// Someone online.
#[derive(Debug)]
pub(crate) struct Session {
    /// Name and observed endpoint, as every list shows them.
    pub(crate) entry: UserEntry,
    /// The TCP session; `None` for a classic user, reached by UTF-16LE datagrams at its listed
    /// endpoint (its list connection was closed right after the list).
    pub(crate) conn: Option<ConnId>,
    /// The public key the user announced in its claim, listed for its peers (a directory only:
    /// the server never checks it, and peers pin what they first see).
    pub(crate) key: Option<PublicKey>,
    /// Last line (native) or datagram (classic) from the user.
    pub(crate) last_seen: Instant,
    /// What it may still ask for: introductions, and bytes to relay.
    pub(crate) intros: Budget,
    pub(crate) relayed: Budget,
}

impl Session {
    /// A session registered now, with the budgets `config` gives every session.
    pub(crate) fn new(
        entry: UserEntry,
        conn: Option<ConnId>,
        key: Option<PublicKey>,
        now: Instant,
        config: &ServerConfig,
    ) -> Self {
        Session {
            entry,
            conn,
            key,
            last_seen: now,
            intros: Budget::new(config.intros_per_sec, config.intro_burst),
            relayed: Budget::new(config.relay_bytes_per_sec, config.relay_burst_bytes),
        }
    }

    pub(crate) fn is_classic(&self) -> bool {
        self.conn.is_none()
    }

    /// Whether a login from `origin` is this user coming back, whose claim may replace this
    /// session: it must come from the very endpoint the user is listed at, and a classic login
    /// never replaces a native session. A classic login's endpoint is only declared — anyone on
    /// the same host can declare it — while a native login's is the socket it was sent from:
    /// the owner of that socket may take over a classic session listed there, never the
    /// reverse.
    pub(crate) fn may_be_replaced_by(&self, origin: &Origin) -> bool {
        self.entry.endpoint == origin.listed && (self.is_classic() || !origin.classic)
    }
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
            // A claimed session may send longer lines (`relay`): see `Server::establish`.
            decoder: LineDecoder::new(MAX_CLIENT_LINE),
            role: Role::Unclaimed { silent: true },
        }
    }
}

/// Why the server wakes up. Each is armed at most once (re-arming moves it) and disarmed when
/// what it watches goes away, so the timers follow the live logins, sessions and connections.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Timer {
    PendingExpiry {
        name: Name,
        epoch: Epoch,
    },
    SilentClaim {
        conn: ConnId,
    },
    ClaimDeadline {
        conn: ConnId,
    },
    Idle {
        epoch: Epoch,
    },
    ClassicLease {
        epoch: Epoch,
    },
    /// Renew this coordinator's lease in the cluster's store.
    Heartbeat,
    /// Ask after the other coordinators' leases.
    CheckNodes,
    /// Drop the other coordinators' members the store did not list again in time.
    ConfirmRemote,
}
