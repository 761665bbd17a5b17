//! A spawned binary whose stdout is read line by line, always with a timeout, and which is killed
//! when the test lets go of it (pass or panic).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::STEP;

/// A running child process.
pub struct Proc {
    label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// Stdout while nobody reads it (see [`Proc::spawn_unread_after_first_line`]).
    unread: Option<(ChildStdout, mpsc::Sender<String>)>,
    /// Every line read so far, for failure messages.
    history: Vec<String>,
}

impl Proc {
    /// Starts `binary` with `args`, stdin and stdout piped (stderr goes to the test's output).
    pub fn spawn(label: &str, binary: &Path, args: &[&str]) -> Proc {
        let mut child = Command::new(binary)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{label}: cannot start {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        Proc {
            label: label.to_owned(),
            stdin: child.stdin.take(),
            child,
            lines,
            unread: Some((stdout, tx)),
            history: Vec::new(),
        }
        .reading()
    }

    /// Starts the thread that reads stdout line by line, if it is not running.
    fn reading(mut self) -> Proc {
        self.start_reading();
        self
    }

    /// Reads stdout again (after [`spawn_unread_after_first_line`](Self::spawn_unread_after_first_line)).
    pub fn start_reading(&mut self) {
        let Some((stdout, tx)) = self.unread.take() else {
            return;
        };
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                        if tx.send(text).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }

    /// Starts `binary` like [`spawn`](Self::spawn), but reads only its first stdout line (one
    /// byte at a time, so nothing more is taken from the pipe): after it, nobody reads its output
    /// until [`start_reading`](Self::start_reading), as when a program's stdout goes to a stalled
    /// consumer.
    pub fn spawn_unread_after_first_line(
        label: &str,
        binary: &Path,
        args: &[&str],
    ) -> (Proc, String) {
        let mut child = Command::new(binary)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{label}: cannot start {}: {e}", binary.display()));
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut first = Vec::new();
        let mut byte = [0u8; 1];
        while first.last() != Some(&b'\n') {
            match std::io::Read::read(&mut stdout, &mut byte) {
                Ok(1) => first.push(byte[0]),
                _ => panic!("{label}: no first line"),
            }
        }
        let (tx, lines) = mpsc::channel();
        let proc = Proc {
            label: label.to_owned(),
            stdin: child.stdin.take(),
            child,
            lines,
            unread: Some((stdout, tx)),
            history: Vec::new(),
        };
        (proc, String::from_utf8_lossy(&first).trim_end().to_owned())
    }

    /// The name used in failure messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The next stdout line, or `None` at end of output or after `timeout`.
    pub fn next_line(&mut self, timeout: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        self.history.push(line.clone());
        Some(line)
    }

    /// The next line as JSON; panics (with what was seen) if none comes within [`STEP`] or it
    /// is not JSON.
    pub fn next_json(&mut self) -> Value {
        let line = self
            .next_line(STEP)
            .unwrap_or_else(|| panic!("{}: no output line; seen: {:#?}", self.label, self.history));
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {line}", self.label))
    }

    /// Skips lines until a JSON event satisfies `matches`; panics after [`STEP`].
    pub fn wait_for(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{}: no {what} within {STEP:?}; seen: {:#?}",
                        self.label, self.history
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "{}: output ended before {what}; seen: {:#?}",
                        self.label, self.history
                    )
                }
            };
            self.history.push(line.clone());
            if let Ok(value) = serde_json::from_str::<Value>(&line) {
                if matches(&value) {
                    return value;
                }
            }
        }
    }

    /// Skips lines until the JSON event named `event`.
    pub fn wait_event(&mut self, event: &str) -> Value {
        self.wait_for(&format!("{event:?} event"), |v| v["event"] == event)
    }

    /// Whether an event satisfying `matches` was printed so far (without waiting).
    pub fn has_seen(&self, matches: impl Fn(&Value) -> bool) -> bool {
        self.history
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .any(|v| matches(&v))
    }

    /// How many events satisfying `matches` were printed so far (without waiting).
    pub fn seen(&self, matches: impl Fn(&Value) -> bool) -> usize {
        self.history
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|v| matches(v))
            .count()
    }

    /// Types one line on the child's stdin.
    pub fn send_line(&mut self, line: &str) {
        let label = &self.label;
        let stdin = self
            .stdin
            .as_mut()
            .unwrap_or_else(|| panic!("{label}: stdin already closed"));
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("{label}: cannot write stdin: {e}"));
    }

    /// Closes the child's stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Kills the child at once (SIGKILL on Unix: no chance to log out).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGINT (Ctrl-C) to the child.
    #[cfg(unix)]
    pub fn interrupt(&mut self) {
        use rustix::process::{kill_process, Pid, Signal};
        let pid = i32::try_from(self.child.id())
            .ok()
            .and_then(Pid::from_raw)
            .unwrap_or_else(|| panic!("{}: no pid", self.label));
        kill_process(pid, Signal::INT)
            .unwrap_or_else(|e| panic!("{}: cannot send SIGINT: {e}", self.label));
    }

    /// Waits for the child to exit on its own; panics after [`STEP`].
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + STEP;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Ok(None) => panic!("{}: still running after {STEP:?}", self.label),
                Err(e) => panic!("{}: cannot wait: {e}", self.label),
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}
