//! Two secure layers driven by arbitrary operations: sealing both ways over a network that
//! loses, duplicates and reorders, an attacker that replays, tampers with, truncates and makes up
//! datagrams, sides that forget each other or restart, and time. Invariants: nothing panics,
//! every plaintext opened was sealed by the other side and is opened once, no timer is left due,
//! and a loss-free network at the end carries messages both ways again.

use std::time::Instant;

use arbitrary::{Arbitrary, Unstructured};

use crate::client::secure::chaos::{run, Op};

/// More operations than this say nothing new and only slow the fuzzer down.
const MAX_OPS: usize = 512;

/// Runs the operations in `data` from a clock origin of `start`.
pub fn secure_ops(start: Instant, data: &[u8]) {
    let Ok(mut ops) = Vec::<Op>::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    ops.truncate(MAX_OPS);
    run(start, &ops);
}
