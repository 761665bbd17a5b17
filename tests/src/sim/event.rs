//! Everything that can happen at a point of simulated time.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use feige_core::server::ConnId;

/// One client incarnation: one `Client`, one login, one session id. A user who comes back is a
/// new incarnation with the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncId(pub usize);

/// A state machine the simulator drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Machine {
    /// The one server.
    Server,
    /// A client incarnation.
    Client(IncId),
}

/// One end of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The server's end.
    Server,
    /// The client's (or the attacker's) end.
    Client,
}

impl End {
    /// The end across the connection.
    pub fn other(self) -> End {
        match self {
            End::Server => End::Client,
            End::Client => End::Server,
        }
    }

    /// An index for per-end arrays.
    pub fn index(self) -> usize {
        match self {
            End::Server => 0,
            End::Client => 1,
        }
    }
}

/// A scheduled happening.
#[derive(Debug)]
pub enum Event {
    /// A datagram reaches `to`.
    Datagram {
        /// Its source.
        from: SocketAddr,
        /// Its destination.
        to: SocketAddr,
        /// Its bytes.
        data: Bytes,
    },
    /// A connection's SYN reaches the server.
    OpenAtServer(ConnId),
    /// The handshake completes at the client.
    OpenAtClient(ConnId),
    /// The connection attempt failed.
    Refused(ConnId),
    /// A chunk of the byte stream reaches one end.
    Bytes {
        /// The connection.
        conn: ConnId,
        /// The receiving end.
        toward: End,
        /// The chunk.
        data: Bytes,
    },
    /// The other end's FIN, or a cut, reaches one end.
    Closed {
        /// The connection.
        conn: ConnId,
        /// The end that learns of it.
        toward: End,
    },
    /// A machine's deadline from `poll_timeout`.
    Timer {
        /// Whose.
        machine: Machine,
        /// The deadline it asked for (stale ones are skipped).
        deadline: Instant,
    },
    /// An early, extra `handle_timeout`, which the contract says is harmless.
    SpuriousWake(Machine),
    /// A step of the scenario.
    Act(Act),
}

/// What the scenario makes happen.
#[derive(Debug, Clone, Copy, Hash)]
pub enum Act {
    /// A user starts a client (a new incarnation) at `endpoint`.
    Launch {
        /// Index of the user (the name).
        user: usize,
        /// The client's UDP endpoint.
        endpoint: SocketAddr,
        /// The user reinstalled first: a new key, nothing pinned.
        reinstall: bool,
    },
    /// The incarnation's user, told that `user`'s key changed, trusts the key listed now
    /// (having compared safety numbers, say).
    Trust {
        /// Who trusts.
        inc: IncId,
        /// Whose key.
        user: usize,
    },
    /// The incarnation's process dies; with `fin`, the OS closes its TCP connection.
    Crash {
        /// Who.
        inc: IncId,
        /// Whether the TCP peer sees a FIN.
        fin: bool,
    },
    /// The incarnation logs out.
    Logout(IncId),
    /// The network cuts the incarnation's TCP connection.
    Cut(IncId),
    /// The incarnation sends a chat message to someone on its list.
    Chat(IncId),
    /// The forger does something.
    Attack,
    /// The server process restarts: it forgets everyone, and every connection to it breaks.
    RestartServer,
    /// Faults stop: the network becomes perfect.
    Calm,
    /// The forger logs out every classic user it registered, before the final logins.
    Withdraw,
    /// Users with no client left start one, on a calm network: each must get in.
    FinalLogins,
}
