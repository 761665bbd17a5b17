//! Ten thousand sessions on one `feige-smol server`: every client's list must converge to the full
//! set. The clients are raw protocol spoken by this test over loopback (one task per session on a
//! smol executor: UDP login, TCP claim from the same IP, then reading lines), spread over several
//! source IPs so no IP comes near the server's pending-logins-per-IP limit.
//!
//! It prints the time taken and the server's peak memory (VmHWM) for `docs/benchmarks.md`. It is
//! ignored by default (it takes longer than the rest of the suite together); run it with
//! `cargo test --release -p feige-tests --test scale -- --ignored --nocapture`.

#![cfg(target_os = "linux")]

use std::convert::Infallible;
use std::io::{self, Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use feige_tests::proc::{binary_path, start_server, ServerProc};
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use smol::channel::{self, Receiver, Sender};
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::lock::{Semaphore, SemaphoreGuard};
use smol::stream::StreamExt;
use smol::{future, Async, Executor, Timer};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const SESSIONS: usize = 10_000;

/// Source IPs of the clients, taken in turn.
const SOURCE_IPS: [Ipv4Addr; 4] = [
    Ipv4Addr::new(127, 0, 0, 2),
    Ipv4Addr::new(127, 0, 0, 3),
    Ipv4Addr::new(127, 0, 0, 4),
    Ipv4Addr::new(127, 0, 0, 5),
];

/// Logins under way at once (from the first datagram to the snapshot). The server handles claims
/// one after the other, each costing it a broadcast to everyone online: too many at once and the
/// last would come after their pending login expired (10 s).
const LOGINS_IN_FLIGHT: usize = 100;

/// Past this, the test fails (and says how far it got).
const BUDGET: Duration = Duration::from_secs(600);

/// Sessions ping well within the server's 60 s idle timeout.
const PING_EVERY: Duration = Duration::from_secs(20);

/// What a session task tells the test.
enum Report {
    /// Its snapshot arrived: it is online.
    Online,
    /// Its list holds every session.
    Converged,
    /// Something went wrong for this session.
    Failed(String),
}

#[test]
#[ignore = "10,000 sessions: minutes of CPU; run with --ignored (see the file's docs)"]
fn ten_thousand_sessions_converge() {
    raise_fd_limit(SESSIONS + 1024);
    let mut server = start_server(&binary_path("feige-smol"), "127.0.0.1");
    let pid = child_pid("feige-smol");
    let rss_at_start = proc_status_kib(pid, "VmRSS");

    let (reports, reported) = channel::unbounded();
    let executor = Arc::new(Executor::new());
    // A second thread runs the sessions too, until `stop` is dropped.
    let (stop, stopped) = channel::bounded::<()>(1);
    let helper = {
        let executor = Arc::clone(&executor);
        thread::spawn(move || smol::block_on(executor.run(stopped.recv())))
    };
    let start = Instant::now();
    let (outcome, sessions) = smol::block_on(executor.run(async {
        let gate = Arc::new(Semaphore::new(LOGINS_IN_FLIGHT));
        let sessions: Vec<_> = (0..SESSIONS)
            .map(|index| {
                let ip = SOURCE_IPS[index % SOURCE_IPS.len()];
                let session = Session::new(index, ip, server.udp);
                let gate = Arc::clone(&gate);
                let reports = reports.clone();
                executor.spawn(async move { session.run(&gate, &reports).await })
            })
            .collect();
        (await_convergence(&reported, start).await, sessions)
    }));
    let (online_after, converged_after) =
        outcome.unwrap_or_else(|e| panic!("{e}; the server says: {:#?}", departures(&mut server)));

    let peak_kib = proc_status_kib(pid, "VmHWM");
    let rest_kib = proc_status_kib(pid, "VmRSS");
    let (on_cpu, waiting) = cpu_times(pid);
    let joined = count_joined_events(&mut server);
    assert_eq!(
        joined, SESSIONS,
        "the server reported every session joining"
    );
    // Stopping the server first spares it ten thousand logout broadcasts.
    server.interrupt();
    assert!(
        server.wait_exit().success(),
        "the server shuts down cleanly"
    );
    drop(stop);
    let _ = helper.join();
    drop(sessions);

    let per_session = |kib: u64| (kib.saturating_sub(rss_at_start) * 1024) / SESSIONS as u64;
    println!("== {SESSIONS} sessions on feige-smol ==");
    println!("all online (snapshots received): {online_after:.1?}");
    println!("every list complete:             {converged_after:.1?}");
    println!(
        "server RSS at start: {rss_at_start} KiB; peak (VmHWM): {peak_kib} KiB; \
         once every list is complete: {rest_kib} KiB"
    );
    println!(
        "per session: {} bytes at the peak, {} bytes once complete",
        per_session(peak_kib),
        per_session(rest_kib)
    );
    println!("server on CPU: {on_cpu:.1?}; runnable but waiting for a CPU: {waiting:.1?}");
}

/// Counts reports until every session converged; the times of the last snapshot and the last
/// convergence, or why it failed.
async fn await_convergence(
    reported: &Receiver<Report>,
    start: Instant,
) -> Result<(Duration, Duration), String> {
    let (mut online, mut converged) = (0, 0);
    let mut online_after = Duration::ZERO;
    let deadline = start + BUDGET;
    while converged < SESSIONS {
        let report = future::or(async { reported.recv().await.ok() }, async {
            Timer::at(deadline).await;
            None
        })
        .await;
        match report {
            Some(Report::Online) => {
                online += 1;
                if online == SESSIONS {
                    online_after = start.elapsed();
                }
            }
            Some(Report::Converged) => converged += 1,
            Some(Report::Failed(why)) => return Err(why),
            None => {
                return Err(format!(
                    "after {BUDGET:?}: {online} sessions online, {converged} lists complete"
                ))
            }
        }
    }
    Ok((online_after, start.elapsed()))
}

/// One simulated client.
struct Session {
    name: String,
    ip: Ipv4Addr,
    server: SocketAddr,
    /// Which sessions its list holds, by index.
    listed: Vec<u64>,
    count: usize,
}

impl Session {
    fn new(index: usize, ip: Ipv4Addr, server: SocketAddr) -> Session {
        Session {
            name: format!("u{index}"),
            ip,
            server,
            listed: vec![0; SESSIONS.div_ceil(64)],
            count: 0,
        }
    }

    /// Logs in, then reads lines (pinging now and then) until cancelled or failed.
    async fn run(mut self, gate: &Semaphore, reports: &Sender<Report>) {
        let mut permit = Some(gate.acquire().await);
        let (tcp, error) = match self.connect().await {
            Ok(tcp) => {
                let Err(error) = self.serve(&tcp, &mut permit, reports).await;
                (Some(tcp), error)
            }
            Err(error) => (None, error),
        };
        // Reported before the connection closes, so the first failure the test sees is the
        // cause, not its echo (a logout) in the other sessions' lists.
        let _ = reports
            .send(Report::Failed(format!("{}: {error}", self.name)))
            .await;
        drop(tcp);
    }

    /// Logs in by UDP and claims the login on a new TCP connection.
    async fn connect(&self) -> io::Result<Async<TcpStream>> {
        let (tcp_port, declared) = self.login().await?;
        let to = SocketAddr::new(self.server.ip(), tcp_port);
        let claim = format!("login,{},{declared}\n", self.name);
        let ip = self.ip;
        // On a thread of the blocking pool, not behind thousands of busy reader tasks: a
        // connection silent for 500 ms may be bound to another user's login from the same IP,
        // as for a seed-faithful client (`docs/protocol.md`, 9.3).
        let stream = smol::unblock(move || claim_from(ip, to, &claim)).await?;
        Async::new(stream)
    }

    /// Reads the snapshot (then lets the next login start), then every line after it.
    async fn serve(
        &mut self,
        tcp: &Async<TcpStream>,
        permit: &mut Option<SemaphoreGuard<'_>>,
        reports: &Sender<Report>,
    ) -> io::Result<Infallible> {
        let mut buf = vec![0u8; 4096];
        let mut line = Vec::new();
        // One timer for the whole session: arming a new one for every read would cost a wake
        // of the reactor each time.
        let mut ping = Timer::interval(PING_EVERY);
        let mut snapshot = true;
        loop {
            let read = future::or(async { Some((&*tcp).read(&mut buf).await) }, async {
                ping.next().await;
                None
            })
            .await;
            let len = match read {
                None => {
                    (&*tcp).write_all(b"ping\n").await?;
                    continue;
                }
                Some(Ok(0)) => return Err(io::Error::other("the server closed the session")),
                Some(read) => read?,
            };
            let mut rest = buf.get(..len).unwrap_or_default();
            while let Some(end) = rest.iter().position(|&b| b == b'\n') {
                let (head, tail) = rest.split_at(end);
                line.extend_from_slice(head);
                rest = tail.get(1..).unwrap_or_default();
                let was_complete = self.count == SESSIONS;
                if std::mem::take(&mut snapshot) {
                    self.take_snapshot(&line)?;
                    let _ = reports.send(Report::Online).await;
                    // Online: the next login may start.
                    drop(permit.take());
                } else {
                    self.take_line(&line)?;
                }
                line.clear();
                if self.count == SESSIONS && !was_complete {
                    let _ = reports.send(Report::Converged).await;
                }
            }
            line.extend_from_slice(rest);
        }
    }

    /// Sends the login datagram (retrying as a client does) from a socket of its own, which is
    /// closed once accepted: the test holds ten thousand TCP sockets, not twenty thousand.
    async fn login(&self) -> io::Result<(u16, SocketAddr)> {
        let udp = Async::<UdpSocket>::bind(SocketAddr::new(IpAddr::V4(self.ip), 0))?;
        let declared = udp.get_ref().local_addr()?;
        let login = format!("login,{},{declared}", self.name);
        let mut wait = Duration::from_millis(500);
        let mut answer = vec![0u8; 512];
        for _ in 0..6 {
            udp.send_to(login.as_bytes(), self.server).await?;
            let received = future::or(async { Some(udp.recv_from(&mut answer).await) }, async {
                Timer::after(wait).await;
                None
            })
            .await;
            wait *= 2;
            let Some(received) = received else { continue };
            let (len, _) = received?;
            let text = String::from_utf8_lossy(answer.get(..len).unwrap_or_default());
            let port = text
                .trim_end()
                .strip_prefix("Accept,")
                .and_then(|p| p.parse().ok());
            return port
                .map(|port| (port, declared))
                .ok_or_else(|| io::Error::other(format!("login answered {text:?}")));
        }
        Err(io::Error::other("no answer to the login"))
    }

    /// `name,ep;name,ep;...;end`: everyone online, us included.
    fn take_snapshot(&mut self, line: &[u8]) -> io::Result<()> {
        let text = String::from_utf8_lossy(line);
        let mut entries = text.split(';');
        let last = entries.next_back();
        if last != Some("end") {
            return Err(io::Error::other(format!(
                "snapshot without end: {text:.80}"
            )));
        }
        for entry in entries {
            let name = entry.split(',').next().unwrap_or_default();
            self.list(name)?;
        }
        Ok(())
    }

    /// After the snapshot only joins are expected (and pongs): nobody leaves in this test.
    fn take_line(&mut self, line: &[u8]) -> io::Result<()> {
        let text = String::from_utf8_lossy(line);
        if text == "pong" {
            return Ok(());
        }
        match text.strip_prefix("login,") {
            Some(rest) => self.list(rest.split(',').next().unwrap_or_default()),
            None => Err(io::Error::other(format!("unexpected line {text:.80}"))),
        }
    }

    fn list(&mut self, name: &str) -> io::Result<()> {
        let index = name
            .strip_prefix('u')
            .and_then(|i| i.parse::<usize>().ok())
            .filter(|&i| i < SESSIONS)
            .ok_or_else(|| io::Error::other(format!("unknown user {name:?}")))?;
        let word = self
            .listed
            .get_mut(index / 64)
            .ok_or_else(|| io::Error::other("index out of range"))?;
        let bit = 1u64 << (index % 64);
        if *word & bit != 0 {
            return Err(io::Error::other(format!("{name} listed twice")));
        }
        *word |= bit;
        self.count += 1;
        Ok(())
    }
}

/// Connects to `to` from `ip` (the server wants the claim from the login's IP) and sends `claim`
/// at once.
fn claim_from(ip: Ipv4Addr, to: SocketAddr, claim: &str) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&SockAddr::from(SocketAddr::new(IpAddr::V4(ip), 0)))?;
    socket.connect_timeout(&SockAddr::from(to), Duration::from_secs(10))?;
    let mut stream = TcpStream::from(socket);
    stream.write_all(claim.as_bytes())?;
    Ok(stream)
}

/// Raises this process's open-file limit (soft to hard); fails clearly if even that is too low.
fn raise_fd_limit(wanted: usize) {
    let limits = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limits.maximum,
        maximum: limits.maximum,
    };
    setrlimit(Resource::Nofile, raised).expect("raise the open-file soft limit to the hard one");
    if let Some(hard) = limits.maximum {
        assert!(
            hard >= wanted as u64,
            "the open-file hard limit is {hard}; this test needs {wanted}"
        );
    }
}

/// The pid of our child process running `binary` (the server started by `start_server`).
fn child_pid(binary: &str) -> u32 {
    let me = std::process::id();
    let entries = std::fs::read_dir("/proc").expect("read /proc");
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // `pid (comm) state ppid ...`; comm is cut to 15 bytes.
            let Some((comm, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
            else {
                return false;
            };
            let ppid = rest.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok());
            binary.starts_with(comm) && ppid == Some(me)
        })
        .unwrap_or_else(|| panic!("no child process {binary}"))
}

/// A `kB` field of `/proc/<pid>/status`.
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let mut status = String::new();
    std::fs::File::open(format!("/proc/{pid}/status"))
        .and_then(|mut f| f.read_to_string(&mut status))
        .expect("read the server's /proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// How long `pid`'s threads have run, and waited to run (from the scheduler's statistics).
fn cpu_times(pid: u32) -> (Duration, Duration) {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("read the server's tasks");
    let (mut on_cpu, mut waiting) = (0u64, 0u64);
    for task in tasks.filter_map(Result::ok) {
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        let mut fields = stat
            .split_whitespace()
            .map(|f| f.parse::<u64>().unwrap_or(0));
        on_cpu += fields.next().unwrap_or(0);
        waiting += fields.next().unwrap_or(0);
    }
    (Duration::from_nanos(on_cpu), Duration::from_nanos(waiting))
}

/// The server's `joined` events so far (it prints one per session online).
fn count_joined_events(server: &mut ServerProc) -> usize {
    let mut joined = 0;
    while joined < SESSIONS {
        let Some(line) = server.next_line(Duration::from_secs(15)) else {
            break;
        };
        if line.contains(r#""event":"joined""#) {
            joined += 1;
        }
    }
    joined
}

/// The server's `left` and `connection_refused` events printed so far, to tell why a session
/// went.
fn departures(server: &mut ServerProc) -> Vec<String> {
    std::iter::from_fn(|| server.next_line(Duration::from_millis(500)))
        .filter(|line| line.contains(r#""event":"left""#) || line.contains("connection_refused"))
        .take(20)
        .collect()
}
