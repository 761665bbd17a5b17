//! The deterministic network simulator (`feige_tests::sim`) over many seeds.
//!
//! - `FEIGE_SIM_BASE=<n>`: first seed of the seed ranges (default 0);
//! - `FEIGE_SIM_SEED=<n>`: the `replay` test runs that one seed (`FEIGE_SIM_PARAMS=crowd`: with
//!   200 users; `FEIGE_SIM_TRACE=1`: printing every step);
//! - `FEIGE_SIM_SEEDS=<n>`: how many seeds the ignored `soak` runs (default 100,000);
//! - `FEIGE_SIM_CROWD_SEEDS=<n>`: how many 200-user seeds run (default 1).

use std::env;
use std::time::Instant;

use feige_tests::sim::{run, run_traced, Params, Report};

/// Seeds run by the plain `cargo test`, split over several tests so they run in parallel.
const SEEDS: u64 = 500;
const SHARDS: u64 = 4;

fn env_u64(key: &str) -> Option<u64> {
    env::var(key).ok().and_then(|v| v.trim().parse().ok())
}

fn base() -> u64 {
    env_u64("FEIGE_SIM_BASE").unwrap_or(0)
}

/// Runs `seeds`, then fails with the first failing seed's findings and the list of all failing
/// seeds. Returns the reports for further checks.
fn run_all(seeds: impl Iterator<Item = u64>, params: &Params) -> Vec<Report> {
    let reports: Vec<Report> = seeds.map(|seed| run(seed, params)).collect();
    let failing: Vec<&Report> = reports
        .iter()
        .filter(|r| !r.violations.is_empty())
        .collect();
    if let Some(first) = failing.first() {
        let seeds: Vec<u64> = failing.iter().map(|r| r.seed).collect();
        eprintln!("failing seeds ({}): {seeds:?}", seeds.len());
        first.assert_clean();
    }
    reports
}

/// One shard of the many-seeds run; also proves the storm really exercised the machines.
fn shard(index: u64) {
    let per = SEEDS / SHARDS;
    let start = base() + index * per;
    let reports = run_all(start..start + per, &Params::small());
    let total = |f: fn(&Report) -> usize| reports.iter().map(f).sum::<usize>();
    let users = total(|r| r.users);
    assert!(total(|r| r.incarnations) > users, "no one ever came back");
    assert!(total(|r| r.delivered) > 0, "no message was ever delivered");
    assert!(
        total(|r| r.failed) > 0,
        "no message ever failed: the storm is too mild"
    );
    assert!(total(|r| r.shown) > 0, "no message was ever shown");
}

#[test]
fn seeds_shard_0() {
    shard(0);
}

#[test]
fn seeds_shard_1() {
    shard(1);
}

#[test]
fn seeds_shard_2() {
    shard(2);
}

#[test]
fn seeds_shard_3() {
    shard(3);
}

/// Two hundred users: one seed here (a broadcast reaches everyone, so a run costs about as much
/// as a hundred small ones); more with `FEIGE_SIM_CROWD_SEEDS`.
#[test]
fn crowd_of_200_users() {
    let start = base();
    let count = env_u64("FEIGE_SIM_CROWD_SEEDS").unwrap_or(1);
    let reports = run_all(start..start + count, &Params::crowd());
    assert!(reports.iter().all(|r| r.users == 200 && r.delivered > 0));
}

#[test]
fn a_seed_replays_to_the_same_trace() {
    let params = Params::small();
    let first = run(7, &params);
    let again = run(7, &params);
    assert_eq!(first.trace_hash, again.trace_hash);
    assert_eq!(first.steps, again.steps);
    assert!(first.messages > 0, "seed 7 sent no message");
    let other = run(8, &params);
    assert_ne!(first.trace_hash, other.trace_hash);
}

/// Forged source addresses gain the forger nothing: sealed chat believes keys, not addresses,
/// so every invariant holds while it sends from its victims' very endpoints.
#[test]
fn a_forger_that_spoofs_addresses_breaks_nothing() {
    let reports = run_all(0..20, &Params::spoofed());
    let spoofed: u64 = reports.iter().map(|r| r.moves.values().sum::<u64>()).sum();
    assert!(spoofed > 0, "the forger never moved");
}

/// A forger with a user's private key can do what that user can, which no protocol stops: the
/// checker must say so, proving its impersonation checks are live.
#[test]
fn the_checker_catches_a_forger_with_a_stolen_key() {
    let reports: Vec<Report> = (0..20).map(|seed| run(seed, &Params::stolen())).collect();
    let findings: Vec<&String> = reports.iter().flat_map(|r| &r.violations).collect();
    assert!(
        findings.iter().any(|f| f.contains("no one sent it")),
        "no forged message was noticed: {findings:?}"
    );
    assert!(
        findings.iter().any(|f| f.contains("forged ack believed")),
        "no forged ack was noticed: {findings:?}"
    );
}

/// Replays `FEIGE_SIM_SEED` (default 0) in setting `FEIGE_SIM_PARAMS` (default `small`),
/// optionally traced.
#[test]
fn replay() {
    let seed = env_u64("FEIGE_SIM_SEED").unwrap_or(0);
    let name = env::var("FEIGE_SIM_PARAMS").unwrap_or_else(|_| "small".to_string());
    let params = Params::by_name(&name).unwrap_or_else(|| {
        panic!("FEIGE_SIM_PARAMS={name:?}: not small, spoofed, stolen or crowd")
    });
    let verbose = env::var_os("FEIGE_SIM_TRACE").is_some();
    let report = run_traced(seed, &params, verbose);
    eprintln!(
        "seed {seed}: {} users, {} clients, {} messages ({} delivered, {} failed, {} shown), \
         {} steps, sealed datagrams sent {:?} (initiations, responses, transports)",
        report.users,
        report.incarnations,
        report.messages,
        report.delivered,
        report.failed,
        report.shown,
        report.steps,
        report.sealed
    );
    eprintln!("  clients dropped {:?}", report.dropped);
    eprintln!("  the forger's moves {:?}", report.moves);
    report.assert_clean();
}

#[test]
#[ignore = "soak: 100,000 seeds; run with --ignored (FEIGE_SIM_SEEDS to choose how many)"]
fn soak() {
    let count = env_u64("FEIGE_SIM_SEEDS").unwrap_or(100_000);
    let start = base();
    let params = Params::small();
    let began = Instant::now();
    let mut failing = Vec::new();
    for seed in start..start + count {
        let report = run(seed, &params);
        if !report.violations.is_empty() {
            eprintln!("seed {seed}: {}", report.violations.join("\n  "));
            failing.push(seed);
        }
        let done = seed - start + 1;
        if done % 10_000 == 0 {
            eprintln!("{done} seeds in {:.0?}", began.elapsed());
        }
    }
    assert!(failing.is_empty(), "failing seeds: {failing:?}");
}

/// Every pair of router kinds, on a clean network and losing 10 % of the datagrams: every
/// message arrives once and in order, the first one included; loss-free, by the direct path
/// wherever the routers allow one (the first within a second), else through the relay.
#[test]
fn every_pair_of_nat_kinds() {
    use feige_tests::sim::nat::{run_pair, NatKind};
    let seeds = env_u64("FEIGE_NAT_SEEDS").unwrap_or(4);
    let mut findings = Vec::new();
    for a in NatKind::ALL {
        for b in NatKind::ALL {
            for seed in base()..base() + seeds {
                findings.extend(run_pair(seed, [a, b], 0.0));
                findings.extend(run_pair(seed, [a, b], 0.1));
            }
        }
    }
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

/// Several coordinators sharing presence through a model of the store, with the store slow, away
/// or restarted empty and coordinators killed and restarted as new nodes: after the faults stop,
/// no name online twice and every list exactly the cluster's truth (see `sim::cluster`).
#[test]
fn a_cluster_converges_whatever_its_store_and_coordinators_did() {
    let seeds = env_u64("FEIGE_SIM_CLUSTER_SEEDS").unwrap_or(60);
    let start = base();
    let mut failing = Vec::new();
    for seed in start..start + seeds {
        let violations = feige_tests::sim::cluster::run(seed);
        if !violations.is_empty() {
            eprintln!("cluster seed {seed}:\n  {}", violations.join("\n  "));
            failing.push(seed);
        }
    }
    assert!(failing.is_empty(), "failing cluster seeds: {failing:?}");
}
