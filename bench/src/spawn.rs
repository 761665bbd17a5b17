//! The servers under test, each started by the tool as a child pinned to the server CPU, and
//! stopped by its pid when dropped.

use std::io::{self, BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// How long a server may take to say it is ready (listening; for a coordinator, its store
/// reached).
const READY_WITHIN: Duration = Duration::from_secs(10);

/// Each line of `output`, from a thread of its own; once nobody takes them, the rest is drained
/// so the child never blocks on a full pipe.
fn read_lines(output: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(output);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    if tx.send(line.clone()).is_err() {
                        let _ = io::copy(&mut reader, &mut io::sink());
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// A server process the tool started.
pub struct ServerProcess {
    child: Child,
    /// Where its UDP socket listens (feige only).
    pub udp: Option<SocketAddr>,
    /// Where its TCP listener listens.
    pub tcp: SocketAddr,
}

#[derive(Deserialize)]
struct Listening {
    event: String,
    udp: SocketAddr,
    tcp: SocketAddr,
}

impl ServerProcess {
    /// Its pid, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `bin server` on loopback ports chosen by the kernel, pinned to `cpu`, and reads
    /// the `listening` line. Its further stdout is drained so it can never block on a full pipe.
    pub fn feige(bin: &str, cpu: usize) -> io::Result<ServerProcess> {
        ServerProcess::feige_with(bin, cpu, &[], |_| true)
    }

    /// A coordinator of the cluster at `url`, once it says it has reached it.
    pub fn coordinator(bin: &str, cpu: usize, url: &str) -> io::Result<ServerProcess> {
        ServerProcess::feige_with(bin, cpu, &["--cluster", url], |line| {
            line.contains(r#""event":"cluster","store":"up""#)
        })
    }

    /// Starts `bin server` with `extra` arguments, and reads its output until a line after
    /// `listening` satisfies `ready` (at once, for a `ready` that is always true), for at most
    /// [`READY_WITHIN`]. Its output is read by a thread of its own, drained once it is ready.
    fn feige_with(
        bin: &str,
        cpu: usize,
        extra: &[&str],
        ready: impl Fn(&str) -> bool,
    ) -> io::Result<ServerProcess> {
        let mut child = Command::new("taskset")
            .args(["-c", &cpu.to_string(), bin, "server"])
            .args(["--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--json"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let lines = read_lines(stdout);
        // Dropped (killing it) on any early return.
        let mut server = ServerProcess {
            child,
            udp: None,
            tcp: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let deadline = Instant::now() + READY_WITHIN;
        let next = || {
            lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .map_err(|e| io::Error::other(format!("{bin} server: no line ({e})")))
        };
        let first = next()?;
        let listening: Listening = serde_json::from_str(&first).map_err(|e| {
            io::Error::other(format!(
                "{bin} server: unexpected first line {first:?}: {e}"
            ))
        })?;
        if listening.event != "listening" {
            return Err(io::Error::other(format!(
                "{bin}: first event is not listening"
            )));
        }
        if !ready("") {
            while !ready(&next()?) {}
        }
        server.udp = Some(listening.udp);
        server.tcp = listening.tcp;
        Ok(server)
    }

    /// Starts `redis-server` on a free loopback port, persistence off, pinned to `cpu`, and
    /// waits until it accepts connections.
    pub fn redis(bin: &str, cpu: usize) -> io::Result<ServerProcess> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new("taskset")
            .args(["-c", &cpu.to_string(), bin])
            .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
            // Protected mode admits 127.0.0.1 only; the subscribers come from all of 127.0.0.0/8.
            .args(["--protected-mode", "no"])
            .args(["--port", &port.to_string(), "--maxclients", "20000"])
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let tcp = SocketAddr::from(([127, 0, 0, 1], port));
        let server = ServerProcess {
            child,
            udp: None,
            tcp,
        };
        let deadline = Instant::now() + READY_WITHIN;
        while TcpStream::connect(tcp).is_err() {
            if Instant::now() > deadline {
                return Err(io::Error::other("redis-server did not start"));
            }
            thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
