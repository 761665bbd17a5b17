//! The wire codec: nom parsers and encoders for every message feige speaks.
//!
//! One type per channel and direction:
//!
//! | channel | client → server | server → client |
//! |---|---|---|
//! | UDP | [`ClientDatagram`] | [`ServerDatagram`] |
//! | TCP (lines) | [`ClientLine`] | [`ServerLine`] |
//! | UDP peer ↔ peer | [`PeerDatagram`], sealed in [`SealedDatagram`] | [`PeerDatagram`], sealed in [`SealedDatagram`] |
//!
//! Every parser is total — any byte string gives a value or a [`WireError`] — and every encoder
//! round-trips through its parser. TCP streams are split into lines by [`LineDecoder`].

mod classic;
mod error;
mod fields;
mod key;
mod line_decoder;
mod name;
mod peer;
mod presence;
mod reason;
mod relay;
mod sealed;
mod tcp;
mod udp;

pub use classic::{
    decode_classic_list, decode_utf16le, encode_classic_list, encode_utf16le, is_classic_datagram,
    max_talk_text_units, ClassicDatagram, MAX_CLASSIC_DATAGRAM, MAX_CLASSIC_LIST,
};
pub use error::WireError;
pub use fields::canonical;
pub use key::{safety_number, PublicKey};
pub use line_decoder::{LineDecoder, LineTooLong};
pub use name::{validate_name, Name, NameError, MAX_NAME_BYTES, MAX_NAME_CHARS};
pub use peer::{max_text_len, PeerDatagram, SessionId, MAX_CHAT_DATAGRAM};
pub use presence::UserEntry;
pub use reason::{ErrorReason, RejectReason};
pub use relay::{RelayPayload, MAX_RELAY_PAYLOAD};
pub(crate) use sealed::transport_header;
pub use sealed::{
    is_handshake, is_sealed, SealedDatagram, INITIATION_NOISE_LEN, INITIATION_PAYLOAD_LEN,
    MAX_SEALED_PLAINTEXT, RESPONSE_NOISE_LEN,
};
pub use tcp::{
    encode_snapshot, encode_snapshot_entry, ClientLine, Dialect, ServerLine, MAX_CLIENT_LINE,
    MAX_RELAY_LINE, MAX_SERVER_LINE,
};
pub use udp::{ClientDatagram, ServerDatagram};

/// The longest datagram any valid message needs (a classic `talk` of 1,200 UTF-16 code units).
/// A transport reads at most one byte more: anything longer arrives truncated, is refused as
/// malformed, and never costs more memory than this on its way to the core.
pub const MAX_DATAGRAM: usize = MAX_CLASSIC_DATAGRAM;

#[cfg(test)]
pub(crate) mod proptests;
