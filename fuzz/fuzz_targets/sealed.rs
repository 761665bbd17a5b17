#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| feige_core::fuzzing::sealed(data));
