//! The lab's server and chat clients as processes whose `--json` events are kept with the
//! moment they were read, so that a run can be judged and timed after it ended.
//!
//! Nothing here panics on what the programs do (or fail to do): a matrix wants every pair's
//! result, not the first failure, so waits return whether they were satisfied and the judge
//! ([`super::judge`]) reads the record afterwards.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::topology::{Host, Lab, SERVER_TCP, SERVER_UDP};
use crate::proc::{Proc, STEP};

/// One event and when the test read it (see [`pump`] for how soon after its printing).
#[derive(Debug, Clone)]
pub struct Stamped {
    /// When it was read.
    pub at: Instant,
    /// The JSON event.
    pub event: Value,
}

/// What a program printed and what was typed to it, with the moments.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The user's name (or `server`).
    pub name: String,
    /// Its JSON events, in order.
    pub events: Vec<Stamped>,
    /// The lines typed on its stdin, and when.
    pub typed: Vec<(Instant, String)>,
}

impl Record {
    /// Whether any event satisfies `matches`.
    pub fn any(&self, matches: impl Fn(&Value) -> bool) -> bool {
        self.events.iter().any(|e| matches(&e.event))
    }

    /// How many events satisfy `matches`.
    pub fn count(&self, matches: impl Fn(&Value) -> bool) -> usize {
        self.events.iter().filter(|e| matches(&e.event)).count()
    }
}

/// A running program of the lab (killed when dropped) and its [`Record`] so far.
pub struct Program {
    proc: Proc,
    /// What it printed and was typed so far.
    pub record: Record,
}

impl Program {
    /// Starts the server (`server --json` on [`SERVER_UDP`] and [`SERVER_TCP`]) and waits for it
    /// to listen.
    pub fn server(lab: &Lab, binary: &Path) -> Result<Program, String> {
        let (udp, tcp) = (SERVER_UDP.to_string(), SERVER_TCP.to_string());
        let args = ["server", "--json", "--udp", &udp, "--tcp", &tcp];
        let mut server = Program::spawn(lab, Host::Server, "server", binary, &args);
        let listening = |e: &Value| e["event"] == "listening";
        if server.wait(STEP, |s| s.record.any(listening)) {
            Ok(server)
        } else {
            Err(format!(
                "the server did not listen: {:?}",
                server.record.events
            ))
        }
    }

    /// Starts `chat NAME --json --ephemeral` on `host` and waits for it to log in.
    pub fn client(lab: &Lab, host: Host, name: &str, binary: &Path) -> Result<Program, String> {
        let server = SERVER_UDP.to_string();
        let args = ["chat", name, "--server", &server, "--json", "--ephemeral"];
        let mut chat = Program::spawn(lab, host, name, binary, &args);
        let settled = |e: &Value| {
            ["logged_in", "login_failed", "disconnected"]
                .contains(&e["event"].as_str().unwrap_or(""))
        };
        chat.wait(STEP, |c| c.record.any(settled));
        if chat.record.any(|e| e["event"] == "logged_in") {
            Ok(chat)
        } else {
            Err(format!("{name} did not log in: {:?}", chat.record.events))
        }
    }

    fn spawn(lab: &Lab, host: Host, name: &str, binary: &Path, args: &[&str]) -> Program {
        Program {
            proc: lab.spawn(host, name, binary, args),
            record: Record {
                name: name.to_owned(),
                ..Record::default()
            },
        }
    }

    /// Types `line` on the program's stdin.
    pub fn type_line(&mut self, line: &str) {
        self.record.typed.push((Instant::now(), line.to_owned()));
        self.proc.send_line(line);
    }

    /// Takes in every line printed so far; whether there was any.
    fn take_output(&mut self) -> bool {
        let mut any = false;
        while self.take_line(Duration::ZERO) {
            any = true;
        }
        any
    }

    /// Takes in the next line, waiting up to `wait` for it (and returning as soon as it comes);
    /// whether there was one.
    fn take_line(&mut self, wait: Duration) -> bool {
        let Some(line) = self.proc.next_line(wait) else {
            return false;
        };
        if let Ok(event) = serde_json::from_str(&line) {
            self.record.events.push(Stamped {
                at: Instant::now(),
                event,
            });
        }
        true
    }

    /// Reads this program alone until `done` or `timeout`; whether `done` came true.
    pub fn wait(&mut self, timeout: Duration, done: impl Fn(&Program) -> bool) -> bool {
        pump(&mut [self], timeout, |programs| done(programs[0]))
    }

    /// Stops the program (killing it) and keeps what it printed until now.
    pub fn into_record(self) -> Record {
        self.record
    }
}

/// Reads every program in `programs` until `done` holds or `timeout` has passed; whether `done`
/// came true. While all are quiet it waits on the first one, so the first program's events are
/// stamped as they come (the sender's `delivered`, for the timings) and the others' within a
/// millisecond.
pub fn pump(
    programs: &mut [&mut Program],
    timeout: Duration,
    done: impl Fn(&[&mut Program]) -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let mut idle = true;
        for program in programs.iter_mut() {
            idle &= !program.take_output();
        }
        if done(programs) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        if idle {
            if let Some(first) = programs.first_mut() {
                first.take_line(Duration::from_millis(1));
            }
        }
    }
}
