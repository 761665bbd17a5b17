//! The two ways a user runs the binary: a server and a chat client, both with `--json`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::path::Path;

use serde_json::Value;

use std::thread;
use std::time::{Duration, Instant};

use super::child::Proc;
use super::STEP;

/// A running `server --json`, with the addresses from its `listening` line.
pub struct ServerProc {
    /// The process.
    pub proc: Proc,
    /// Its UDP address.
    pub udp: SocketAddr,
    /// Its TCP address.
    pub tcp: SocketAddr,
    /// Its metrics endpoint, when started with `--metrics`.
    pub metrics: Option<SocketAddr>,
}

/// Starts `server --json` on `ip`, any free ports, and reads where it listens.
pub fn start_server(binary: &Path, ip: &str) -> ServerProc {
    start_server_with(binary, ip, &[], true)
}

/// Starts `server --json` on `ip`, any free ports, with `extra` arguments (`--metrics` on `ip`
/// too when `extra` asks for it by `--metrics` alone); after the `listening` line its stdout is
/// read only if `read_output`, else left to fill until [`Proc::start_reading`].
pub fn start_server_with(binary: &Path, ip: &str, extra: &[&str], read_output: bool) -> ServerProc {
    let any_port = if ip.contains(':') {
        format!("[{ip}]:0")
    } else {
        format!("{ip}:0")
    };
    let mut args = vec!["server", "--json", "--udp", &any_port, "--tcp", &any_port];
    for arg in extra {
        args.push(arg);
        if *arg == "--metrics" {
            args.push(&any_port);
        }
    }
    launch_server(binary, &args, read_output)
}

/// Starts `server --json` again where an earlier one listened (`udp` and `tcp`): a restart.
pub fn restart_server(binary: &Path, udp: SocketAddr, tcp: SocketAddr) -> ServerProc {
    let (udp, tcp) = (udp.to_string(), tcp.to_string());
    let args = ["server", "--json", "--udp", &udp, "--tcp", &tcp];
    launch_server(binary, &args, true)
}

fn launch_server(binary: &Path, args: &[&str], read_output: bool) -> ServerProc {
    let (proc, first) = if read_output {
        let mut proc = Proc::spawn("server", binary, args);
        let first = proc.next_json();
        (proc, first)
    } else {
        let (proc, line) = Proc::spawn_unread_after_first_line("server", binary, args);
        let first = serde_json::from_str::<Value>(&line)
            .unwrap_or_else(|e| panic!("server's first line is not JSON ({e}): {line}"));
        (proc, first)
    };
    assert_eq!(first["event"], "listening", "server's first line: {first}");
    let addr = |key: &str| -> Option<SocketAddr> { first[key].as_str()?.parse().ok() };
    let required = |key: &str| {
        addr(key).unwrap_or_else(|| panic!("listening.{key} is not an address: {first}"))
    };
    let (udp, tcp) = (required("udp"), required("tcp"));
    assert_ne!(udp.port(), 0);
    assert_ne!(tcp.port(), 0);
    ServerProc {
        udp,
        tcp,
        metrics: addr("metrics"),
        proc,
    }
}

impl Deref for ServerProc {
    type Target = Proc;
    fn deref(&self) -> &Proc {
        &self.proc
    }
}

impl DerefMut for ServerProc {
    fn deref_mut(&mut self) -> &mut Proc {
        &mut self.proc
    }
}

/// A running `chat NAME --json` that has logged in.
pub struct ChatProc {
    /// The process.
    pub proc: Proc,
    /// The `logged_in` event.
    pub logged_in: Value,
}

impl ChatProc {
    /// Asks for the list until it is exactly `expected` (name → endpoint), within [`STEP`]: the
    /// last to log in, or to be unlisted, may take a moment.
    pub fn wait_for_list(&mut self, expected: &BTreeMap<String, Value>) {
        let deadline = Instant::now() + STEP;
        loop {
            self.send_line("/list");
            let users = self.wait_event("users");
            let listed: BTreeMap<String, Value> = users["users"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| Some((u["name"].as_str()?.to_owned(), u["endpoint"].clone())))
                .collect();
            if &listed == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: the list stays {listed:?}, not {expected:?}",
                self.label()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Our endpoint as the server listed it.
    pub fn endpoint(&self) -> &str {
        self.logged_in["endpoint"].as_str().unwrap_or_default()
    }

    /// The names in the login snapshot, in order.
    pub fn initial_names(&self) -> Vec<String> {
        names(&self.logged_in["users"])
    }
}

/// The names in a `users` array.
pub fn names(users: &Value) -> Vec<String> {
    users
        .as_array()
        .map(|users| {
            users
                .iter()
                .filter_map(|u| u["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Starts `chat NAME --json --ephemeral --server SERVER` and waits for `logged_in`.
pub fn start_chat(binary: &Path, name: &str, server: SocketAddr) -> ChatProc {
    // Tests keep nothing on disk: every run starts with fresh identities.
    start_chat_with(binary, name, server, &["--ephemeral"])
}

/// Starts `chat NAME --json --server SERVER` with `extra` arguments (`--data-dir DIR`, say) and
/// waits for `logged_in`.
pub fn start_chat_with(binary: &Path, name: &str, server: SocketAddr, extra: &[&str]) -> ChatProc {
    let server = server.to_string();
    let mut args = vec!["chat", name, "--json", "--server", &server];
    args.extend_from_slice(extra);
    let mut proc = Proc::spawn(name, binary, &args);
    let logged_in = proc.wait_for("logged_in", |v| {
        assert!(
            v["event"] != "login_failed" && v["event"] != "disconnected",
            "{name} could not log in: {v}"
        );
        v["event"] == "logged_in"
    });
    assert_eq!(logged_in["name"], name, "{logged_in}");
    ChatProc { proc, logged_in }
}

impl Deref for ChatProc {
    type Target = Proc;
    fn deref(&self) -> &Proc {
        &self.proc
    }
}

impl DerefMut for ChatProc {
    fn deref_mut(&mut self) -> &mut Proc {
        &mut self.proc
    }
}
