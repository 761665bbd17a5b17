//! A deterministic simulator of a whole feige network, driven by one seed.
//!
//! One [`Server`](feige_core::server::Server) and many [`Client`](feige_core::client::Client)s run
//! in a single thread on virtual time. Because the cores are sans-IO, the simulator *is* their
//! transport: it hands every datagram and TCP chunk to the receiving machine, drains every output
//! after every input (the drain contract), and wakes each machine at its `poll_timeout`.
//!
//! A run, from its seed:
//! 1. **Storm.** Users log in, chat, crash (silently, or with the OS sending a FIN), log out, have
//!    their TCP connection cut, and come back under the same name at the same or another endpoint;
//!    sometimes two clients claim one name at once. Datagrams are lost, duplicated, delayed and
//!    reordered; TCP streams are split into random chunks and delayed; connection attempts fail.
//!    A forger sniffs the network and sends messages, acks, logouts, `Accept`/`Reject` answers and
//!    TCP claims in other users' names; from hosts it shares with users it sends textbook (classic)
//!    logins declaring their endpoints and opens silent connections, and from a network of its own
//!    it floods logins and connections — all under server limits cut so that it reaches them.
//! 2. **Calm.** Faults stop. Timers run past the idle timeout, so everything left by a crash is
//!    cleaned up; the forger logs out the textbook users it registered.
//! 3. **Final logins and chat.** Every user with no client left starts one, and everyone chats on
//!    the perfect network: all of it must get through.
//! 4. **Check.** The invariants of [`check`] are evaluated over what the run recorded.
//!
//! The pieces:
//! - [`agenda`]: virtual time and the event queue, ordered by (time, sequence);
//! - [`net`] and [`tcp`]: the network model; [`addresses`]: who is where;
//! - [`node`]: the processes around the machines; [`world`]: the loop that drives them;
//! - [`scenario`]: the generator of users, fates and chat; [`attacker`]: the forger;
//! - [`journal`]: what was observed; [`check`]: the invariant checker;
//! - [`nat`]: a second, smaller world — two users behind home routers of every kind — for
//!   paths across NATs.
//!
//! A failing run panics with its seed. `FEIGE_SIM_SEED=<n>` (with `FEIGE_SIM_PARAMS=<setting>`)
//! replays that seed exactly, and `FEIGE_SIM_TRACE=1` prints every step of it.

pub mod addresses;
pub mod agenda;
pub mod attacker;
pub mod check;
pub mod cluster;
pub mod dice;
pub mod event;
pub mod identity;
pub mod journal;
pub mod keyview;
pub mod nat;
pub mod net;
pub mod node;
pub mod params;
pub mod scenario;
pub mod store;
pub mod tcp;
pub mod watch;
pub mod world;

use std::collections::BTreeMap;

use feige_core::client::{ClientEvent, ClientStats};

pub use params::Params;
use world::World;

/// The outcome of one seed.
#[derive(Debug, Clone)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// The setting's name.
    pub params: &'static str,
    /// Users (names).
    pub users: usize,
    /// Clients started (incarnations).
    pub incarnations: usize,
    /// Messages accepted by `send_message`.
    pub messages: usize,
    /// `delivered` events.
    pub delivered: usize,
    /// `failed` events.
    pub failed: usize,
    /// `message` events (shows).
    pub shown: usize,
    /// Steps simulated (datagrams, chunks, events, acts).
    pub steps: u64,
    /// Sealed datagrams the clients sent: initiations, responses, transports.
    pub sealed: [u64; 3],
    /// What all clients dropped and refused, summed.
    pub dropped: ClientStats,
    /// The forger's moves, by kind.
    pub moves: BTreeMap<&'static str, u64>,
    /// A hash of the whole trace: equal for equal seeds.
    pub trace_hash: u64,
    /// Broken invariants, one sentence each.
    pub violations: Vec<String>,
}

impl Report {
    /// Panics, naming the seed and how to replay it, if any invariant broke.
    pub fn assert_clean(&self) {
        if self.violations.is_empty() {
            return;
        }
        let shown: Vec<&str> = self
            .violations
            .iter()
            .take(25)
            .map(String::as_str)
            .collect();
        panic!(
            "simulation seed {seed} ({params}) broke {n} invariant(s); replay with \
             FEIGE_SIM_SEED={seed} FEIGE_SIM_PARAMS={params} FEIGE_SIM_TRACE=1 \
             cargo test -p feige-tests --test sim -- replay --nocapture\n  {}",
            shown.join("\n  "),
            seed = self.seed,
            params = self.params,
            n = self.violations.len(),
        );
    }
}

/// Runs one seed and checks it.
pub fn run(seed: u64, params: &Params) -> Report {
    run_traced(seed, params, false)
}

/// Runs one seed and checks it; with `verbose`, prints every step to stderr.
pub fn run_traced(seed: u64, params: &Params, verbose: bool) -> Report {
    let mut world = World::new(seed, params, verbose);
    world.run();
    let violations = check::check(&world);
    let events = world.journal.client_log.iter().flatten();
    let count = |f: fn(&ClientEvent) -> bool| events.clone().filter(|s| f(&s.event)).count();
    Report {
        seed,
        params: params.name,
        users: world.scenario.names.len(),
        incarnations: world.clients.len(),
        messages: world.journal.chats.len(),
        delivered: count(|e| matches!(e, ClientEvent::Delivered { .. })),
        failed: count(|e| matches!(e, ClientEvent::Failed { .. })),
        shown: count(|e| matches!(e, ClientEvent::Message { .. })),
        steps: world.journal.steps,
        sealed: world.journal.sealed,
        dropped: world
            .clients
            .iter()
            .fold(ClientStats::default(), |sum, node| {
                add_stats(sum, node.machine.stats())
            }),
        moves: world.attacker_tally().clone(),
        trace_hash: world.journal.trace_hash(),
        violations,
    }
}

/// Two sets of counters, added.
pub fn add_stats(a: ClientStats, b: ClientStats) -> ClientStats {
    ClientStats {
        malformed: a.malformed + b.malformed,
        unknown_sender: a.unknown_sender + b.unknown_sender,
        wrong_source: a.wrong_source + b.wrong_source,
        duplicates: a.duplicates + b.duplicates,
        stray_acks: a.stray_acks + b.stray_acks,
        unsealed: a.unsealed + b.unsealed,
        unauthenticated: a.unauthenticated + b.unauthenticated,
        replayed: a.replayed + b.replayed,
        untrusted: a.untrusted + b.untrusted,
        stale: a.stale + b.stale,
        wrong_sender: a.wrong_sender + b.wrong_sender,
    }
}
