//! The simulator's NAT lab: two users behind home routers ([`router`]: none, cone, symmetric,
//! full cone), a server on the public side, a network that loses datagrams, and the checks of
//! [`check`]: alice writes first, bob answers, everything arrives once and in order, by the
//! direct path where the routers allow one and through the relay where they do not.

pub mod check;
pub mod router;
pub mod world;

pub use router::NatKind;

/// Runs one pair from `seed` and returns what it broke.
pub fn run_pair(seed: u64, kinds: [NatKind; 2], loss: f64) -> Vec<String> {
    let run = world::run(seed, kinds, loss);
    check::check(&run, loss == 0.0)
        .into_iter()
        .map(|finding| format!("seed {seed}, loss {loss}: {finding}"))
        .collect()
}
