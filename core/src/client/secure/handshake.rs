//! The Noise IK handshake with snow: who says what, and the initiation's payload.
//!
//! The initiator knows the responder's static key from the directory; message 1 carries the
//! initiator's static key (encrypted) and a payload naming it and stamping the time, message 2
//! carries nothing but the responder's ephemeral key and a tag. Each side then splits the
//! handshake into a stateless transport, whose nonces are the counters on the wire.

use snow::params::NoiseParams;
use snow::{Builder, HandshakeState, StatelessTransportState};

use super::keys::StaticKeys;
use super::rng::resolver;
use crate::wire::{
    Name, PublicKey, INITIATION_NOISE_LEN, INITIATION_PAYLOAD_LEN, MAX_NAME_BYTES,
    RESPONSE_NOISE_LEN,
};

const PATTERN: &str = "Noise_IK_25519_ChaChaPoly_BLAKE2s";

/// Binds every handshake to feige's use of it, so it is useless in any other protocol.
const PROLOGUE: &[u8] = b"feige sealed v1";

/// The Noise protocol feige speaks.
pub(super) fn params() -> NoiseParams {
    // A fixed, valid name: tested below.
    PATTERN.parse().expect("a valid Noise protocol name")
}

/// What the initiator says about itself in message 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hello {
    /// The user the initiator claims to be; the responder checks its key against the directory.
    pub(super) name: Name,
    /// Milliseconds since the Unix epoch: must grow from one accepted initiation to the next,
    /// so a replayed initiation is refused.
    pub(super) timestamp: u64,
}

impl Hello {
    /// Length byte, the name zero-padded to [`MAX_NAME_BYTES`], timestamp (u64 LE).
    fn encode(&self) -> [u8; INITIATION_PAYLOAD_LEN] {
        let mut out = [0u8; INITIATION_PAYLOAD_LEN];
        let name = self.name.as_bytes();
        // A valid name is 1..=64 bytes.
        out[0] = name.len() as u8;
        out[1..1 + name.len()].copy_from_slice(name);
        out[1 + MAX_NAME_BYTES..].copy_from_slice(&self.timestamp.to_le_bytes());
        out
    }

    /// `None` for anything [`encode`](Self::encode) never writes.
    fn parse(payload: &[u8]) -> Option<Hello> {
        if payload.len() != INITIATION_PAYLOAD_LEN {
            return None;
        }
        let len = usize::from(payload[0]);
        let padded = &payload[1..1 + MAX_NAME_BYTES];
        if len > MAX_NAME_BYTES || padded[len..].iter().any(|&b| b != 0) {
            return None;
        }
        let name = Name::new(std::str::from_utf8(&padded[..len]).ok()?).ok()?;
        let (_, stamp) = payload.split_at(1 + MAX_NAME_BYTES);
        let timestamp = u64::from_le_bytes(stamp.try_into().ok()?);
        Some(Hello { name, timestamp })
    }
}

/// Why an initiation could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadError {
    /// Noise refused it: not for our key, or tampered with.
    Noise,
    /// Authentic, but its payload is not a [`Hello`].
    Payload,
}

/// Starts a handshake with `remote`: the state that waits for message 2, and message 1.
pub(super) fn initiate(
    params: &NoiseParams,
    keys: &StaticKeys,
    remote: &PublicKey,
    seed: [u8; 32],
    hello: &Hello,
) -> Result<(HandshakeState, [u8; INITIATION_NOISE_LEN]), snow::Error> {
    let mut state = Builder::with_resolver(params.clone(), resolver(seed))
        .prologue(PROLOGUE)?
        .local_private_key(keys.private())?
        .remote_public_key(remote.as_bytes())?
        .build_initiator()?;
    let mut message = [0u8; INITIATION_NOISE_LEN];
    let written = state.write_message(&hello.encode(), &mut message)?;
    if written != INITIATION_NOISE_LEN {
        return Err(snow::Error::Input);
    }
    Ok((state, message))
}

/// Reads message 1: the state ready to answer, the initiator's static key and its payload.
pub(super) fn read_initiation(
    params: &NoiseParams,
    keys: &StaticKeys,
    seed: [u8; 32],
    message: &[u8],
) -> Result<(HandshakeState, PublicKey, Hello), ReadError> {
    let mut state = Builder::with_resolver(params.clone(), resolver(seed))
        .prologue(PROLOGUE)
        .and_then(|b| b.local_private_key(keys.private()))
        .and_then(|b| b.build_responder())
        .map_err(|_| ReadError::Noise)?;
    let mut payload = [0u8; INITIATION_NOISE_LEN];
    let len = state
        .read_message(message, &mut payload)
        .map_err(|_| ReadError::Noise)?;
    let remote = state
        .get_remote_static()
        .and_then(|key| <[u8; 32]>::try_from(key).ok())
        .map(PublicKey::from_bytes)
        .ok_or(ReadError::Noise)?;
    let hello = Hello::parse(&payload[..len]).ok_or(ReadError::Payload)?;
    Ok((state, remote, hello))
}

/// Writes message 2 and splits: the responder's transport.
pub(super) fn respond(
    mut state: HandshakeState,
) -> Result<(StatelessTransportState, [u8; RESPONSE_NOISE_LEN]), snow::Error> {
    let mut message = [0u8; RESPONSE_NOISE_LEN];
    let written = state.write_message(&[], &mut message)?;
    if written != RESPONSE_NOISE_LEN {
        return Err(snow::Error::Input);
    }
    Ok((state.into_stateless_transport_mode()?, message))
}

/// Reads message 2 into the initiator's state. On an error the state is as it was (snow
/// restores it), so a forged response does not spoil the handshake.
pub(super) fn read_response(state: &mut HandshakeState, message: &[u8]) -> Result<(), snow::Error> {
    let mut payload = [0u8; RESPONSE_NOISE_LEN];
    state.read_message(message, &mut payload).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(name: &str) -> Hello {
        Hello {
            name: Name::new(name).unwrap(),
            timestamp: 0x0102_0304_0506_0708,
        }
    }

    #[test]
    fn the_pattern_parses() {
        assert_eq!(params().name, PATTERN);
    }

    #[test]
    fn hello_round_trips_and_rejects_what_it_never_writes() {
        for name in ["a", "小明", &"😀".repeat(16)] {
            let h = hello(name);
            assert_eq!(Hello::parse(&h.encode()), Some(h));
        }
        let good = hello("bob").encode();
        let mut bad = good;
        bad[0] = 0;
        assert_eq!(Hello::parse(&bad), None, "empty name");
        let mut bad = good;
        bad[10] = 1;
        assert_eq!(Hello::parse(&bad), None, "padding not zero");
        let mut bad = good;
        bad[0] = 65;
        assert_eq!(Hello::parse(&bad), None, "longer than a name");
        let mut bad = good;
        bad[1] = b',';
        assert_eq!(Hello::parse(&bad), None, "not a valid name");
        assert_eq!(Hello::parse(&good[1..]), None);
    }

    #[test]
    fn a_handshake_gives_matching_transports() {
        let params = params();
        let alice = StaticKeys::from_private([1; 32]);
        let bob = StaticKeys::from_private([2; 32]);
        let (mut initiator, m1) =
            initiate(&params, &alice, &bob.public(), [3; 32], &hello("alice")).unwrap();
        let (responder, key, said) = read_initiation(&params, &bob, [4; 32], &m1).unwrap();
        assert_eq!((key, said), (alice.public(), hello("alice")));
        let (bob_transport, m2) = respond(responder).unwrap();
        let mut forged = m2;
        forged[40] ^= 1;
        assert!(read_response(&mut initiator, &forged).is_err());
        read_response(&mut initiator, &m2).unwrap();
        let alice_transport = initiator.into_stateless_transport_mode().unwrap();
        let mut sealed = [0u8; 21];
        alice_transport
            .write_message(7, b"hello", &mut sealed)
            .unwrap();
        let mut opened = [0u8; 21];
        let n = bob_transport.read_message(7, &sealed, &mut opened).unwrap();
        assert_eq!(&opened[..n], b"hello");
        // Another responder key cannot read message 1.
        let eve = StaticKeys::from_private([5; 32]);
        assert_eq!(
            read_initiation(&params, &eve, [4; 32], &m1).err(),
            Some(ReadError::Noise)
        );
    }
}
