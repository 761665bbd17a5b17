//! What a client brings to the secure layer from outside: its long-term key pair, and the wall
//! clock that stamps its handshakes.

use std::fmt;
use std::time::Instant;

use snow::params::DHChoice;
use snow::resolvers::{CryptoResolver, DefaultResolver};

use crate::wire::PublicKey;

/// A user's long-term X25519 key pair. `Debug` shows only the public half.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKeys {
    private: [u8; 32],
    public: PublicKey,
}

impl StaticKeys {
    /// The key pair of a private key (any 32 bytes: X25519 clamps them).
    pub fn from_private(private: [u8; 32]) -> Self {
        let mut dh = DefaultResolver
            .resolve_dh(&DHChoice::Curve25519)
            // Built in: the core enables snow's `use-curve25519`.
            .expect("snow provides X25519");
        dh.set(&private);
        let mut public = [0; 32];
        public.copy_from_slice(dh.pubkey());
        StaticKeys {
            private,
            public: PublicKey::from_bytes(public),
        }
    }

    /// The public key, as the directory lists it.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// The private key, to store it.
    pub fn private(&self) -> &[u8; 32] {
        &self.private
    }
}

impl fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticKeys")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The wall clock as the driver read it at `at`. The core reads no clock: it derives the wall
/// time of any later `now` as `unix_ms + (now − at)`, which keeps a simulated run deterministic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    /// Milliseconds since the Unix epoch at `at`.
    pub unix_ms: u64,
    /// When the driver read it.
    pub at: Instant,
}

impl WallClock {
    /// Milliseconds since the Unix epoch at `now` (never before `unix_ms`).
    pub(crate) fn unix_ms_at(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.at).as_millis();
        self.unix_ms
            .saturating_add(u64::try_from(since).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_public_key_is_x25519_of_the_private_one_and_debug_hides_the_private() {
        // RFC 7748, section 6.1: Alice's key pair.
        let private: [u8; 32] = std::array::from_fn(|i| {
            let hex = b"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
            let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1])
        });
        let keys = StaticKeys::from_private(private);
        assert_eq!(
            keys.public().to_string(),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
        );
        assert_eq!(keys.private(), &private);
        let shown = format!("{keys:?}");
        assert!(shown.contains("8520f009") && !shown.contains("77076d0a"));
    }

    #[test]
    fn wall_time_follows_the_instant() {
        let at = Instant::now();
        let clock = WallClock { unix_ms: 1_000, at };
        assert_eq!(clock.unix_ms_at(at + Duration::from_millis(250)), 1_250);
        assert_eq!(clock.unix_ms_at(at), 1_000);
    }
}
