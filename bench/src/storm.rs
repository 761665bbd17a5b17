//! The login storm: N raw clients log in at once (at most `window` of them between their login
//! datagram and their snapshot) to one server, or spread over the coordinators of a cluster,
//! and each checks that its list becomes complete and exact: every one of the N names, each with
//! the endpoint it logged in from, once.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use smol::channel::unbounded;
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::lock::Semaphore;
use smol::{future, Async, LocalExecutor, Timer};

use crate::login::Pending;
use crate::net::source_ip;

/// A storm still unfinished after this is cut short and reported as such.
const STORM_LIMIT: Duration = Duration::from_secs(180);
/// Clients waiting this long for their list ping, as real clients do, so the server's idle
/// timeout (60 s) does not end a long storm.
const PING_EVERY: Duration = Duration::from_secs(20);

/// What the storm clients share.
struct Shared {
    n: usize,
    /// Client `i` logs in to `servers[i % len]`.
    servers: Vec<SocketAddr>,
    /// Endpoint of client `i` as text, known once its socket is bound (before its login).
    endpoints: RefCell<Vec<Option<String>>>,
    window: Semaphore,
    /// `login` lines and snapshots received by all clients.
    presence_lines: Cell<u64>,
    /// Clients that have their snapshot, and those whose list is complete: what a stalled
    /// storm reports.
    with_snapshot: Cell<usize>,
    complete: Cell<usize>,
    /// Wrong entries so far.
    wrong: Cell<u64>,
}

/// One finished storm.
pub struct Storm {
    /// From the first login datagram until the last client's list was complete.
    pub seconds: f64,
    /// Presence lines (`login` lines and snapshots) delivered to all clients.
    pub presence_lines: u64,
    /// Entries that were wrong: unknown name, wrong endpoint, or listed twice.
    pub wrong_entries: u64,
    /// Clients whose list was complete (all of them, unless the storm was cut short).
    pub complete: usize,
    /// Clients that had their snapshot.
    pub with_snapshot: usize,
    /// The clients' TCP sessions, still online, for the measurements that follow (none when the
    /// storm was cut short).
    pub sessions: Vec<Async<TcpStream>>,
}

/// Runs a storm of `n` clients named `u0`…, spread over `servers` in turn; `window` bounds the
/// logins in flight.
pub async fn run(
    ex: &LocalExecutor<'static>,
    servers: &[SocketAddr],
    n: usize,
    window: usize,
) -> io::Result<Storm> {
    if servers.is_empty() {
        return Err(io::Error::other("a storm needs a server"));
    }
    let shared = Rc::new(Shared {
        n,
        servers: servers.to_vec(),
        endpoints: RefCell::new(vec![None; n]),
        window: Semaphore::new(window.max(1)),
        presence_lines: Cell::new(0),
        with_snapshot: Cell::new(0),
        complete: Cell::new(0),
        wrong: Cell::new(0),
    });
    let start = Instant::now();
    let (results, finished) = unbounded();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let shared = Rc::clone(&shared);
            let results = results.clone();
            ex.spawn(async move {
                let _ = results.send(client(i, shared).await).await;
            })
        })
        .collect();
    // Results in the order they come, so the first failure is reported at once.
    let collect = async {
        let mut done = Vec::with_capacity(n);
        while done.len() < n {
            let result = finished
                .recv()
                .await
                .map_err(|_| io::Error::other("storm clients vanished"))?;
            done.push(result?);
        }
        Ok::<_, io::Error>(Some(done))
    };
    let give_up = async {
        Timer::after(STORM_LIMIT).await;
        Ok(None)
    };
    let outcome = future::or(collect, give_up).await;
    drop(tasks);
    let Some(done) = outcome? else {
        return Ok(Storm {
            seconds: STORM_LIMIT.as_secs_f64(),
            presence_lines: shared.presence_lines.get(),
            wrong_entries: shared.wrong.get(),
            complete: shared.complete.get(),
            with_snapshot: shared.with_snapshot.get(),
            sessions: Vec::new(),
        });
    };
    let mut sessions = Vec::with_capacity(n);
    let mut last = start;
    let mut wrong_entries = 0;
    for client in done {
        last = last.max(client.complete_at);
        wrong_entries += client.wrong_entries;
        sessions.push(client.stream);
    }
    Ok(Storm {
        seconds: last.duration_since(start).as_secs_f64(),
        presence_lines: shared.presence_lines.get(),
        wrong_entries,
        complete: n,
        with_snapshot: n,
        sessions,
    })
}

struct ClientDone {
    stream: Async<TcpStream>,
    complete_at: Instant,
    wrong_entries: u64,
}

async fn client(i: usize, shared: Rc<Shared>) -> io::Result<ClientDone> {
    let permit = shared.window.acquire().await;
    let pending = Pending::bind(source_ip(i))?;
    if let Some(slot) = shared.endpoints.borrow_mut().get_mut(i) {
        *slot = Some(pending.endpoint.to_string());
    }
    let server = shared.servers[i % shared.servers.len()];
    let mut stream = pending.login(server, &format!("u{i}")).await?;
    let mut roster = Roster::new(shared.n);
    let mut permit = Some(permit);
    let mut buf = vec![0u8; 16 * 1024];
    let mut pending_bytes: Vec<u8> = Vec::new();
    let mut reported_wrong = 0;
    let mut last_ping = Instant::now();
    loop {
        let read = stream.read(&mut buf).await?;
        if read == 0 {
            let last = String::from_utf8_lossy(&pending_bytes).into_owned();
            return Err(io::Error::other(format!(
                "u{i}: server closed the session with {} of {} online (unfinished line {last:?})",
                roster.count, shared.n
            )));
        }
        pending_bytes.extend_from_slice(buf.get(..read).unwrap_or_default());
        let mut consumed = 0;
        while let Some(end) = pending_bytes
            .get(consumed..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            let line = pending_bytes
                .get(consumed..consumed + end)
                .unwrap_or_default();
            consumed += end + 1;
            if line.starts_with(b"error,") {
                return Err(io::Error::other(format!(
                    "u{i}: server closed the session: {}",
                    String::from_utf8_lossy(line)
                )));
            }
            let endpoints = shared.endpoints.borrow();
            if roster.apply(line, &endpoints) {
                shared.presence_lines.set(shared.presence_lines.get() + 1);
            }
            if roster.has_snapshot && permit.take().is_some() {
                // Logged in: let the next client start.
                shared.with_snapshot.set(shared.with_snapshot.get() + 1);
            }
        }
        pending_bytes.drain(..consumed);
        if last_ping.elapsed() >= PING_EVERY {
            stream.write_all(b"ping\n").await?;
            last_ping = Instant::now();
        }
        if roster.wrong > reported_wrong {
            shared
                .wrong
                .set(shared.wrong.get() + roster.wrong - reported_wrong);
            reported_wrong = roster.wrong;
        }
        if roster.count == shared.n {
            shared.complete.set(shared.complete.get() + 1);
            return Ok(ClientDone {
                stream,
                complete_at: Instant::now(),
                wrong_entries: roster.wrong,
            });
        }
    }
}

/// One client's view of who is online, checked against what each client declared.
struct Roster {
    present: Vec<bool>,
    count: usize,
    wrong: u64,
    has_snapshot: bool,
}

impl Roster {
    fn new(n: usize) -> Roster {
        Roster {
            present: vec![false; n],
            count: 0,
            wrong: 0,
            has_snapshot: false,
        }
    }

    /// Applies one server line; true if it was a presence line (snapshot or `login`).
    fn apply(&mut self, line: &[u8], endpoints: &[Option<String>]) -> bool {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.contains(&b';') {
            self.has_snapshot = true;
            for entry in line.split(|&b| b == b';') {
                if entry != b"end" && !entry.is_empty() {
                    self.set(entry, true, endpoints);
                }
            }
            true
        } else if let Some(entry) = line.strip_prefix(b"login,") {
            self.set(entry, true, endpoints);
            true
        } else if let Some(entry) = line.strip_prefix(b"logout,") {
            self.set(entry, false, endpoints);
            false
        } else {
            false
        }
    }

    /// `entry` is `u<i>,<endpoint>`.
    fn set(&mut self, entry: &[u8], online: bool, endpoints: &[Option<String>]) {
        let index = entry.iter().position(|&b| b == b',').and_then(|comma| {
            let name = entry.get(..comma)?;
            let endpoint = entry.get(comma + 1..)?;
            let i: usize = std::str::from_utf8(name.strip_prefix(b"u")?)
                .ok()?
                .parse()
                .ok()?;
            let expected = endpoints.get(i)?.as_deref()?;
            (expected.as_bytes() == endpoint).then_some(i)
        });
        let Some(slot) = index.and_then(|i| self.present.get_mut(i)) else {
            self.wrong += 1;
            return;
        };
        match (*slot, online) {
            (false, true) => {
                *slot = true;
                self.count += 1;
            }
            (true, false) => {
                *slot = false;
                self.count -= 1;
            }
            _ => self.wrong += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_counts_exact_entries_and_flags_wrong_ones() {
        let endpoints = vec![
            Some("127.0.0.1:1000".to_owned()),
            Some("127.0.0.2:2000".to_owned()),
        ];
        let mut roster = Roster::new(2);
        assert!(roster.apply(b"u0,127.0.0.1:1000;end", &endpoints));
        assert_eq!((roster.count, roster.wrong), (1, 0));
        assert!(roster.apply(b"login,u1,127.0.0.2:9999", &endpoints));
        assert_eq!((roster.count, roster.wrong), (1, 1));
        assert!(roster.apply(b"login,u1,127.0.0.2:2000\r", &endpoints));
        assert_eq!((roster.count, roster.wrong), (2, 1));
        assert!(roster.apply(b"login,u1,127.0.0.2:2000", &endpoints));
        assert_eq!((roster.count, roster.wrong), (2, 2));
        assert!(!roster.apply(b"logout,u0,127.0.0.1:1000", &endpoints));
        assert_eq!(roster.count, 1);
    }
}
