//! A cluster under a login storm: `redis-server` and k coordinators (`server --cluster`), every
//! one pinned to the server CPU, and N raw clients spread over the coordinators in turn. Measured:
//! the time until every list holds all N (each with its endpoint, once), the CPU each
//! coordinator and Redis spent, and each coordinator's peak resident memory.
//!
//! The cost model it checks: a coordinator writes every presence line of its own sessions,
//! about N·(N/k) lines, so its CPU falls as 1/k; Redis carries each of the N joins once to each
//! of the k coordinators (N·k log entries read), so its CPU grows with k but stays linear in N.

use std::io;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::spawn::ServerProcess;
use crate::storm;
use crate::sys;

/// What to run.
#[derive(Debug, Clone)]
pub struct ClusterParams {
    /// The coordinator binary.
    pub bin: String,
    /// The redis-server binary.
    pub redis: String,
    /// Coordinators.
    pub coordinators: usize,
    /// Clients, spread over them.
    pub n: usize,
    /// Logins in flight at once.
    pub window: usize,
    /// CPU every server process is pinned to.
    pub server_cpu: usize,
}

/// One run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterRun {
    /// Coordinators.
    pub coordinators: usize,
    /// Clients.
    pub n: usize,
    /// First login datagram until every list was complete and exact.
    pub storm_seconds: f64,
    /// Clients whose list became complete.
    pub complete_clients: usize,
    /// Wrong list entries seen by all clients.
    pub wrong_entries: u64,
    /// Presence lines delivered to all clients.
    pub presence_lines: u64,
    /// CPU seconds of each coordinator during the storm.
    pub coordinator_cpu_seconds: Vec<f64>,
    /// CPU seconds of Redis during the storm.
    pub redis_cpu_seconds: f64,
    /// Peak resident memory of each coordinator, bytes.
    pub coordinator_peak_rss: Vec<u64>,
    /// CPU seconds of the load generator during the storm.
    pub loadgen_cpu_seconds: f64,
}

/// Starts Redis and the coordinators, waits until each has reached Redis (a coordinator refuses
/// logins until then), and runs the storm.
pub fn run(params: &ClusterParams) -> io::Result<ClusterRun> {
    let redis = ServerProcess::redis(&params.redis, params.server_cpu)?;
    let url = format!("redis://{}", redis.tcp);
    let coordinators = (0..params.coordinators.max(1))
        .map(|_| ServerProcess::coordinator(&params.bin, params.server_cpu, &url))
        .collect::<io::Result<Vec<_>>>()?;
    let servers: Vec<SocketAddr> = coordinators.iter().filter_map(|c| c.udp).collect();
    let cpu_of = |pid: u32| sys::cpu_seconds(Some(pid));
    let before: Vec<f64> = coordinators
        .iter()
        .map(|c| cpu_of(c.pid()))
        .collect::<io::Result<_>>()?;
    let redis_before = cpu_of(redis.pid())?;
    let own_before = sys::cpu_seconds(None)?;
    let storm = smol::block_on(storm::run(&servers, params.n, params.window))?;
    let coordinator_cpu_seconds = coordinators
        .iter()
        .zip(before)
        .map(|(c, before)| Ok(cpu_of(c.pid())? - before))
        .collect::<io::Result<_>>()?;
    let coordinator_peak_rss = coordinators
        .iter()
        .map(|c| sys::memory(c.pid()).map(|m| m.peak))
        .collect::<io::Result<_>>()?;
    Ok(ClusterRun {
        coordinators: coordinators.len(),
        n: params.n,
        storm_seconds: storm.seconds,
        complete_clients: storm.complete,
        wrong_entries: storm.wrong_entries,
        presence_lines: storm.presence_lines,
        coordinator_cpu_seconds,
        redis_cpu_seconds: cpu_of(redis.pid())? - redis_before,
        coordinator_peak_rss,
        loadgen_cpu_seconds: sys::cpu_seconds(None)? - own_before,
    })
}
