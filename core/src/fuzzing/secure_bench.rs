//! The secure layer for its benchmark (`core/benches/secure.rs`): the layer itself is private
//! to the crate, so the benchmark drives it through this pair of sides.

use std::time::Instant;

use crate::client::secure::rig::Rig;

/// Two secure layers that have not met yet, and the network between them.
pub struct SecurePair {
    rig: Rig,
}

impl SecurePair {
    /// Two fresh sides, alice and bob.
    pub fn new(start: Instant) -> Self {
        SecurePair {
            rig: Rig::new(start),
        }
    }

    /// A whole IK handshake, both sides: alice's initiation, bob's response, and alice's first
    /// transport datagram (a keepalive), which confirms the session to bob.
    pub fn handshake(&mut self) {
        let _ = self.rig.seal(0, b"");
        let seen = self.rig.exchange();
        assert!(seen.refused.iter().all(Vec::is_empty), "{:?}", seen.refused);
    }

    /// Alice seals `plaintext` and bob opens it (a handshake first if they have none);
    /// returns the length bob opened.
    pub fn seal_open(&mut self, plaintext: &[u8]) -> usize {
        let _ = self.rig.seal(0, plaintext);
        let seen = self.rig.exchange();
        seen.opened[1].iter().map(Vec::len).sum()
    }
}
