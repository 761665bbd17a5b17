//! Deterministic randomness for Noise: a BLAKE2s counter-mode generator over a seed the driver
//! supplies, so the core never reads the OS and the simulator replays a run exactly.

use std::fmt;

use blake2::{Blake2s256, Digest};
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{BoxedCryptoResolver, CryptoResolver, DefaultResolver, FallbackResolver};
use snow::types::{Cipher, Dh, Hash, Random};

/// Block `i` is BLAKE2s(domain ‖ seed ‖ i). Anyone who knows the seed knows every ephemeral key
/// drawn from it, so the seed must be secret and fresh for every process.
pub(crate) struct SeededRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    /// Bytes of `block` already handed out.
    used: usize,
}

impl SeededRng {
    /// A generator for another use than Noise's, whose output reveals nothing of the streams
    /// other uses draw from the same seed.
    pub(crate) fn for_use(seed: [u8; 32], domain: &[u8]) -> Self {
        let derived: [u8; 32] = Blake2s256::new()
            .chain_update(b"feige rng use")
            .chain_update(domain)
            .chain_update(seed)
            .finalize()
            .into();
        SeededRng::new(derived)
    }

    pub(crate) fn new(seed: [u8; 32]) -> Self {
        SeededRng {
            seed,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    pub(super) fn fill(&mut self, dest: &mut [u8]) {
        for byte in dest {
            if self.used == self.block.len() {
                self.refill();
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        let mut bytes = [0; 4];
        self.fill(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    /// A seed for a child generator: each handshake gets its own stream.
    pub(super) fn next_seed(&mut self) -> [u8; 32] {
        let mut seed = [0; 32];
        self.fill(&mut seed);
        seed
    }

    fn refill(&mut self) {
        self.block = Blake2s256::new()
            .chain_update(b"feige rng v1")
            .chain_update(self.seed)
            .chain_update(self.counter.to_le_bytes())
            .finalize()
            .into();
        // 2^64 blocks are never drawn; wrapping only keeps this total.
        self.counter = self.counter.wrapping_add(1);
        self.used = 0;
    }
}

impl Random for SeededRng {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        self.fill(dest);
        Ok(())
    }
}

/// The seed is a secret: it never appears in logs.
impl fmt::Debug for SeededRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeededRng")
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

/// Supplies only the generator; snow's own primitives do the rest.
struct SeededResolver([u8; 32]);

impl CryptoResolver for SeededResolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(SeededRng::new(self.0)))
    }

    fn resolve_dh(&self, _: &DHChoice) -> Option<Box<dyn Dh>> {
        None
    }

    fn resolve_hash(&self, _: &HashChoice) -> Option<Box<dyn Hash>> {
        None
    }

    fn resolve_cipher(&self, _: &CipherChoice) -> Option<Box<dyn Cipher>> {
        None
    }
}

/// A resolver for one handshake: randomness from `seed`, X25519, ChaCha20-Poly1305 and BLAKE2s
/// from snow.
pub(super) fn resolver(seed: [u8; 32]) -> BoxedCryptoResolver {
    Box::new(FallbackResolver::new(
        Box::new(SeededResolver(seed)),
        Box::new(DefaultResolver),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_chunking_does_not_matter() {
        let mut a = SeededRng::new([1; 32]);
        let mut b = SeededRng::new([1; 32]);
        let mut whole = [0u8; 100];
        a.fill(&mut whole);
        let mut parts = [0u8; 100];
        for chunk in parts.chunks_mut(7) {
            b.fill(chunk);
        }
        assert_eq!(whole, parts);
        let mut other = [0u8; 100];
        SeededRng::new([2; 32]).fill(&mut other);
        assert_ne!(whole, other);
        assert!(!format!("{a:?}").contains("seed"));
    }
}
