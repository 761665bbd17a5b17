//! `feige-loadgen`: drives feige's servers, Redis pub/sub and this machine's floor with the
//! same N receivers over loopback, and reports text or JSON. `feige-loadgen all` runs every
//! suite the number of times asked and writes `results.json`, `results.md` and the charts.
//!
//! The generator runs on CPU 0 and every server on CPU 1, so the two never compete for a core;
//! each suite reports the generator's own CPU time to show it was not the bottleneck.

mod chart;
mod cluster;
mod decoys;
mod feige;
mod login;
mod mux;
mod net;
mod peers;
mod report;
mod results;
mod roundtrip;
mod spawn;
mod stats;
mod storm;
mod sys;
mod tally;

use std::fs;
use std::io;
use std::path::PathBuf;
use std::process::{Command as Process, ExitCode};

use clap::{Args, Parser, Subcommand};
use feige_platform::fdlimit;
use serde::Serialize;

use feige::{FeigeParams, FeigeRun};
use peers::{PeerParams, PeerRun};
use results::{FeigeSeries, Machine, Results};
use roundtrip::{Kind, Placement, RoundTripRun};

/// CPU of the load generator; servers get the other one.
const LOADGEN_CPU: usize = 0;
const SERVER_CPU: usize = 1;
/// File descriptors wanted: 10,000 sessions plus logins in flight and the server's own.
const NOFILE: u64 = 65_536;

#[derive(Parser)]
#[command(
    version,
    about = "Load generator: feige servers side by side with Redis and the floor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Login storm of N clients, then one join at a time, against a feige server binary.
    Feige(FeigeArgs),
    /// Login storm of N clients spread over k coordinators sharing one Redis.
    Cluster(ClusterArgs),
    /// The same N receivers on Redis pub/sub: one event at a time, then a burst.
    Redis(RedisArgs),
    /// The same N receivers on a minimal raw-TCP fan-out server in this process.
    Floor(PeerArgs),
    /// Message round trip between pairs: `Client` cores, or bare UDP ping-pong.
    Roundtrip(RoundTripArgs),
    /// Every suite, `--runs` times, written to `--out` as results.json, results.md and SVG.
    All(AllArgs),
    /// Rewrites results.md and the charts from an existing results.json.
    Report {
        /// Directory holding results.json.
        #[arg(long, default_value = "docs/bench")]
        out: PathBuf,
    },
}

#[derive(Args)]
struct ClusterArgs {
    /// Coordinator binary (`feige` or `feige-smol`).
    #[arg(long)]
    bin: String,
    /// The redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis: String,
    /// Coordinators.
    #[arg(short, long, default_value_t = 2)]
    coordinators: usize,
    /// Sessions online, spread over the coordinators.
    #[arg(short, long, default_value_t = 1000)]
    n: usize,
    /// Logins in flight at once during the storm.
    #[arg(long, default_value_t = 64)]
    window: usize,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct FeigeArgs {
    /// Server binary (`feige` or `feige-smol`).
    #[arg(long)]
    bin: String,
    /// Sessions online.
    #[arg(short, long, default_value_t = 1000)]
    n: usize,
    /// Joins timed one at a time after the storm.
    #[arg(long, default_value_t = 30)]
    events: usize,
    /// Logins in flight at once during the storm.
    #[arg(long, default_value_t = 64)]
    window: usize,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct PeerArgs {
    /// Receivers.
    #[arg(short, long, default_value_t = 1000)]
    n: usize,
    /// Single events timed one at a time.
    #[arg(long, default_value_t = 30)]
    events: usize,
    /// Events in the burst.
    #[arg(long, default_value_t = 1000)]
    burst: usize,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RedisArgs {
    /// The redis-server binary.
    #[arg(long, default_value = "redis-server")]
    bin: String,
    #[command(flatten)]
    peer: PeerArgs,
}

#[derive(Args)]
struct RoundTripArgs {
    /// What travels.
    #[arg(long, value_enum, default_value_t = Kind::Chat)]
    kind: Kind,
    /// Where the two sides of each pair run.
    #[arg(long, value_enum, default_value_t = Placement::Cross)]
    placement: Placement,
    /// Pairs at once.
    #[arg(long, default_value_t = 1)]
    pairs: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct AllArgs {
    /// The transport-std server binary.
    #[arg(long)]
    std: String,
    /// The transport-smol server binary.
    #[arg(long)]
    smol: String,
    /// The redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis: String,
    /// Runs of every figure (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// N for one event to all and bursts (feige: a storm first, then the joins).
    #[arg(long, value_delimiter = ',', default_value = "100,1000,5000")]
    sizes: Vec<usize>,
    /// N for login storms only.
    #[arg(long, value_delimiter = ',', default_value = "10000")]
    storm_sizes: Vec<usize>,
    /// Runs of the storm-only sizes (the largest storms are the longest figures to take).
    #[arg(long, default_value_t = 1)]
    storm_runs: usize,
    /// Single events per run.
    #[arg(long, default_value_t = 30)]
    events: usize,
    /// Events in a burst.
    #[arg(long, default_value_t = 1000)]
    burst: usize,
    /// Logins in flight at once during a feige-smol storm.
    #[arg(long, default_value_t = 64)]
    smol_window: usize,
    /// Logins in flight at once during a feige-std storm.
    #[arg(long, default_value_t = 64)]
    std_window: usize,
    /// Largest N asked of feige-std: its storm delivers ~20 k lines/s, so N = 5,000 would take
    /// minutes per run.
    #[arg(long, default_value_t = 1000)]
    std_max_n: usize,
    /// Seconds per round-trip measurement.
    #[arg(long, default_value_t = 2.0)]
    rt_seconds: f64,
    /// Pairs for the round-trip throughput.
    #[arg(long, default_value_t = 16)]
    rt_pairs: usize,
    /// Where results.json, results.md and the charts go.
    #[arg(long, default_value = "docs/bench")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let limit = sys::raise_nofile(NOFILE);
    // Grown once now, not a doubling at a time in the middle of a storm, each of which would
    // stall the generator for an RCU grace period.
    let slots = limit.min(NOFILE);
    if let Err(e) = fdlimit::grow_table(slots) {
        eprintln!("feige-loadgen: cannot grow the descriptor table to {slots}: {e}");
    }
    if let Err(e) = sys::pin_current_thread(LOADGEN_CPU) {
        eprintln!("feige-loadgen: cannot pin to CPU {LOADGEN_CPU}: {e}");
    }
    let outcome = match cli.command {
        Command::Feige(args) => feige_command(&args, limit),
        Command::Cluster(args) => cluster_command(&args, limit),
        Command::Redis(args) => {
            let run = peers::redis(&args.bin, &peer_params(&args.peer));
            print_peer("redis", run, args.peer.json)
        }
        Command::Floor(args) => print_peer("floor", peers::floor(&peer_params(&args)), args.json),
        Command::Roundtrip(args) => {
            roundtrip::run(args.kind, args.placement, args.pairs, args.seconds)
                .and_then(|run| print_roundtrip(&run, args.json))
        }
        Command::All(args) => all(&args, limit),
        Command::Report { out } => report::write_from(&out),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("feige-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn feige_command(args: &FeigeArgs, limit: u64) -> io::Result<()> {
    let params = FeigeParams {
        bin: args.bin.clone(),
        n: args.n,
        events: args.events,
        window: args.window,
        server_cpu: SERVER_CPU,
    };
    check_limit(args.n, limit)?;
    let run = feige::run(&params)?;
    if args.json {
        return print_json(&run);
    }
    println!("{}", feige_text(&args.bin, &run));
    Ok(())
}

fn cluster_command(args: &ClusterArgs, limit: u64) -> io::Result<()> {
    check_limit(args.n, limit)?;
    let run = cluster::run(&cluster::ClusterParams {
        bin: args.bin.clone(),
        redis: args.redis.clone(),
        coordinators: args.coordinators,
        n: args.n,
        window: args.window,
        server_cpu: SERVER_CPU,
    })?;
    if args.json {
        return print_json(&run);
    }
    let per: Vec<String> = run
        .coordinator_cpu_seconds
        .iter()
        .zip(&run.coordinator_peak_rss)
        .map(|(cpu, rss)| format!("{cpu:.2} s CPU / {:.1} MiB peak", *rss as f64 / 1048576.0))
        .collect();
    println!(
        "{} x{} N={}: storm {:.3} s, {} of {} lists complete, wrong entries {}, {} presence \
         lines; coordinators: {}; redis {:.2} s CPU; loadgen CPU {:.0}% of the storm",
        args.bin,
        run.coordinators,
        run.n,
        run.storm_seconds,
        run.complete_clients,
        run.n,
        run.wrong_entries,
        run.presence_lines,
        per.join(", "),
        run.redis_cpu_seconds,
        100.0 * run.loadgen_cpu_seconds / run.storm_seconds.max(1e-9)
    );
    Ok(())
}

fn peer_params(args: &PeerArgs) -> PeerParams {
    PeerParams {
        n: args.n,
        events: args.events,
        burst: args.burst,
        server_cpu: SERVER_CPU,
    }
}

fn print_peer(label: &str, run: io::Result<PeerRun>, json: bool) -> io::Result<()> {
    let run = run?;
    if json {
        return print_json(&run);
    }
    println!("{}", peer_text(label, &run));
    Ok(())
}

fn print_roundtrip(run: &RoundTripRun, json: bool) -> io::Result<()> {
    if json {
        return print_json(run);
    }
    println!("{}", roundtrip_text(run));
    Ok(())
}

fn print_json<T: Serialize>(value: &T) -> io::Result<()> {
    println!(
        "{}",
        serde_json::to_string(value).map_err(io::Error::other)?
    );
    Ok(())
}

fn check_limit(n: usize, limit: u64) -> io::Result<()> {
    // Each client holds one TCP socket, plus one UDP socket while logging in.
    if (n as u64) + 1024 > limit {
        return Err(io::Error::other(format!(
            "{n} clients need more file descriptors than the limit of {limit}"
        )));
    }
    Ok(())
}

fn feige_text(label: &str, r: &FeigeRun) -> String {
    let cpu_share = r.loadgen_cpu_seconds / r.storm_seconds.max(1e-9);
    format!(
        "{label} N={}: storm {:.3} s, {} of {} lists complete, {} presence lines ({:.0}/s), \
         wrong entries {}, \
         server CPU {:.3} ms/login, peak RSS {:.1} KiB/session, loadgen CPU {:.0}% of the storm; \
         one join to all: p50 {:.3} ms, p99 {:.3} ms ({} joins); login steps p50 (mean): \
         answer {:.2} ({:.2}) ms, connect {:.2} ({:.2}) ms, snapshot {:.2} ({:.2}) ms",
        r.n,
        r.storm_seconds,
        r.complete_clients,
        r.n,
        r.presence_lines,
        r.lines_per_sec,
        r.wrong_entries,
        r.server_cpu_seconds * 1e3 / r.n.max(1) as f64,
        r.server_peak_rss as f64 / 1024.0 / r.n.max(1) as f64,
        cpu_share * 100.0,
        r.join_p50_ms,
        r.join_p99_ms,
        r.join_ms.len(),
        r.login.answer_p50_ms,
        r.login.answer_mean_ms,
        r.login.connect_p50_ms,
        r.login.connect_mean_ms,
        r.login.snapshot_p50_ms,
        r.login.snapshot_mean_ms,
    )
}

fn peer_text(label: &str, r: &PeerRun) -> String {
    format!(
        "{label} N={}: one event to all p50 {:.3} ms, p99 {:.3} ms; burst of {} events: {:.3} s, \
         {:.0} lines/s; loadgen CPU {:.0}% of wall",
        r.n,
        r.event_p50_ms,
        r.event_p99_ms,
        r.burst_events,
        r.burst_seconds,
        r.burst_lines_per_sec,
        r.loadgen_cpu_seconds / r.wall_seconds.max(1e-9) * 100.0,
    )
}

fn roundtrip_text(r: &RoundTripRun) -> String {
    format!(
        "{:?} round trip, {:?} core, {} pair(s): p50 {:.1} µs, p99 {:.1} µs, {:.0}/s",
        r.kind, r.placement, r.pairs, r.p50_us, r.p99_us, r.per_sec
    )
}

/// Runs every suite `runs` times, interleaved so a change in background load touches every
/// system alike, and writes the results.
fn all(args: &AllArgs, limit: u64) -> io::Result<()> {
    let mut results = Results {
        machine: machine(),
        feige: vec![
            FeigeSeries {
                label: "feige-std".to_owned(),
                runs: Vec::new(),
            },
            FeigeSeries {
                label: "feige-smol".to_owned(),
                runs: Vec::new(),
            },
        ],
        ..Results::default()
    };
    // (binary, logins in flight, largest N) per series.
    let setups = [
        (args.std.clone(), args.std_window, args.std_max_n),
        (args.smol.clone(), args.smol_window, usize::MAX),
    ];
    for (series, (_, _, max_n)) in results.feige.iter().zip(&setups) {
        for &n in args.sizes.iter().chain(&args.storm_sizes) {
            if n > *max_n {
                results.notes.push(format!(
                    "{} N={n}: not measured (above --{}-max-n {max_n})",
                    series.label,
                    series.label.trim_start_matches("feige-")
                ));
            }
        }
    }
    for run in 1..=args.runs {
        eprintln!("== run {run} of {}", args.runs);
        let storm_sizes = if run <= args.storm_runs {
            args.storm_sizes.as_slice()
        } else {
            &[]
        };
        let storms = storm_sizes.iter().map(|&n| (n, 0));
        let sizes = args.sizes.iter().map(|&n| (n, args.events));
        for (n, events) in sizes.clone().chain(storms) {
            check_limit(n, limit)?;
            for (series, (bin, window, max_n)) in results.feige.iter_mut().zip(&setups) {
                if n > *max_n {
                    continue;
                }
                let params = FeigeParams {
                    bin: bin.clone(),
                    n,
                    events,
                    window: *window,
                    server_cpu: SERVER_CPU,
                };
                match feige::run(&params) {
                    Ok(r) => {
                        eprintln!("{}", feige_text(&series.label, &r));
                        series.runs.push(r);
                    }
                    Err(e) => {
                        let note = format!("{} N={n} run {run}: failed: {e}", series.label);
                        eprintln!("{note}");
                        results.notes.push(note);
                    }
                }
            }
        }
        for (n, _) in sizes {
            let params = PeerParams {
                n,
                events: args.events,
                burst: args.burst,
                server_cpu: SERVER_CPU,
            };
            match peers::redis(&args.redis, &params) {
                Ok(r) => {
                    eprintln!("{}", peer_text("redis", &r));
                    results.redis.push(r);
                }
                Err(e) => results
                    .notes
                    .push(format!("redis N={n} run {run}: failed: {e}")),
            }
            match peers::floor(&params) {
                Ok(r) => {
                    eprintln!("{}", peer_text("floor", &r));
                    results.floor.push(r);
                }
                Err(e) => results
                    .notes
                    .push(format!("floor N={n} run {run}: failed: {e}")),
            }
        }
        for kind in [Kind::Udp, Kind::Chat] {
            for placement in [Placement::Same, Placement::Cross] {
                for pairs in [1, args.rt_pairs] {
                    match roundtrip::run(kind, placement, pairs, args.rt_seconds) {
                        Ok(r) => {
                            eprintln!("{}", roundtrip_text(&r));
                            results.roundtrip.push(r);
                        }
                        Err(e) => results.notes.push(format!(
                            "{kind:?} {placement:?} {pairs} pairs run {run}: failed: {e}"
                        )),
                    }
                }
            }
        }
    }
    results.machine.load_after = loadavg();
    fs::create_dir_all(&args.out)?;
    let json = serde_json::to_string_pretty(&results).map_err(io::Error::other)?;
    fs::write(args.out.join("results.json"), json)?;
    report::write(&results, &args.out)
}

fn machine() -> Machine {
    let lscpu = command_output("lscpu", &[]);
    let cpu_model = lscpu
        .lines()
        .find_map(|l| l.strip_prefix("Model name:"))
        .map(|m| m.trim().to_owned())
        .unwrap_or_default();
    Machine {
        cpu_model,
        // Not `available_parallelism`: this thread is already pinned to one CPU.
        cpus: command_output("nproc", &["--all"])
            .trim()
            .parse()
            .unwrap_or(0),
        kernel: command_output("uname", &["-r"]).trim().to_owned(),
        redis_version: command_output("redis-server", &["--version"])
            .trim()
            .to_owned(),
        load_before: loadavg(),
        load_after: String::new(),
        placement: format!(
            "load generator (one thread, one event loop) on CPU {LOADGEN_CPU}; every server \
             (feige-std, feige-smol, redis-server, the floor's thread) on CPU {SERVER_CPU}; round \
             trips: same = both sides on CPU 0, cross = sender on CPU 0, receiver on CPU 1"
        ),
    }
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.trim().to_owned())
        .unwrap_or_default()
}

fn command_output(program: &str, args: &[&str]) -> String {
    Process::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}
