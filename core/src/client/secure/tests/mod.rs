//! Two secure layers over a hand-driven network ([`Rig`]): handshakes, data, refusals, rekeys,
//! restarts, and a property test under an unreliable network and an attacker.

mod data;
mod handshake;
mod props;
mod rekey;

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::rig::Rig;
use super::{Limits, Refusal, Sealed};

const A: usize = 0;
const B: usize = 1;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn rig() -> Rig {
    Rig::new(Instant::now())
}

fn rig_with(limits: Limits) -> Rig {
    Rig::with_limits(Instant::now(), limits)
}

/// A sends `text` and everything is delivered: B opens exactly `text`.
fn say(rig: &mut Rig, from: usize, text: &str) {
    rig.seal(from, text.as_bytes()).expect("sealable");
    let seen = rig.exchange();
    assert_eq!(seen.opened[1 - from], vec![text.as_bytes().to_vec()]);
    assert!(seen.refused.iter().all(Vec::is_empty), "{:?}", seen.refused);
}

/// A handshake and a message each way.
fn connected() -> Rig {
    let mut rig = rig();
    say(&mut rig, A, "hello");
    say(&mut rig, B, "你好");
    rig
}

/// Opens `datagram` at `side`; the plaintext, or the refusal.
fn open(rig: &mut Rig, side: usize, datagram: &Bytes) -> Result<Vec<u8>, Refusal> {
    rig.open(side, datagram)
        .map(|o| o.map(|o| o.plaintext).unwrap_or_default())
}

/// Seals one message that must go out at once, and returns its datagram (not delivered).
fn sealed_now(rig: &mut Rig, from: usize, text: &str) -> Bytes {
    assert_eq!(rig.seal(from, text.as_bytes()), Ok(Sealed::Sent));
    let mut sent = rig.sent(from);
    assert_eq!(sent.len(), 1, "one transport datagram");
    sent.remove(0)
}
