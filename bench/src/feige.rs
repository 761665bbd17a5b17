//! The feige suites against one server binary: a login storm of N clients (time to converge,
//! presence lines per second, server CPU per login, server peak RSS per session), then, with
//! those N online, one join at a time timed until the last of the N has its `login` line.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use smol::io::AsyncWriteExt;
use smol::{LocalExecutor, Timer};

use crate::decoys;
use crate::login::Pending;
use crate::net::source_ip;
use crate::spawn::ServerProcess;
use crate::stats::percentile;
use crate::storm;
use crate::storm::LoginPhases;
use crate::sys;
use crate::tally::{spawn_readers, Tally};

/// Pause between the storm and the joins.
const SETTLE: Duration = Duration::from_millis(500);

/// Time for the first decoys to reach the server.
const DECOYS_FIRST: Duration = Duration::from_millis(200);

/// What to run against one server.
#[derive(Debug, Clone)]
pub struct FeigeParams {
    /// The server binary (`feige` or `feige-smol`).
    pub bin: String,
    /// Sessions online.
    pub n: usize,
    /// Joins timed one at a time after the storm (0: storm only).
    pub events: usize,
    /// Logins in flight at once during the storm.
    pub window: usize,
    /// CPU the server is pinned to.
    pub server_cpu: usize,
}

/// One run at one N.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeigeRun {
    /// Sessions online.
    pub n: usize,
    /// Login storm: first login datagram until every list was complete and exact.
    pub storm_seconds: f64,
    /// Presence lines (`login` lines and snapshots) delivered during the storm.
    pub presence_lines: u64,
    /// `presence_lines / storm_seconds`.
    pub lines_per_sec: f64,
    /// Wrong list entries seen by all clients (0 when every list was exact).
    pub wrong_entries: u64,
    /// Clients whose list became complete (N, unless the storm was cut short at its limit).
    pub complete_clients: usize,
    /// Clients that got their snapshot.
    pub clients_with_snapshot: usize,
    /// Server CPU (user + system) spent during the storm.
    pub server_cpu_seconds: f64,
    /// Server resident set before the storm.
    pub server_rss_before: u64,
    /// Server peak resident set (VmHWM) after the storm.
    pub server_peak_rss: u64,
    /// CPU the load generator spent during the storm.
    pub loadgen_cpu_seconds: f64,
    /// One event to all: each join's latency to the last of the N, ms.
    pub join_ms: Vec<f64>,
    /// p50 of `join_ms`.
    pub join_p50_ms: f64,
    /// p99 of `join_ms`.
    pub join_p99_ms: f64,
    /// CPU the load generator spent during the joins.
    pub join_loadgen_cpu_seconds: f64,
    /// Wall time of the joins.
    pub join_wall_seconds: f64,
    /// The steps of the storm's logins (absent from runs recorded before they were measured).
    #[serde(default)]
    pub login: LoginPhases,
}

/// Starts a fresh server and runs the storm, then the joins.
pub fn run(params: &FeigeParams) -> io::Result<FeigeRun> {
    let server = ServerProcess::feige(&params.bin, params.server_cpu)?;
    let udp = server
        .udp
        .ok_or_else(|| io::Error::other("server has no UDP address"))?;
    let ex = LocalExecutor::new();
    smol::block_on(ex.run(measure(&ex, &server, udp, params)))
}

async fn measure(
    ex: &LocalExecutor<'static>,
    server: &ServerProcess,
    udp: SocketAddr,
    params: &FeigeParams,
) -> io::Result<FeigeRun> {
    let decoys = ex.spawn(decoys::run(udp));
    // The first decoys are pending before the first client logs in.
    Timer::after(DECOYS_FIRST).await;
    let pid = server.pid();
    let before = sys::memory(pid)?;
    let server_cpu = sys::cpu_seconds(Some(pid))?;
    let own_cpu = sys::cpu_seconds(None)?;
    let storm = storm::run(&[udp], params.n, params.window).await?;
    let server_cpu_seconds = sys::cpu_seconds(Some(pid))? - server_cpu;
    let loadgen_cpu_seconds = sys::cpu_seconds(None)? - own_cpu;
    let after = sys::memory(pid)?;

    let tally = Tally::new(storm.sessions.len());
    let readers = spawn_readers(ex, storm.sessions, &tally);
    // A long storm's clients pinged: let the `pong` lines arrive before the first round is armed.
    Timer::after(SETTLE).await;
    let own_cpu = sys::cpu_seconds(None)?;
    let started = Instant::now();
    let mut join_ms = Vec::with_capacity(params.events);
    let events = if storm.complete == params.n {
        params.events
    } else {
        0
    };
    for round in 0..events {
        join_ms.push(join_once(udp, params.n + round, &tally).await?);
    }
    let join_wall_seconds = started.elapsed().as_secs_f64();
    let join_loadgen_cpu_seconds = sys::cpu_seconds(None)? - own_cpu;
    drop(readers);
    drop(decoys);
    Ok(FeigeRun {
        n: params.n,
        storm_seconds: storm.seconds,
        presence_lines: storm.presence_lines,
        lines_per_sec: storm.presence_lines as f64 / storm.seconds.max(1e-9),
        wrong_entries: storm.wrong_entries,
        complete_clients: storm.complete,
        clients_with_snapshot: storm.with_snapshot,
        server_cpu_seconds,
        server_rss_before: before.rss,
        server_peak_rss: after.peak,
        loadgen_cpu_seconds,
        join_p50_ms: percentile(&join_ms, 50.0),
        join_p99_ms: percentile(&join_ms, 99.0),
        join_ms,
        join_loadgen_cpu_seconds,
        join_wall_seconds,
        login: storm.login,
    })
}

/// One user joins: timed from its login datagram until the last listener has its `login`
/// line. It then logs out, and the round ends when every listener has the `logout` line.
async fn join_once(udp: SocketAddr, index: usize, tally: &Rc<Tally>) -> io::Result<f64> {
    let name = format!("j{index}");
    let pending = Pending::bind(source_ip(index))?;
    let endpoint = pending.endpoint;
    tally.arm(1);
    let start = Instant::now();
    let mut session = pending.login(udp, &name).await?;
    let last = tally.finished().await?;
    let latency = last.duration_since(start).as_secs_f64() * 1e3;
    tally.arm(1);
    session
        .write_all(format!("logout,{name},{endpoint}\n").as_bytes())
        .await?;
    tally.finished().await?;
    Ok(latency)
}
