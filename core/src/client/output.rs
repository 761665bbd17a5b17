//! What the client state machine asks of its transport and tells its user.

use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;

use super::persist::Record;
use crate::wire::{ErrorReason, Name, PublicKey, RejectReason, UserEntry};

/// A message handle, unique within one client (1, 2, 3…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// I/O the client asks the transport to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientTransmit {
    /// Send a datagram from the client's one UDP socket.
    Datagram {
        /// Destination (the server, or a peer's listed endpoint).
        to: SocketAddr,
        /// The datagram.
        data: Bytes,
    },
    /// Open the TCP session to this address; report `handle_connected` or `handle_tcp_closed`.
    Connect {
        /// The server's IP and the port from `Accept`.
        to: SocketAddr,
    },
    /// Write bytes on the TCP session.
    Send {
        /// Whole lines, each ending in `\n`.
        data: Bytes,
    },
    /// Flush and close the TCP session.
    Close,
    /// Make this record durable before performing any transmit after it (see
    /// [`persist`](super::persist)): a message is in the outbox before it is `sent`, and shown
    /// before it is acknowledged.
    Persist(Record),
}

macro_rules! labelled {
    ($(#[$meta:meta])* $ty:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $ty {
            $($(#[$vmeta])* $variant,)+
        }

        impl $ty {
            /// The reason as shown to users and in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

labelled! {
    /// Why a message was not delivered.
    FailReason {
        /// No ack within the retry budget (it may still have been shown).
        Timeout => "timeout",
        /// The client ended (logged out, or disconnected for good) with the message
        /// unacknowledged and no store to keep it in for the next run.
        LoggedOut => "logged-out",
        /// It waited 7 days for its recipient to come online.
        Expired => "expired",
    }
}

labelled! {
    /// Why the session with the server ended without our logout.
    DisconnectReason {
        /// No line from the server within the server timeout.
        ServerSilent => "server-silent",
        /// The TCP connection closed or failed.
        ConnectionLost => "connection-lost",
        /// The server sent a line that is not valid here.
        ProtocolError => "protocol-error",
        /// The server closed us with `error,idle-timeout`.
        IdleTimeout => "idle-timeout",
        /// The server closed us with `error,replaced`: we logged in again elsewhere.
        Replaced => "replaced",
        /// The server closed us with `error,shutdown`.
        Shutdown => "shutdown",
        /// The server closed us with another `error,<reason>`.
        ServerError => "server-error",
        /// Logging in again, the server kept answering that our name is taken.
        NameTaken => "name-taken",
    }
}

labelled! {
    /// How chat datagrams reach a peer.
    Via {
        /// Straight to its endpoint, over UDP.
        Direct => "direct",
        /// Through the server, over the two TCP sessions.
        Relay => "relay",
    }
}

/// Why the login did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// No answer to the login datagrams.
    Timeout,
    /// `Reject,<reason>`.
    Rejected(RejectReason),
    /// The TCP connection could not be opened.
    ConnectFailed,
    /// `error,<reason>` on the TCP session before the snapshot.
    Refused(ErrorReason),
    /// The connection closed, or the server fell silent, before the snapshot.
    ConnectionLost,
    /// The snapshot was malformed or did not list us.
    BadSnapshot,
}

impl LoginFailure {
    /// The reason as shown to users and in JSON: the wire reason where there is one.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginFailure::Timeout => "timeout",
            LoginFailure::Rejected(r) => r.as_str(),
            LoginFailure::ConnectFailed => "connect-failed",
            LoginFailure::Refused(r) => r.as_str(),
            LoginFailure::ConnectionLost => "connection-lost",
            LoginFailure::BadSnapshot => "bad-snapshot",
        }
    }
}

impl fmt::Display for LoginFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the user sees. JSON names are those of `docs/architecture.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// `logged_in`: we are online; `me` holds our endpoint as the server observed it, `users`
    /// the whole list (us included) in the server's order.
    LoggedIn {
        /// Ourselves as listed.
        me: UserEntry,
        /// Everyone online.
        users: Vec<UserEntry>,
    },
    /// `joined`: someone came online.
    Joined(UserEntry),
    /// `left`: someone went offline.
    Left(UserEntry),
    /// `message`: a chat message, shown once.
    Message {
        /// The sender.
        from: Name,
        /// The text.
        text: String,
        /// It came sealed with the sender's trusted key (false: a textbook peer's plain `talk`).
        encrypted: bool,
    },
    /// `queued`: the recipient is offline; the message waits in the outbox until it comes
    /// online (then `sent`, and `delivered`), for at most 7 days (then `failed{expired}`).
    Queued {
        /// The recipient.
        to: Name,
        /// The handle `send_message` returned.
        id: MessageId,
    },
    /// `sent`: the message left on the wire (first try).
    Sent {
        /// The recipient.
        to: Name,
        /// The handle `send_message` returned.
        id: MessageId,
    },
    /// `delivered`: the recipient acknowledged it.
    Delivered {
        /// The recipient.
        to: Name,
        /// The message.
        id: MessageId,
        /// It went sealed, end to end (always, for a message that can be acknowledged).
        encrypted: bool,
    },
    /// `failed`: no acknowledgement; it was shown at most once.
    Failed {
        /// The recipient.
        to: Name,
        /// The message.
        id: MessageId,
        /// Why.
        reason: FailReason,
    },
    /// `key_pinned`: the key now believed for `name` (first seen, or trusted by the user); the
    /// application keeps it for later runs.
    KeyPinned {
        /// The user.
        name: Name,
        /// Their key.
        key: PublicKey,
    },
    /// `key_changed`: the directory lists another key for `name` than the pinned one. Chat with
    /// `name` is held (nothing sent, nothing shown) until the user trusts the new key.
    KeyChanged {
        /// The user.
        name: Name,
        /// The key pinned.
        old: PublicKey,
        /// The key listed now.
        new: PublicKey,
    },
    /// `path`: the way chat datagrams reach `peer` is set or changed: `direct` to `endpoint`
    /// (where an authentic datagram of the peer came from), or `relay` through the server at
    /// `endpoint`.
    Path {
        /// The contact.
        peer: Name,
        /// Direct or relayed.
        via: Via,
        /// The peer's endpoint (direct), or the server's address (relay).
        endpoint: SocketAddr,
    },
    /// `reconnecting`: the server session was lost; login attempt `attempt` starts in `in_ms`.
    /// Chat with the peers we know goes on meanwhile.
    Reconnecting {
        /// 1 for the first attempt after the loss, then 2, 3…
        attempt: u32,
        /// Milliseconds until it starts.
        in_ms: u64,
    },
    /// `reconnected`: online again, listed as `me`; `joined`/`left` came for every difference
    /// between the list before and the server's list now, which `users` is, in its order.
    Reconnected {
        /// Ourselves as listed now.
        me: UserEntry,
        /// Everyone online (us included), in the server's order.
        users: Vec<UserEntry>,
    },
    /// `login_failed`: terminal.
    LoginFailed(LoginFailure),
    /// `disconnected`: terminal.
    Disconnected(DisconnectReason),
    /// `logged_out`: terminal, after our own logout.
    LoggedOut,
}

/// Why `send_message` refused at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// Never logged in yet, or ended.
    NotLoggedIn,
    /// Nobody of that name is online or a contact.
    NoSuchUser,
    /// Messages to oneself are not sent.
    ToSelf,
    /// The text is empty.
    EmptyText,
    /// The text does not fit one datagram; `max` bytes would.
    TooLong {
        /// Most text bytes that fit (UTF-16 code units in a `talk` to a classic peer).
        max: usize,
    },
    /// Too many messages already queued for that peer.
    QueueFull,
    /// The peer announced no key (or we have none): chat is sealed, so none is possible.
    NoKey,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NotLoggedIn => f.write_str("not logged in"),
            SendError::NoSuchUser => f.write_str("no such user online or among your contacts"),
            SendError::ToSelf => f.write_str("cannot send to yourself"),
            SendError::EmptyText => f.write_str("empty message"),
            SendError::TooLong { max } => write!(f, "message too long (at most {max} bytes)"),
            SendError::QueueFull => f.write_str("too many messages queued for that user"),
            SendError::NoKey => f.write_str("no key for that user: chat is end-to-end encrypted"),
        }
    }
}

impl std::error::Error for SendError {}

/// Counters of what the client dropped, readable through [`Client::stats`](super::Client::stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Datagrams that did not parse.
    pub malformed: u64,
    /// Peer datagrams naming a user who is not online.
    pub unknown_sender: u64,
    /// Peer datagrams from another endpoint than the named user's listed one.
    pub wrong_source: u64,
    /// `msg` datagrams already shown (acknowledged again, not shown).
    pub duplicates: u64,
    /// `ack` datagrams matching no message in flight.
    pub stray_acks: u64,
    /// Plain (unsealed) `msg`/`ack` datagrams: native chat is sealed, so they prove nothing.
    pub unsealed: u64,
    /// Sealed datagrams that failed authentication (bad tag, unknown session, bad handshake).
    pub unauthenticated: u64,
    /// Sealed datagrams already opened, or too old for the replay window.
    pub replayed: u64,
    /// Handshakes from a key not trusted for the name they claim.
    pub untrusted: u64,
    /// Handshakes not newer than the last accepted from that key.
    pub stale: u64,
    /// Sealed `msg`/`ack` naming another user than the key they came with.
    pub wrong_sender: u64,
}

impl ClientStats {
    /// Counts a sealed datagram the secure layer refused.
    pub(crate) fn refused(&mut self, refusal: super::secure::Refusal) {
        use super::secure::Refusal;
        let counter = match refusal {
            Refusal::Malformed => &mut self.malformed,
            Refusal::Unauthenticated => &mut self.unauthenticated,
            Refusal::Replayed => &mut self.replayed,
            Refusal::Untrusted => &mut self.untrusted,
            Refusal::Stale => &mut self.stale,
        };
        *counter += 1;
    }
}

/// Where the client is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// Sending login datagrams.
    LoggingIn,
    /// Accepted; opening TCP and waiting for the snapshot (classic dialect: the list).
    Connecting,
    /// Online.
    Online,
    /// The server session was lost: logging in again, while chat with the peers we know goes
    /// on (`reconnecting` was reported).
    Reconnecting,
    /// Ended (`login_failed`, `disconnected` or `logged_out` was reported).
    Closed,
}
