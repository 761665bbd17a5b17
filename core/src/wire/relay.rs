//! A datagram relayed through the server (`relay` lines, protocol.md 8.2): opaque bytes — a
//! sealed datagram — written as padded standard base64, since the TCP session carries lines.
//!
//! The server checks the text and forwards it as it came, without decoding it into a buffer of
//! its own; only the receiving client decodes.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::error::WireError;
use super::peer::MAX_CHAT_DATAGRAM;

/// Most base64 characters of a relayed datagram: [`MAX_CHAT_DATAGRAM`] bytes, padded.
pub const MAX_RELAY_PAYLOAD: usize = MAX_CHAT_DATAGRAM.div_ceil(3) * 4;

/// A relayed datagram, as checked base64 text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RelayPayload(String);

impl RelayPayload {
    /// Encodes `datagram`; `None` if it is empty or longer than a chat datagram may be.
    pub fn encode(datagram: &[u8]) -> Option<Self> {
        (!datagram.is_empty() && datagram.len() <= MAX_CHAT_DATAGRAM)
            .then(|| RelayPayload(STANDARD.encode(datagram)))
    }

    /// Checks a payload field: padded standard base64 of 1 to [`MAX_CHAT_DATAGRAM`] bytes.
    pub fn parse(text: &str) -> Result<Self, WireError> {
        if text.len() > MAX_RELAY_PAYLOAD {
            return Err(WireError::TooLong);
        }
        let mut bytes = [0u8; MAX_CHAT_DATAGRAM];
        match STANDARD.decode_slice(text, &mut bytes) {
            Ok(0) | Err(_) => Err(WireError::BadPayload),
            Ok(_) => Ok(RelayPayload(text.to_owned())),
        }
    }

    /// The datagram it carries.
    pub fn decode(&self) -> Vec<u8> {
        // Checked when made: the text always decodes.
        STANDARD.decode(&self.0).unwrap_or_default()
    }

    /// The base64 text, as it goes on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RelayPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayPayload({} chars)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_largest_datagram_fits_and_one_byte_more_does_not() {
        let largest = RelayPayload::encode(&[7; MAX_CHAT_DATAGRAM]).expect("fits");
        assert_eq!(largest.as_str().len(), MAX_RELAY_PAYLOAD);
        assert_eq!(RelayPayload::parse(largest.as_str()), Ok(largest.clone()));
        assert_eq!(RelayPayload::encode(&[7; MAX_CHAT_DATAGRAM + 1]), None);
        assert_eq!(RelayPayload::encode(&[]), None);
        let over = STANDARD.encode([7; MAX_CHAT_DATAGRAM + 1]);
        assert_eq!(RelayPayload::parse(&over), Err(WireError::TooLong));
    }

    #[test]
    fn only_padded_standard_base64_of_something() {
        for bad in ["", "=", "abc", "ab=c", "YQ", "a-b_", "YQ==YQ==", "★★★★"] {
            assert_eq!(
                RelayPayload::parse(bad),
                Err(WireError::BadPayload),
                "{bad:?}"
            );
        }
        assert_eq!(
            RelayPayload::parse("YQ==").map(|p| p.decode()),
            Ok(b"a".to_vec())
        );
    }

    proptest! {
        #[test]
        fn round_trips(datagram in proptest::collection::vec(any::<u8>(), 1..=MAX_CHAT_DATAGRAM)) {
            let payload = RelayPayload::encode(&datagram).expect("within the limit");
            prop_assert_eq!(RelayPayload::parse(payload.as_str()), Ok(payload.clone()));
            prop_assert_eq!(payload.decode(), datagram);
        }

        #[test]
        fn parsing_is_total(text in ".{0,64}") {
            if let Ok(payload) = RelayPayload::parse(&text) {
                prop_assert_eq!(payload.as_str(), text.as_str());
                prop_assert!(!payload.decode().is_empty());
            }
        }
    }
}
