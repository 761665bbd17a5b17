//! One network namespace of a lab: created with `ip netns add`, configured with `ip -batch` and
//! `nft -f`, and on drop emptied (every process in it killed) and deleted, on a pass and on a
//! panic alike.
//!
//! Names are `fg<pid>-<n>-<role>`: the pid of the test process that made them, a counter per
//! process, and the namespace's role. Concurrent labs and concurrent test processes therefore
//! never collide, and a namespace left behind by a process that died without unwinding (SIGKILL,
//! abort) can be recognised by its dead pid and swept by the next lab ([`sweep_stale`]).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use rustix::process::{kill_process, Pid, Signal};

use crate::proc::Proc;

/// A namespace the lab created; deleted on drop.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace `name` with its loopback up.
    ///
    /// Panics if it cannot: without it there is no lab.
    pub fn create(name: String) -> Netns {
        run(Command::new("ip").args(["netns", "add", &name]), None);
        let netns = Netns { name };
        netns.ip_batch(&["link set dev lo up".to_owned()]);
        netns
    }

    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip` commands (one per line, without the leading `ip`) inside the namespace, in one
    /// process: a lab is built from a few dozen of them.
    pub fn ip_batch(&self, commands: &[String]) {
        let script = commands.join("\n") + "\n";
        run(
            Command::new("ip").args(["-n", &self.name, "-batch", "-"]),
            Some(&script),
        );
    }

    /// Loads an nftables ruleset into the namespace.
    pub fn nft(&self, ruleset: &str) {
        run(&mut self.command("nft", &["-f", "-"]), Some(ruleset));
    }

    /// Makes the namespace forward packets between its interfaces (a router).
    pub fn enable_forwarding(&self) {
        run(
            &mut self.command("sysctl", &["-qw", "net.ipv4.ip_forward=1"]),
            None,
        );
    }

    /// `program args` to run inside the namespace. `ip netns exec` execs the program, so the
    /// child's pid is the program's own and killing the child kills the program.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.name, program])
            .args(args);
        command
    }

    /// Starts `program args` inside the namespace as a [`Proc`]: stdout read line by line, killed
    /// when dropped.
    pub fn spawn(&self, label: &str, program: &Path, args: &[&str]) -> Proc {
        let program = program
            .to_str()
            .unwrap_or_else(|| panic!("{label}: the path {} is not UTF-8", program.display()));
        let mut all = vec!["netns", "exec", &self.name, program];
        all.extend_from_slice(args);
        Proc::spawn(label, Path::new("ip"), &all)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        remove(&self.name);
    }
}

/// A fresh prefix `fg<pid>-<n>` for the namespaces of one lab.
pub fn fresh_prefix() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("fg{}-{n}", std::process::id())
}

/// Deletes (once per test process) the namespaces of labs whose process is gone: a lab that was
/// dropped cleaned up after itself, but a test process killed outright leaves its namespaces
/// behind. Best effort: a namespace that cannot be removed is left as it is.
pub fn sweep_stale() {
    static SWEPT: Once = Once::new();
    SWEPT.call_once(|| {
        let Ok(list) = Command::new("ip").args(["netns", "list"]).output() else {
            return;
        };
        for line in String::from_utf8_lossy(&list.stdout).lines() {
            let Some(name) = line.split_whitespace().next() else {
                continue;
            };
            if creator_pid(name).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
                remove(name);
            }
        }
    });
}

/// The pid in a lab namespace's name (`fg<pid>-<n>-<role>`), or `None` for any other name.
fn creator_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("fg")?;
    let (pid, rest) = rest.split_once('-')?;
    let (n, role) = rest.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(pid) && digits(n) && !role.is_empty()) {
        return None;
    }
    pid.parse().ok()
}

/// Kills every process inside the namespace `name`, then deletes it. The namespace (and the
/// interfaces in it) is gone once its last process has exited; a killed child of this test
/// process has, even before it is reaped.
fn remove(name: &str) {
    if let Ok(pids) = Command::new("ip").args(["netns", "pids", name]).output() {
        for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
            if let Some(pid) = pid.parse().ok().and_then(Pid::from_raw) {
                let _ = kill_process(pid, Signal::KILL);
            }
        }
    }
    let _ = Command::new("ip")
        .args(["netns", "delete", name])
        .stderr(Stdio::null())
        .status();
}

/// Runs a configuration command to completion, `input` on its stdin; panics with its output if
/// it fails (a lab half built would give meaningless results).
fn run(command: &mut Command, input: Option<&str>) {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("cannot feed {command:?}: {e}"));
    }
    // Dropping stdin (if not taken above, here) ends the input.
    drop(child.stdin.take());
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}\ninput:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        input.unwrap_or("(none)")
    );
}

#[cfg(test)]
mod tests {
    use super::creator_pid;

    #[test]
    fn only_lab_names_carry_a_creator() {
        assert_eq!(creator_pid("fg1234-0-inet"), Some(1234));
        assert_eq!(creator_pid("fg1234-17-alice-nat"), Some(1234));
        assert_eq!(creator_pid("fg-0-inet"), None);
        assert_eq!(creator_pid("fgx-0-inet"), None);
        assert_eq!(creator_pid("fg12-x-inet"), None);
        assert_eq!(creator_pid("fg12-0-"), None);
        assert_eq!(creator_pid("fg12"), None);
        assert_eq!(creator_pid("docker-fg12-0-inet"), None);
    }
}
