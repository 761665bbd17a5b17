//! The servers under test, each started by the tool as a child pinned to the server CPU, and
//! stopped by its pid when dropped.

use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

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
    /// `listening` satisfies `ready` (at once, for a `ready` that is always true).
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
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        reader.read_line(&mut first)?;
        let listening: Listening = match serde_json::from_str(&first) {
            Ok(l) => l,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other(format!(
                    "{bin} server: unexpected first line {first:?}: {e}"
                )));
            }
        };
        if listening.event != "listening" {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(format!(
                "{bin}: first event is not listening"
            )));
        }
        if !ready("") {
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(io::Error::other(format!("{bin} server ended before ready")));
                }
                if ready(&line) {
                    break;
                }
            }
        }
        thread::spawn(move || io::copy(&mut reader, &mut io::sink()));
        Ok(ServerProcess {
            child,
            udp: Some(listening.udp),
            tcp: listening.tcp,
        })
    }

    /// Starts `redis-server` on a free loopback port, persistence off, pinned to `cpu`, and
    /// waits until it accepts connections.
    pub fn redis(bin: &str, cpu: usize) -> io::Result<ServerProcess> {
        ServerProcess::redis_with(bin, cpu, &[])
    }

    /// The same with `extra` arguments.
    pub fn redis_with(bin: &str, cpu: usize, extra: &[&str]) -> io::Result<ServerProcess> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new("taskset")
            .args(["-c", &cpu.to_string(), bin])
            .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
            // Protected mode admits 127.0.0.1 only; the subscribers come from all of 127.0.0.0/8.
            .args(["--protected-mode", "no"])
            .args(["--port", &port.to_string(), "--maxclients", "20000"])
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .args(extra)
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
        let deadline = Instant::now() + Duration::from_secs(10);
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
