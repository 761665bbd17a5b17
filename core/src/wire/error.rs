//! The one error type every parser returns: it says what is wrong, so a peer can be told.

use std::fmt;

use super::name::NameError;

/// Why bytes are not a valid message. Every parser is total: any input gives a value or this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The bytes are not UTF-8.
    NotUtf8,
    /// Nothing but an optional line ending.
    Empty,
    /// The first field names no message of this channel and direction.
    UnknownMessage,
    /// A field the message needs is missing.
    MissingField(&'static str),
    /// More fields than the message has.
    ExtraField,
    /// The name field breaks the name rules.
    BadName(NameError),
    /// Not an `ip:port` / `[ipv6]:port` endpoint.
    BadEndpoint,
    /// Not a port number 1–65535.
    BadPort,
    /// Not 16 hexadecimal digits.
    BadSessionId,
    /// Not a sequence number 1–2^64-1 written without leading zeros.
    BadSeq,
    /// A `Reject`/`error` reason this version does not know.
    UnknownReason,
    /// A snapshot entry or its terminating `end` is malformed.
    BadSnapshot,
    /// A chat text that is empty.
    EmptyText,
    /// Longer than the limit for its channel.
    TooLong,
    /// A classic (UTF-16LE) datagram with an odd number of bytes or unpaired surrogates.
    BadUtf16,
    /// A classic list whose length prefix is malformed or disagrees with the bytes.
    BadLengthPrefix,
    /// Not a public key: 64 hexadecimal digits.
    BadKey,
    /// A sealed datagram too short, or not of the exact length its kind has.
    BadLength,
    /// A relayed datagram that is not padded standard base64, or is empty.
    BadPayload,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::NotUtf8 => f.write_str("not valid UTF-8"),
            WireError::Empty => f.write_str("empty message"),
            WireError::UnknownMessage => f.write_str("unknown message kind"),
            WireError::MissingField(field) => write!(f, "missing field `{field}`"),
            WireError::ExtraField => f.write_str("unexpected extra field"),
            WireError::BadName(e) => write!(f, "bad name: {e}"),
            WireError::BadEndpoint => f.write_str("bad endpoint (want ip:port or [ipv6]:port)"),
            WireError::BadPort => f.write_str("bad port (want 1-65535)"),
            WireError::BadSessionId => f.write_str("bad session id (want 16 hex digits)"),
            WireError::BadSeq => f.write_str("bad sequence number"),
            WireError::UnknownReason => f.write_str("unknown reason"),
            WireError::BadSnapshot => f.write_str("malformed user list"),
            WireError::EmptyText => f.write_str("empty chat text"),
            WireError::TooLong => f.write_str("message too long"),
            WireError::BadUtf16 => f.write_str("not valid UTF-16LE"),
            WireError::BadLengthPrefix => f.write_str("bad length prefix"),
            WireError::BadKey => f.write_str("not a public key (64 hexadecimal digits)"),
            WireError::BadLength => f.write_str("wrong length for a sealed datagram of its kind"),
            WireError::BadPayload => f.write_str("bad relayed datagram (want padded base64)"),
        }
    }
}

impl std::error::Error for WireError {}

impl From<NameError> for WireError {
    fn from(e: NameError) -> Self {
        WireError::BadName(e)
    }
}
