//! The user's long-term key pair: who a client is to its peers, whatever address it has.

use std::fmt;

use snow::params::DHChoice;
use snow::resolvers::{CryptoResolver, DefaultResolver};

use crate::wire::PublicKey;

/// A long-term X25519 key pair. The private half is created and stored by the application (with
/// randomness of its own); the core only uses it.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKeys {
    private: [u8; 32],
    public: PublicKey,
}

impl StaticKeys {
    /// The pair of a private key (any 32 bytes: X25519 clamps them).
    pub fn from_private(private: [u8; 32]) -> Self {
        let public = DefaultResolver
            .resolve_dh(&DHChoice::Curve25519)
            .map(|mut dh| {
                dh.set(&private);
                let mut public = [0u8; 32];
                public.copy_from_slice(dh.pubkey());
                public
            })
            .unwrap_or_default();
        StaticKeys {
            private,
            public: PublicKey::from_bytes(public),
        }
    }

    /// The private key, for the Noise handshake.
    pub fn private(&self) -> &[u8; 32] {
        &self.private
    }

    /// The public key, as the directory lists it.
    pub fn public(&self) -> PublicKey {
        self.public
    }
}

/// Never prints the private key.
impl fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StaticKeys {{ public: {} }}", self.public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_key_is_derived_and_the_private_one_never_shown() {
        let a = StaticKeys::from_private([1; 32]);
        assert_eq!(a, StaticKeys::from_private([1; 32]));
        assert_ne!(a.public(), StaticKeys::from_private([2; 32]).public());
        assert_ne!(a.public().as_bytes(), &[0; 32]);
        assert!(!format!("{a:?}").contains(&"01".repeat(32)));
    }
}
