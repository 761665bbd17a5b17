//! A NAT lab: real Linux network namespaces joined by veth pairs, with nftables routers in front
//! of the clients, so the real binaries (`feige`, `feige-smol`) meet the NATs users sit behind.
//!
//! The loopback tests cannot see NATs: on loopback every peer reaches every other. Here each lab
//! is a small internet of its own (see [`topology`]): a server at `203.0.113.10`, and alice and
//! bob each on a [`Site`] with no NAT, a cone NAT, a symmetric NAT or a full-cone NAT (see
//! [`nat`] for the rules of each), optionally losing a share of their UDP. Processes run inside
//! the namespaces with `ip netns exec`, so the binaries are exactly those a user runs.
//!
//! - [`Lab`] builds the network and starts programs in it; dropping it kills every process in
//!   its namespaces and deletes them (a pass and a panic alike; namespaces of a test process that
//!   was killed outright are swept by the next lab, see [`netns`]).
//! - [`probe`] is a plain UDP socket in a namespace (python3), for the self-tests that prove each
//!   NAT kind maps and filters as claimed, without any feige code in the way.
//! - [`exchange`] is the conversation of the matrix (three messages each way, one more to time),
//!   [`program`] keeps every client event with the moment it was read, [`judge`] says whether a
//!   run passed and reads its paths and timings, [`report`] prints tables, and [`pool`] runs a
//!   few labs at once.
//!
//! Requirements: root (namespaces and nftables), `ip` (iproute2), `nft` (nftables) and `sysctl`
//! (procps); the self-tests also need python3. Where any is missing, [`unavailable`] (or
//! [`probe::unavailable`]) says which, and the tests print it and pass without running
//! (`.ci/run` installs the packages). Nothing is configured outside the lab's own namespaces.
//!
//! The suite is `tests/tests/nat.rs`:
//!
//! ```sh
//! cargo test -p feige-tests --test nat                                   # self-tests and matrix
//! cargo test --release -p feige-tests --test nat -- --ignored --nocapture # the measurement
//! ```

pub mod exchange;
pub mod judge;
pub mod nat;
pub mod netns;
pub mod pool;
pub mod probe;
pub mod program;
pub mod report;
pub mod topology;

use crate::proc::runs;

pub use nat::{NatKind, Site};
pub use topology::{Host, Lab};

/// Why no lab can be built here, if none can: not root, or `ip`, `nft` or `sysctl` missing.
pub fn unavailable() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("the NAT lab needs root (network namespaces, nftables)".to_owned());
    }
    if !runs("ip", "-V") {
        return Some("the NAT lab needs `ip` (package iproute2)".to_owned());
    }
    if !runs("nft", "--version") {
        return Some("the NAT lab needs `nft` (package nftables)".to_owned());
    }
    if !runs("sysctl", "kernel.ostype") {
        return Some("the NAT lab needs `sysctl` (package procps)".to_owned());
    }
    None
}
