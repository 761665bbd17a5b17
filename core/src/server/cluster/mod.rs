//! Several coordinators acting as one, through a shared store (Redis in the transports): one
//! namespace of names, and everyone's presence everywhere.
//!
//! The server machine stays sans-IO: it asks the store for things as [`StoreCommand`]s (one more
//! kind of transmit) and takes what the store says as [`StoreEvent`]s. What the store must do
//! with each command is specified here and in `docs/cluster.md`; the transports implement it.
//!
//! - **Names.** Before a login is accepted the coordinator claims its name in the store
//!   ([`StoreCommand::Claim`]); a name held by another live coordinator is refused
//!   (`Reject,name-taken`). While the store cannot be reached nobody can be sure a name is free,
//!   so logins are refused (`Reject,unavailable`) — the sessions online stay.
//! - **Presence.** Each coordinator publishes its own joins and leaves
//!   ([`StoreCommand::Join`], [`StoreCommand::Leave`]) to one ordered log, reads everyone else's
//!   in that order ([`StoreEvent::Joined`], [`StoreEvent::Left`]), and lists every member of the
//!   cluster in its snapshots. After the store was away it reads the whole registry again
//!   ([`StoreEvent::Synced`]) and publishes its own members again.
//! - **Failure.** Each coordinator renews a lease on its own liveness ([`StoreCommand::Heartbeat`])
//!   and asks after the others' ([`StoreCommand::CheckNodes`]). A coordinator whose lease is gone
//!   on two checks `confirm_after` apart is dead: the store removes its members, publishing a
//!   leave for each ([`StoreCommand::Reap`]).
//! - **Relay and introductions** to a member of another coordinator go through the store as
//!   [`Mail`] to that coordinator.

mod remote;

use std::fmt;
use std::time::Duration;

use crate::wire::{Name, PublicKey, RelayPayload, UserEntry};

pub(crate) use remote::Remote;

/// A coordinator of the cluster: a random number its transport draws at start, so that a
/// restarted coordinator is a new node (its old members are reaped, not mistaken for its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u64);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl NodeId {
    /// Parses the 16 hex digits [`Display`](fmt::Display) writes.
    pub fn parse(s: &str) -> Option<NodeId> {
        (s.len() == 16)
            .then(|| u64::from_str_radix(s, 16).ok().map(NodeId))
            .flatten()
    }
}

/// A coordinator's place in its cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterConfig {
    /// This coordinator.
    pub node: NodeId,
    /// How long this coordinator's liveness lasts in the store unless renewed; renewed every
    /// third of it.
    pub lease: Duration,
    /// How often the other coordinators' liveness is checked.
    pub check_interval: Duration,
    /// A coordinator found without its lease is reaped only if it is still without one this long
    /// later: a store that restarted has lost every lease, and each coordinator renews its own
    /// as soon as it is back.
    pub confirm_after: Duration,
}

impl ClusterConfig {
    /// The defaults: a 5 s lease, checks every second, confirmed after 2 s — so a coordinator
    /// that dies loses its members everywhere within about 8 s.
    pub fn new(node: NodeId) -> Self {
        ClusterConfig {
            node,
            lease: Duration::from_secs(5),
            check_interval: Duration::from_secs(1),
            confirm_after: Duration::from_secs(2),
        }
    }
}

/// Someone online on some coordinator of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The coordinator holding the session.
    pub node: NodeId,
    /// Name and endpoint, as every list shows them.
    pub entry: UserEntry,
    /// The key announced in its claim.
    pub key: Option<PublicKey>,
    /// A classic (textbook) user.
    pub classic: bool,
}

/// What one coordinator sends another through the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mail {
    /// A `relay` line from `from` for `to`, a member of the receiving coordinator.
    Relay {
        /// The sender (a member of the sending coordinator).
        from: Name,
        /// The recipient.
        to: Name,
        /// The sealed datagram, as the sender's line carried it.
        payload: RelayPayload,
    },
    /// `from` asked for an introduction to `to`: `to` is told `from`'s endpoint.
    Intro {
        /// The member that asked, as listed.
        from: UserEntry,
        /// The member of the receiving coordinator it asked about.
        to: Name,
    },
}

/// What a coordinator asks of the store, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreCommand {
    /// Hold `name` for this coordinator unless another live coordinator holds it (a name held by
    /// a coordinator without a lease is taken over, its member reaped). Answered by
    /// [`StoreEvent::Claimed`] with the same `ticket`.
    Claim {
        /// The name.
        name: Name,
        /// Echoed in the answer.
        ticket: u64,
    },
    /// Give up `name` if this coordinator holds it and has no member of that name listed.
    Release {
        /// The name.
        name: Name,
    },
    /// Give up every name this coordinator holds with no member of it listed: a release lost
    /// while the store was away, or a claim granted whose answer never came. Sent first when the
    /// store is back, before the names still wanted are claimed again.
    Forget,
    /// List the member (of this coordinator) and publish its join.
    Join(Member),
    /// Unlist this coordinator's member `name`, publish its leave and give up the name.
    Leave {
        /// The name.
        name: Name,
    },
    /// Renew this coordinator's liveness for `lease`.
    Heartbeat {
        /// How long it lasts.
        lease: Duration,
    },
    /// Which of these coordinators have no lease? Answered by [`StoreEvent::Checked`].
    CheckNodes(Vec<NodeId>),
    /// If `node` still has no lease: unlist each of its members, publishing its leave, and give
    /// up its names.
    Reap(NodeId),
    /// Deliver to another coordinator.
    Mail {
        /// The coordinator.
        to: NodeId,
        /// What.
        mail: Mail,
    },
    /// Read the whole registry, then follow the log from there: answered by
    /// [`StoreEvent::Synced`], then a [`StoreEvent::Joined`] or [`StoreEvent::Left`] for every
    /// change after it.
    Sync,
}

/// What the store tells a coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// The store can be reached (at start, and again after an outage).
    Up,
    /// The store cannot be reached.
    Down,
    /// Every member listed in the store, of every coordinator, at one point of the log.
    Synced(Vec<Member>),
    /// The log says a member joined (published by any coordinator, this one included).
    Joined(Member),
    /// The log says a member of `node` left.
    Left {
        /// Its coordinator.
        node: NodeId,
        /// Its name.
        name: Name,
    },
    /// The answer to [`StoreCommand::Claim`].
    Claimed {
        /// The name.
        name: Name,
        /// The claim's ticket.
        ticket: u64,
        /// Whether this coordinator now holds the name.
        granted: bool,
    },
    /// The answer to [`StoreCommand::CheckNodes`]: those without a lease.
    Checked {
        /// The coordinators found without one.
        dead: Vec<NodeId>,
    },
    /// Mail from another coordinator.
    Mail {
        /// The sender.
        from: NodeId,
        /// What.
        mail: Mail,
    },
}

/// A coordinator's cluster state.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) config: ClusterConfig,
    /// The store can be reached.
    pub(crate) up: bool,
    pub(crate) remote: Remote,
}

impl Cluster {
    pub(crate) fn new(config: ClusterConfig) -> Self {
        Cluster {
            config,
            up: false,
            remote: Remote::default(),
        }
    }
}
