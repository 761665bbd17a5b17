//! Reasons the server gives when it refuses something, so clients can tell users why.

use std::fmt;

use super::error::WireError;

macro_rules! reason_enum {
    ($(#[$meta:meta])* $ty:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
        pub enum $ty {
            $($(#[$vmeta])* $variant,)+
        }

        impl $ty {
            /// Every reason, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant,)+];

            /// The reason as written on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text,)+
                }
            }

            /// Parses a reason as written on the wire.
            pub fn parse(s: &str) -> Result<Self, WireError> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    _ => Err(WireError::UnknownReason),
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

reason_enum! {
    /// Why a UDP login was refused (`Reject,<reason>`).
    RejectReason {
        /// The name is online, or pending, from another source endpoint.
        NameTaken => "name-taken",
        /// The name breaks the name rules.
        BadName => "bad-name",
        /// The server holds as many sessions as it is configured for.
        ServerFull => "server-full",
        /// The source IP, or its network, holds as many logins (pending or online) as it may.
        RateLimited => "rate-limited",
        /// The datagram is not a well-formed login.
        BadRequest => "bad-request",
        /// The server belongs to a cluster whose shared store it cannot reach now, so it cannot
        /// make sure the name is free on every coordinator: try again later.
        Unavailable => "unavailable",
    }
}

reason_enum! {
    /// Why the server is closing a TCP connection (`error,<reason>`).
    ErrorReason {
        /// The claim names no pending login (never sent, expired, or already claimed).
        NoPendingLogin => "no-pending-login",
        /// The claim comes from another IP than the UDP login.
        IpMismatch => "ip-mismatch",
        /// A line longer than the limit.
        LineTooLong => "line-too-long",
        /// A line that is not a valid message at this point.
        BadLine => "bad-line",
        /// No claim arrived in time.
        ClaimTimeout => "claim-timeout",
        /// No line arrived within the idle timeout.
        IdleTimeout => "idle-timeout",
        /// The same user logged in again from the same endpoint on a new connection.
        Replaced => "replaced",
        /// The server is shutting down.
        Shutdown => "shutdown",
        /// Another coordinator of the cluster holds the name (found when the cluster's store
        /// came back after an outage).
        NameTaken => "name-taken",
        /// The server holds as many connections as it can, or as many unclaimed ones from this
        /// address or its network as it allows: refused at once, before any claim.
        TooManyConnections => "too-many-connections",
    }
}
