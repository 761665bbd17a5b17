#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| feige_core::fuzzing::server_datagram(data));
