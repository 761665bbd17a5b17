//! Long-term public keys: how they are written on the wire, their fingerprints, and the safety
//! number two users compare out of band.

use std::fmt;

use blake2::{Blake2s256, Digest};

use super::error::WireError;
use super::name::Name;

/// A user's long-term X25519 public key, written as 64 hexadecimal digits (lower case on the
/// wire, either case accepted).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        PublicKey(bytes)
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses exactly 64 hexadecimal digits.
    pub fn parse(text: &str) -> Result<Self, WireError> {
        let digits = text.as_bytes();
        if digits.len() != 64 {
            return Err(WireError::BadKey);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let high = hex_value(pair[0]).ok_or(WireError::BadKey)?;
            let low = hex_value(pair[1]).ok_or(WireError::BadKey)?;
            *byte = high << 4 | low;
        }
        Ok(PublicKey(bytes))
    }

    /// What a person compares to tell keys apart: 40 hex digits of a hash of the key.
    pub fn fingerprint(&self) -> String {
        let digest = Blake2s256::new()
            .chain_update(b"feige fingerprint v1")
            .chain_update(self.0)
            .finalize();
        hex(&digest[..20])
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// Rounds of hashing behind each half of a safety number: cheap once, costly to search for a
/// key whose number matches someone else's.
const SAFETY_ROUNDS: usize = 5200;

/// The 60-digit number two users compare (read aloud, say) to know that each holds the other's
/// real key: the same on both sides, whoever computes it.
pub fn safety_number(a: (&Name, &PublicKey), b: (&Name, &PublicKey)) -> String {
    let mut halves = [half(a.0, a.1), half(b.0, b.1)];
    halves.sort();
    halves.concat()
}

/// 30 digits for one user: its name and key, hashed [`SAFETY_ROUNDS`] times.
fn half(name: &Name, key: &PublicKey) -> String {
    let mut digest: [u8; 32] = Blake2s256::new()
        .chain_update(b"feige safety number v1")
        .chain_update(key.0)
        .chain_update(name.as_str().as_bytes())
        .finalize()
        .into();
    for _ in 1..SAFETY_ROUNDS {
        digest = Blake2s256::new()
            .chain_update(digest)
            .chain_update(key.0)
            .finalize()
            .into();
    }
    digest
        .chunks_exact(5)
        .take(6)
        .map(|chunk| {
            let value = chunk.iter().fold(0u64, |v, &b| v << 8 | u64::from(b));
            format!("{:05}", value % 100_000)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(byte: u8) -> PublicKey {
        PublicKey([byte; 32])
    }

    #[test]
    fn keys_round_trip_in_either_case() {
        let k = PublicKey::from_bytes(std::array::from_fn(|i| i as u8 * 7));
        let text = k.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(PublicKey::parse(&text), Ok(k));
        assert_eq!(PublicKey::parse(&text.to_uppercase()), Ok(k));
        assert_eq!(PublicKey::parse(&text[..62]), Err(WireError::BadKey));
        assert_eq!(
            PublicKey::parse(&format!("{}zz", &text[..62])),
            Err(WireError::BadKey)
        );
    }

    #[test]
    fn a_safety_number_is_the_same_from_both_sides_and_tells_keys_apart() {
        let (alice, bob) = (Name::new("alice").unwrap(), Name::new("bob").unwrap());
        let ours = safety_number((&alice, &key(1)), (&bob, &key(2)));
        assert_eq!(ours, safety_number((&bob, &key(2)), (&alice, &key(1))));
        assert_eq!(ours.len(), 60);
        assert!(ours.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(ours, safety_number((&alice, &key(1)), (&bob, &key(3))));
        assert_ne!(key(1).fingerprint(), key(2).fingerprint());
        assert_eq!(key(1).fingerprint().len(), 40);
    }

    proptest! {
        #[test]
        fn parse_is_total(text in ".{0,80}") {
            let _ = PublicKey::parse(&text);
        }
    }
}
