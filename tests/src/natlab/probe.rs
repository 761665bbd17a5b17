//! A plain UDP socket inside a lab host, to check what the lab's NATs do without any feige code
//! in the way: a small python3 program (the crate builds no helper binaries) that prints one JSON
//! line per datagram it receives and sends one datagram per line it reads.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::topology::{Host, Lab};
use crate::proc::{Proc, STEP};

/// Binds `argv[1]` (`ip:port`), prints `{"event":"bound","local":...}`, then a `recv` line
/// (`source`, `text`) for each datagram, answering it with the address it came from when
/// `argv[2]` is `echo` (a STUN server in miniature); each stdin line `ip:port text` is sent.
const SCRIPT: &str = r#"
import json, socket, sys, threading
host, port = sys.argv[1].rsplit(":", 1)
echo = sys.argv[2:] == ["echo"]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind((host, int(port)))
def out(**fields):
    print(json.dumps(fields), flush=True)
out(event="bound", local="%s:%d" % s.getsockname())
def receive():
    while True:
        data, source = s.recvfrom(65536)
        seen = "%s:%d" % source
        out(event="recv", source=seen, text=data.decode("utf-8", "replace"))
        if echo:
            s.sendto(seen.encode(), source)
threading.Thread(target=receive, daemon=True).start()
for line in sys.stdin:
    target, _, text = line.rstrip("\n").partition(" ")
    ip, port = target.rsplit(":", 1)
    s.sendto(text.encode(), (ip, int(port)))
"#;

/// Why probes cannot run here, if they cannot (python3 is missing).
pub fn unavailable() -> Option<String> {
    (!crate::proc::runs("python3", "--version"))
        .then(|| "python3 is not installed (the lab's self-tests use it)".to_owned())
}

/// A UDP socket on a lab host, driven through a python3 child.
pub struct Probe {
    proc: Proc,
    /// Where the socket is bound, as the host sees it.
    pub local: SocketAddr,
}

/// A datagram a probe received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The address it came from, as the probe's host saw it (after any NAT).
    pub source: SocketAddr,
    /// Its payload.
    pub text: String,
}

impl Probe {
    /// A probe on `host` bound to `bind` (`0.0.0.0:0` for any); an echoing probe answers every
    /// datagram with the source address it saw.
    pub fn start(lab: &Lab, host: Host, label: &str, bind: SocketAddr, echo: bool) -> Probe {
        let bind = bind.to_string();
        let mut args = vec!["-c", SCRIPT, &bind];
        if echo {
            args.push("echo");
        }
        let mut proc = lab.spawn(host, label, Path::new("python3"), &args);
        let bound = proc.wait_event("bound");
        let local = bound["local"]
            .as_str()
            .and_then(|local| local.parse().ok())
            .unwrap_or_else(|| panic!("{label}: bound to no address: {bound}"));
        Probe { proc, local }
    }

    /// Sends `text` to `to`.
    pub fn send(&mut self, to: SocketAddr, text: &str) {
        self.proc.send_line(&format!("{to} {text}"));
    }

    /// The next datagram, or `None` if none comes within `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> Option<Datagram> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.proc.next_line(left)?;
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if event["event"] != "recv" {
                continue;
            }
            let source = event["source"].as_str().and_then(|s| s.parse().ok());
            if let (Some(source), Some(text)) = (source, event["text"].as_str()) {
                return Some(Datagram {
                    source,
                    text: text.to_owned(),
                });
            }
        }
    }

    /// Sends `text` to an echoing probe at `reflector` and returns the address the reflector
    /// saw it from: this probe's public mapping toward that reflector.
    pub fn mapped_toward(&mut self, reflector: SocketAddr) -> SocketAddr {
        self.send(reflector, "where am I?");
        let answer = self
            .recv(STEP)
            .unwrap_or_else(|| panic!("{}: no answer from {reflector}", self.proc.label()));
        assert_eq!(answer.source, reflector, "an answer from elsewhere");
        answer
            .text
            .parse()
            .unwrap_or_else(|_| panic!("the reflector answered {:?}", answer.text))
    }

    /// Every datagram received until none has come for `quiet`.
    pub fn drain(&mut self, quiet: Duration) -> Vec<Datagram> {
        std::iter::from_fn(|| self.recv(quiet)).collect()
    }
}
