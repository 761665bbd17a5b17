//! Sealed peer datagrams: the Noise handshake and the AEAD transport messages that carry `msg` and
//! `ack` between peers, framed for UDP.
//!
//! Byte 0 is the type. 0xF5–0xF7 never start UTF-8 text, and no classic (UTF-16LE) message
//! starts with them either, so [`is_sealed`] tells a sealed datagram from every text datagram by
//! its first byte alone; a receiver asks it first, because a sealed datagram's second byte may be
//! zero, which is what marks a classic one.
//!
//! | type | layout |
//! |---|---|
//! | initiation | `[0xF5][sender u32 LE][Noise message 1: 169 bytes]` |
//! | response | `[0xF6][sender u32 LE][receiver u32 LE][Noise message 2: 48 bytes]` |
//! | transport | `[0xF7][receiver u32 LE][counter u64 LE][ciphertext, 16-byte tag included]` |

use super::error::WireError;
use super::name::MAX_NAME_BYTES;
use super::peer::MAX_CHAT_DATAGRAM;

const INITIATION: u8 = 0xF5;
const RESPONSE: u8 = 0xF6;
const TRANSPORT: u8 = 0xF7;

/// An X25519 public key, and a ChaCha20-Poly1305 tag.
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// The initiation's payload: the initiator's name, length-prefixed and zero-padded to the longest
/// name (so the length of a name never shows), then its timestamp in milliseconds.
pub const INITIATION_PAYLOAD_LEN: usize = 1 + MAX_NAME_BYTES + 8;

/// Noise IK message 1: ephemeral key, encrypted static key, encrypted payload.
pub const INITIATION_NOISE_LEN: usize =
    KEY_LEN + (KEY_LEN + TAG_LEN) + (INITIATION_PAYLOAD_LEN + TAG_LEN);

/// Noise IK message 2: ephemeral key and an empty encrypted payload.
pub const RESPONSE_NOISE_LEN: usize = KEY_LEN + TAG_LEN;

/// Type, receiver index, counter.
const TRANSPORT_HEADER: usize = 1 + 4 + 8;

/// The largest plaintext one transport datagram carries: a sealed datagram is never longer than
/// [`MAX_CHAT_DATAGRAM`], like the text datagrams it replaces.
pub const MAX_SEALED_PLAINTEXT: usize = MAX_CHAT_DATAGRAM - TRANSPORT_HEADER - TAG_LEN;

/// One sealed datagram; the Noise bytes are borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedDatagram<'a> {
    /// The first handshake message, from the initiator.
    Initiation {
        /// The initiator's index for the session: the responder's transport datagrams carry it.
        sender: u32,
        /// Noise IK message 1, exactly [`INITIATION_NOISE_LEN`] bytes.
        noise: &'a [u8],
    },
    /// The second handshake message, from the responder.
    Response {
        /// The responder's index for the session.
        sender: u32,
        /// The initiator's index, echoed: which handshake this answers.
        receiver: u32,
        /// Noise IK message 2, exactly [`RESPONSE_NOISE_LEN`] bytes.
        noise: &'a [u8],
    },
    /// Data in an established session.
    Transport {
        /// The index the receiver chose for the session.
        receiver: u32,
        /// The AEAD nonce: never reused within a session, so replays can be told apart.
        counter: u64,
        /// The encrypted plaintext and its tag (at least [`TAG_LEN`] bytes).
        ciphertext: &'a [u8],
    },
}

/// Whether a datagram is sealed (its first byte is a sealed type), rather than text.
pub fn is_sealed(data: &[u8]) -> bool {
    matches!(data.first(), Some(INITIATION..=TRANSPORT))
}

/// Whether a sealed datagram is a handshake message (initiation or response).
pub fn is_handshake(data: &[u8]) -> bool {
    matches!(data.first(), Some(&INITIATION | &RESPONSE))
}

impl<'a> SealedDatagram<'a> {
    /// Parses one datagram. Handshake messages must have their exact length, a transport
    /// datagram at least a tag, and none may pass [`MAX_CHAT_DATAGRAM`].
    pub fn parse(data: &'a [u8]) -> Result<Self, WireError> {
        if data.len() > MAX_CHAT_DATAGRAM {
            return Err(WireError::TooLong);
        }
        let (&kind, rest) = data.split_first().ok_or(WireError::Empty)?;
        match kind {
            INITIATION => {
                let (sender, noise) = take_u32(rest)?;
                exact(noise, INITIATION_NOISE_LEN)?;
                Ok(SealedDatagram::Initiation { sender, noise })
            }
            RESPONSE => {
                let (sender, rest) = take_u32(rest)?;
                let (receiver, noise) = take_u32(rest)?;
                exact(noise, RESPONSE_NOISE_LEN)?;
                Ok(SealedDatagram::Response {
                    sender,
                    receiver,
                    noise,
                })
            }
            TRANSPORT => {
                let (receiver, rest) = take_u32(rest)?;
                let (counter, ciphertext) = take_u64(rest)?;
                if ciphertext.len() < TAG_LEN {
                    return Err(WireError::BadLength);
                }
                Ok(SealedDatagram::Transport {
                    receiver,
                    counter,
                    ciphertext,
                })
            }
            _ => Err(WireError::UnknownMessage),
        }
    }

    /// Appends the datagram's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            SealedDatagram::Initiation { sender, noise } => {
                out.push(INITIATION);
                out.extend_from_slice(&sender.to_le_bytes());
                out.extend_from_slice(noise);
            }
            SealedDatagram::Response {
                sender,
                receiver,
                noise,
            } => {
                out.push(RESPONSE);
                out.extend_from_slice(&sender.to_le_bytes());
                out.extend_from_slice(&receiver.to_le_bytes());
                out.extend_from_slice(noise);
            }
            SealedDatagram::Transport {
                receiver,
                counter,
                ciphertext,
            } => {
                out.push(TRANSPORT);
                out.extend_from_slice(&receiver.to_le_bytes());
                out.extend_from_slice(&counter.to_le_bytes());
                out.extend_from_slice(ciphertext);
            }
        }
    }

    /// The datagram's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAX_CHAT_DATAGRAM);
        self.encode(&mut out);
        out
    }
}

/// The header of a transport datagram, to write the ciphertext right after it.
pub(crate) fn transport_header(receiver: u32, counter: u64) -> [u8; TRANSPORT_HEADER] {
    let mut header = [0u8; TRANSPORT_HEADER];
    header[0] = TRANSPORT;
    header[1..5].copy_from_slice(&receiver.to_le_bytes());
    header[5..].copy_from_slice(&counter.to_le_bytes());
    header
}

fn take_u32(data: &[u8]) -> Result<(u32, &[u8]), WireError> {
    let (head, rest) = data.split_first_chunk::<4>().ok_or(WireError::BadLength)?;
    Ok((u32::from_le_bytes(*head), rest))
}

fn take_u64(data: &[u8]) -> Result<(u64, &[u8]), WireError> {
    let (head, rest) = data.split_first_chunk::<8>().ok_or(WireError::BadLength)?;
    Ok((u64::from_le_bytes(*head), rest))
}

fn exact(noise: &[u8], len: usize) -> Result<(), WireError> {
    if noise.len() == len {
        Ok(())
    } else {
        Err(WireError::BadLength)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::is_classic_datagram;
    use proptest::prelude::*;

    #[test]
    fn lengths_are_those_of_noise_ik() {
        assert_eq!(INITIATION_PAYLOAD_LEN, 73);
        assert_eq!(INITIATION_NOISE_LEN, 169);
        assert_eq!(RESPONSE_NOISE_LEN, 48);
        assert_eq!(MAX_SEALED_PLAINTEXT, 1171);
    }

    #[test]
    fn handshake_messages_have_exact_lengths() {
        let noise = [7u8; INITIATION_NOISE_LEN + 1];
        let good = SealedDatagram::Initiation {
            sender: 1,
            noise: &noise[..INITIATION_NOISE_LEN],
        }
        .to_vec();
        assert_eq!(good.len(), 174);
        assert!(SealedDatagram::parse(&good).is_ok());
        assert_eq!(
            SealedDatagram::parse(&good[..good.len() - 1]),
            Err(WireError::BadLength)
        );
        let mut long = good.clone();
        long.push(0);
        assert_eq!(SealedDatagram::parse(&long), Err(WireError::BadLength));
        let response = SealedDatagram::Response {
            sender: 1,
            receiver: 2,
            noise: &noise[..RESPONSE_NOISE_LEN],
        }
        .to_vec();
        assert_eq!(response.len(), 57);
        assert!(SealedDatagram::parse(&response).is_ok());
        assert_eq!(
            SealedDatagram::parse(&response[..56]),
            Err(WireError::BadLength)
        );
    }

    #[test]
    fn transport_limits() {
        let tag = [0u8; TAG_LEN];
        let smallest = SealedDatagram::Transport {
            receiver: 9,
            counter: 3,
            ciphertext: &tag,
        }
        .to_vec();
        assert_eq!(&smallest[..13], &transport_header(9, 3));
        assert!(SealedDatagram::parse(&smallest).is_ok());
        assert_eq!(
            SealedDatagram::parse(&smallest[..smallest.len() - 1]),
            Err(WireError::BadLength)
        );
        let full = vec![0u8; MAX_SEALED_PLAINTEXT + TAG_LEN];
        let largest = SealedDatagram::Transport {
            receiver: 9,
            counter: 3,
            ciphertext: &full,
        }
        .to_vec();
        assert_eq!(largest.len(), MAX_CHAT_DATAGRAM);
        assert!(SealedDatagram::parse(&largest).is_ok());
        let mut over = largest;
        over.push(0);
        assert_eq!(SealedDatagram::parse(&over), Err(WireError::TooLong));
    }

    #[test]
    fn text_is_never_sealed() {
        assert!(!is_sealed(b""));
        assert!(!is_sealed(b"msg,alice,0000000000000001,1,hi"));
        assert!(!is_sealed("小明".as_bytes()));
        assert_eq!(SealedDatagram::parse(b""), Err(WireError::Empty));
        assert_eq!(
            SealedDatagram::parse(b"\xf4abc"),
            Err(WireError::UnknownMessage)
        );
        // A sealed datagram may look classic by its second byte: ask `is_sealed` first.
        let d = SealedDatagram::Transport {
            receiver: 0x100,
            counter: 0,
            ciphertext: &[0; TAG_LEN],
        }
        .to_vec();
        assert!(is_sealed(&d) && is_classic_datagram(&d));
    }

    fn datagram() -> impl Strategy<Value = Vec<u8>> {
        let bytes = |n| proptest::collection::vec(any::<u8>(), n);
        prop_oneof![
            (
                any::<u32>(),
                bytes(INITIATION_NOISE_LEN..=INITIATION_NOISE_LEN)
            )
                .prop_map(|(sender, noise)| SealedDatagram::Initiation {
                    sender,
                    noise: &noise
                }
                .to_vec()),
            (
                any::<u32>(),
                any::<u32>(),
                bytes(RESPONSE_NOISE_LEN..=RESPONSE_NOISE_LEN)
            )
                .prop_map(|(sender, receiver, noise)| SealedDatagram::Response {
                    sender,
                    receiver,
                    noise: &noise
                }
                .to_vec()),
            (
                any::<u32>(),
                any::<u64>(),
                bytes(TAG_LEN..=MAX_SEALED_PLAINTEXT + TAG_LEN)
            )
                .prop_map(|(receiver, counter, ciphertext)| {
                    SealedDatagram::Transport {
                        receiver,
                        counter,
                        ciphertext: &ciphertext,
                    }
                    .to_vec()
                }),
        ]
    }

    proptest! {
        #[test]
        fn round_trips(bytes in datagram()) {
            prop_assert!(is_sealed(&bytes));
            let parsed = SealedDatagram::parse(&bytes);
            prop_assert!(parsed.is_ok(), "{:?}", parsed);
            prop_assert_eq!(parsed.map(|d| d.to_vec()), Ok(bytes));
        }

        #[test]
        fn parse_is_total(bytes in proptest::collection::vec(any::<u8>(), 0..1300)) {
            if let Ok(d) = SealedDatagram::parse(&bytes) {
                prop_assert!(is_sealed(&bytes));
                prop_assert_eq!(d.to_vec(), bytes);
            }
        }

        #[test]
        fn parse_is_total_near_valid(kind in 0xF4u8..=0xF8, len in 0usize..260) {
            let mut bytes = vec![kind];
            bytes.resize(len + 1, 0xAB);
            let _ = SealedDatagram::parse(&bytes);
        }
    }
}
