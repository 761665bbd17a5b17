//! Fuzz bodies: one function per cargo-fuzz target in `fuzz/fuzz_targets/`.
//!
//! They live in the core, behind the `fuzzing` feature, so the same code runs under libFuzzer
//! (`cargo fuzz run <target> -- --sanitizer none`) and, on stable, in the replay test that feeds
//! every committed seed and regression input through it (`tests/tests/fuzz_replay.rs`). Each
//! body panics exactly when it finds a bug: a parser that panics or does not round-trip, or a
//! state machine that breaks one of its invariants.
//!
//! The state-machine bodies take the clock origin as an argument, because the core reads no
//! clock; only time differences matter to them, so any origin replays the same run.

mod classic;
mod client_keys;
mod client_model;
mod client_ops;
mod client_peers;
mod command;
mod line_decoder;
mod parsers;
mod pools;
mod roundtrip;
mod sealed;
mod secure_bench;
mod secure_ops;
mod server_model;
mod server_ops;
mod snapshot;

pub use classic::classic;
pub use client_ops::client_ops;
pub use command::command;
pub use line_decoder::line_decoder;
pub use parsers::{client_datagram, client_line, peer_datagram, server_datagram, server_line};
pub use roundtrip::roundtrip;
pub use sealed::sealed;
pub use secure_bench::SecurePair;
pub use secure_ops::secure_ops;
pub use server_ops::server_ops;
pub use snapshot::snapshot;
