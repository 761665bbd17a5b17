//! Every raw figure of one full run, as written to `docs/bench/results.json`, and the summaries
//! (median and range over runs) the report is made of.

use serde::{Deserialize, Serialize};

use crate::feige::FeigeRun;
use crate::peers::PeerRun;
use crate::roundtrip::{Kind, Placement, RoundTripRun};
use crate::stats::Spread;

/// The machine and the conditions of the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Machine {
    /// `lscpu` model name.
    pub cpu_model: String,
    /// Online CPUs.
    pub cpus: usize,
    /// `uname -r`.
    pub kernel: String,
    /// `redis-server --version`.
    pub redis_version: String,
    /// `/proc/loadavg` before and after.
    pub load_before: String,
    /// `/proc/loadavg` after the run.
    pub load_after: String,
    /// Where each process ran.
    pub placement: String,
}

/// All runs of one feige server binary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeigeSeries {
    /// `feige-std` or `feige-smol`.
    pub label: String,
    /// Every run at every N.
    pub runs: Vec<FeigeRun>,
}

/// Everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Results {
    /// The machine.
    pub machine: Machine,
    /// feige-std, feige-smol.
    pub feige: Vec<FeigeSeries>,
    /// Redis pub/sub.
    pub redis: Vec<PeerRun>,
    /// The raw-TCP fan-out floor.
    pub floor: Vec<PeerRun>,
    /// Round trips.
    pub roundtrip: Vec<RoundTripRun>,
    /// Runs that failed or were not attempted, and why.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl FeigeSeries {
    /// The runs at `n`.
    pub fn at(&self, n: usize) -> Vec<&FeigeRun> {
        self.runs.iter().filter(|r| r.n == n).collect()
    }

    /// A figure over the runs at `n`, `None` when there are none.
    pub fn spread(&self, n: usize, figure: impl Fn(&FeigeRun) -> f64) -> Option<Spread> {
        let values: Vec<f64> = self.at(n).into_iter().map(figure).collect();
        (!values.is_empty()).then(|| Spread::of(&values))
    }

    /// The sizes measured, ascending.
    pub fn sizes(&self) -> Vec<usize> {
        sizes(self.runs.iter().map(|r| r.n))
    }
}

/// A figure over the peer runs at `n`.
pub fn peer_spread(runs: &[PeerRun], n: usize, figure: impl Fn(&PeerRun) -> f64) -> Option<Spread> {
    let values: Vec<f64> = runs.iter().filter(|r| r.n == n).map(figure).collect();
    (!values.is_empty()).then(|| Spread::of(&values))
}

/// The sizes of peer runs, ascending.
pub fn peer_sizes(runs: &[PeerRun]) -> Vec<usize> {
    sizes(runs.iter().map(|r| r.n))
}

/// A figure over the round-trip runs of one configuration.
pub fn roundtrip_spread(
    runs: &[RoundTripRun],
    kind: Kind,
    placement: Placement,
    pairs: usize,
    figure: impl Fn(&RoundTripRun) -> f64,
) -> Option<Spread> {
    let values: Vec<f64> = runs
        .iter()
        .filter(|r| r.kind == kind && r.placement == placement && r.pairs == pairs)
        .map(figure)
        .collect();
    (!values.is_empty()).then(|| Spread::of(&values))
}

fn sizes(all: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut sizes: Vec<usize> = all.collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}
