#![no_main]

use std::time::Instant;

// The core reads no clock: the origin comes from here, and only differences matter.
libfuzzer_sys::fuzz_target!(|data: &[u8]| feige_core::fuzzing::secure_ops(Instant::now(), data));
