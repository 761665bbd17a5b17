//! Sealed datagrams made by hand, as anyone can from `docs/protocol.md` (8.1) and snow: the
//! core's secure layer is private, and the forger must not borrow it anyway.
//!
//! `Noise_IK_25519_ChaChaPoly_BLAKE2s`, prologue `feige sealed v1`; message 1 carries the
//! initiator's name (a length byte, the name zero-padded to 64 bytes) and its timestamp (u64 LE);
//! framing: `F5 · sender u32 · message 1`, `F6 · sender · receiver · message 2`,
//! `F7 · receiver u32 · counter u64 · ciphertext`.

use bytes::Bytes;
use feige_core::client::StaticKeys;
use feige_core::wire::{Name, PublicKey, SealedDatagram, INITIATION_NOISE_LEN, MAX_NAME_BYTES};
use rand::rngs::ChaCha8Rng;
use rand::{Rng, SeedableRng};
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{BoxedCryptoResolver, CryptoResolver, DefaultResolver, FallbackResolver};
use snow::types::{Cipher, Dh, Hash, Random};
use snow::{Builder, HandshakeState, StatelessTransportState};

const PATTERN: &str = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
const PROLOGUE: &[u8] = b"feige sealed v1";
const TAG_LEN: usize = 16;

/// A handshake the forger started: it waits for the response to `index`.
pub struct Initiated {
    /// The forger's index for it (the response's receiver).
    pub index: u32,
    /// The snow state waiting for message 2.
    pub state: HandshakeState,
    /// The initiation datagram.
    pub datagram: Bytes,
}

impl std::fmt::Debug for Initiated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Initiated")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// An initiation from `keys` to the holder of `remote`, claiming to be `name` at `timestamp`;
/// `seed` draws the ephemeral key, so a run replays exactly.
pub fn initiate(
    keys: &StaticKeys,
    remote: &PublicKey,
    name: &Name,
    timestamp: u64,
    index: u32,
    seed: [u8; 32],
) -> Initiated {
    let mut state = Builder::with_resolver(params(), resolver(seed))
        .prologue(PROLOGUE)
        .and_then(|b| b.local_private_key(keys.private()))
        .and_then(|b| b.remote_public_key(remote.as_bytes()))
        .and_then(|b| b.build_initiator())
        .expect("simulator bug: snow refuses an IK initiator");
    let mut payload = [0u8; 1 + MAX_NAME_BYTES + 8];
    let bytes = name.as_bytes();
    payload[0] = u8::try_from(bytes.len()).expect("a name is at most 64 bytes");
    payload[1..=bytes.len()].copy_from_slice(bytes);
    payload[1 + MAX_NAME_BYTES..].copy_from_slice(&timestamp.to_le_bytes());
    let mut noise = [0u8; INITIATION_NOISE_LEN];
    let written = state
        .write_message(&payload, &mut noise)
        .expect("simulator bug: snow cannot write message 1");
    assert_eq!(
        written, INITIATION_NOISE_LEN,
        "simulator bug: message 1 length"
    );
    let datagram = SealedDatagram::Initiation {
        sender: index,
        noise: &noise,
    }
    .to_vec();
    Initiated {
        index,
        state,
        datagram: Bytes::from(datagram),
    }
}

/// Message 2 for our handshake: its transport (`None` if the response does not verify).
pub fn complete(mut initiated: Initiated, noise: &[u8]) -> Option<StatelessTransportState> {
    let mut payload = [0u8; 64];
    initiated.state.read_message(noise, &mut payload).ok()?;
    initiated.state.into_stateless_transport_mode().ok()
}

/// A transport datagram for the responder's `receiver` index at `counter`.
pub fn seal(
    transport: &StatelessTransportState,
    receiver: u32,
    counter: u64,
    plaintext: &[u8],
) -> Bytes {
    let mut ciphertext = vec![0u8; plaintext.len() + TAG_LEN];
    let written = transport
        .write_message(counter, plaintext, &mut ciphertext)
        .expect("simulator bug: snow cannot seal");
    ciphertext.truncate(written);
    let datagram = SealedDatagram::Transport {
        receiver,
        counter,
        ciphertext: &ciphertext,
    }
    .to_vec();
    Bytes::from(datagram)
}

fn params() -> snow::params::NoiseParams {
    PATTERN.parse().expect("a valid Noise protocol name")
}

/// Randomness from the forger's dice; snow's own primitives for the rest.
fn resolver(seed: [u8; 32]) -> BoxedCryptoResolver {
    Box::new(FallbackResolver::new(
        Box::new(Seeded(seed)),
        Box::new(DefaultResolver),
    ))
}

struct Seeded([u8; 32]);

struct SeededRandom(ChaCha8Rng);

impl Random for SeededRandom {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoResolver for Seeded {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(SeededRandom(ChaCha8Rng::from_seed(self.0))))
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

/// The plaintext of a transport datagram the responder sealed for us at `counter` (`None` if
/// it does not verify).
pub fn open(
    transport: &StatelessTransportState,
    counter: u64,
    ciphertext: &[u8],
) -> Option<Vec<u8>> {
    let mut plaintext = vec![0u8; ciphertext.len()];
    let len = transport
        .read_message(counter, ciphertext, &mut plaintext)
        .ok()?;
    plaintext.truncate(len);
    Some(plaintext)
}
