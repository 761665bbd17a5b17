//! The login storm: N raw clients log in at once (at most `window` of them between their login
//! datagram and their snapshot) to one server, or spread over the coordinators of a cluster,
//! and each checks that its list becomes complete and exact: every one of the N names, each with
//! the endpoint it logged in from, once.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use smol::channel::unbounded;
use smol::lock::{Semaphore, SemaphoreGuardArc};
use smol::{future, Async, LocalExecutor, Timer};

use crate::login::Pending;
use crate::mux::Mux;
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
    window: Arc<Semaphore>,
    /// Every logged-in client's session, read by one task.
    mux: Mux,
    /// Client `i`'s reading state, from its login until its list is complete.
    reading: RefCell<Vec<Option<Reading>>>,
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
        window: Arc::new(Semaphore::new(window.max(1))),
        mux: Mux::new()?,
        reading: RefCell::new((0..n).map(|_| None).collect()),
        presence_lines: Cell::new(0),
        with_snapshot: Cell::new(0),
        complete: Cell::new(0),
        wrong: Cell::new(0),
    });
    let start = Instant::now();
    let (failures, failed) = unbounded();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let shared = Rc::clone(&shared);
            let failures = failures.clone();
            ex.spawn(async move {
                if let Err(e) = log_in(i, shared).await {
                    let _ = failures.send(e).await;
                }
            })
        })
        .collect();
    // The first failure is reported at once.
    let first_failure = async {
        match failed.recv().await {
            Ok(e) => Err(e),
            Err(_) => future::pending().await,
        }
    };
    let all_read = async { read_all(&shared).await.map(Some) };
    let give_up = async {
        Timer::after(STORM_LIMIT).await;
        Ok(None)
    };
    let outcome = future::or(future::or(all_read, first_failure), give_up).await;
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
        sessions.push(Async::new(client.stream)?);
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
    stream: TcpStream,
    complete_at: Instant,
    wrong_entries: u64,
}

/// One client from its login until its list is complete.
struct Reading {
    stream: TcpStream,
    roster: Roster,
    /// Held until the snapshot arrives: the window's place of this login.
    permit: Option<SemaphoreGuardArc>,
    reported_wrong: u64,
    last_ping: Instant,
}

/// Logs client `i` in, then leaves its session to [`read_all`].
async fn log_in(i: usize, shared: Rc<Shared>) -> io::Result<()> {
    let permit = shared.window.acquire_arc().await;
    let pending = Pending::bind(source_ip(i))?;
    if let Some(slot) = shared.endpoints.borrow_mut().get_mut(i) {
        *slot = Some(pending.endpoint.to_string());
    }
    let server = shared.servers[i % shared.servers.len()];
    let stream = pending
        .login(server, &format!("u{i}"))
        .await?
        .into_inner()?;
    shared.mux.add(i, &stream)?;
    if let Some(slot) = shared.reading.borrow_mut().get_mut(i) {
        *slot = Some(Reading {
            stream,
            roster: Roster::new(shared.n),
            permit: Some(permit),
            reported_wrong: 0,
            last_ping: Instant::now(),
        });
    }
    Ok(())
}

/// Reads every logged-in session as bytes arrive, until every list is complete.
async fn read_all(shared: &Shared) -> io::Result<Vec<ClientDone>> {
    let mut done = Vec::with_capacity(shared.n);
    let (mut ready, mut events) = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    while done.len() < shared.n {
        // The logins in flight go on between batches, however busy the sessions.
        future::yield_now().await;
        shared.mux.ready(&mut ready, &mut events).await?;
        for &i in &ready {
            let mut reading = shared.reading.borrow_mut();
            let Some(client) = reading.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            if read_some(i, client, shared, &mut buf)? {
                let client = reading.get_mut(i).and_then(Option::take);
                if let Some(client) = client {
                    shared.mux.remove(&client.stream)?;
                    shared.complete.set(shared.complete.get() + 1);
                    done.push(ClientDone {
                        stream: client.stream,
                        complete_at: Instant::now(),
                        wrong_entries: client.roster.wrong,
                    });
                }
            }
        }
    }
    Ok(done)
}

/// Reads what client `i`'s session has (more than one buffer's worth only if it filled one)
/// and applies every whole line; true once its list is complete.
fn read_some(i: usize, client: &mut Reading, shared: &Shared, buf: &mut [u8]) -> io::Result<bool> {
    loop {
        let read = match client.stream.read(buf) {
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if read == 0 {
            let last = String::from_utf8_lossy(&client.roster.partial).into_owned();
            return Err(io::Error::other(format!(
                "u{i}: server closed the session with {} of {} online (unfinished line {last:?})",
                client.roster.count, shared.n
            )));
        }
        let bytes = buf.get(..read).unwrap_or_default();
        apply(i, client, shared, bytes)?;
        if client.last_ping.elapsed() >= PING_EVERY {
            client.stream.write_all(b"ping\n")?;
            client.last_ping = Instant::now();
        }
        if client.roster.wrong > client.reported_wrong {
            let more = client.roster.wrong - client.reported_wrong;
            shared.wrong.set(shared.wrong.get() + more);
            client.reported_wrong = client.roster.wrong;
        }
        if client.roster.count == shared.n {
            return Ok(true);
        }
        if read < buf.len() {
            return Ok(false);
        }
    }
}

/// Applies what `bytes` completes of the session's lines.
fn apply(i: usize, client: &mut Reading, shared: &Shared, bytes: &[u8]) -> io::Result<()> {
    let endpoints = shared.endpoints.borrow();
    let presence = client
        .roster
        .feed(bytes, &endpoints)
        .map_err(|line| io::Error::other(format!("u{i}: server closed the session: {line}")))?;
    shared
        .presence_lines
        .set(shared.presence_lines.get() + presence);
    if client.roster.has_snapshot && client.permit.take().is_some() {
        // Logged in: let the next client start.
        shared.with_snapshot.set(shared.with_snapshot.get() + 1);
    }
    Ok(())
}

/// One client's view of who is online, checked against what each client declared. It reads the
/// session as it comes: a snapshot's entries are applied as each arrives, so a snapshot of ten
/// thousand entries is never held whole.
struct Roster {
    /// Bit `i`: client `i` is listed.
    present: Vec<u64>,
    count: usize,
    wrong: u64,
    has_snapshot: bool,
    /// The start of a line, or of a snapshot entry, not yet complete.
    partial: Vec<u8>,
    /// Inside the snapshot line: pieces end at `;`, and the line's last one is `end`.
    in_snapshot: bool,
}

impl Roster {
    fn new(n: usize) -> Roster {
        Roster {
            present: vec![0; n.div_ceil(64)],
            count: 0,
            wrong: 0,
            has_snapshot: false,
            partial: Vec::new(),
            in_snapshot: false,
        }
    }

    /// Applies what `bytes` completes; returns the presence lines (snapshot or `login`) it
    /// completed, or the server's `error,…` line.
    fn feed(&mut self, bytes: &[u8], endpoints: &[Option<String>]) -> Result<u64, String> {
        let mut presence = 0;
        let mut rest = bytes;
        while let Some(at) = memchr::memchr2(b';', b'\n', rest) {
            let (head, tail) = rest.split_at(at);
            let ends_line = tail.first() == Some(&b'\n');
            rest = tail.get(1..).unwrap_or_default();
            let mut partial = std::mem::take(&mut self.partial);
            let piece = if partial.is_empty() {
                head
            } else {
                partial.extend_from_slice(head);
                partial.as_slice()
            };
            let piece = piece.strip_suffix(b"\r").unwrap_or(piece);
            if !ends_line {
                self.in_snapshot = true;
                self.set(piece, true, endpoints);
            } else if self.in_snapshot {
                // `end`, the snapshot's last piece.
                self.in_snapshot = false;
                self.has_snapshot = true;
                presence += 1;
            } else if piece.starts_with(b"error,") {
                return Err(String::from_utf8_lossy(piece).into_owned());
            } else if let Some(entry) = piece.strip_prefix(b"login,") {
                self.set(entry, true, endpoints);
                presence += 1;
            } else if let Some(entry) = piece.strip_prefix(b"logout,") {
                self.set(entry, false, endpoints);
            }
            partial.clear();
            self.partial = partial;
        }
        self.partial.extend_from_slice(rest);
        Ok(presence)
    }

    /// `entry` is `u<i>,<endpoint>`.
    fn set(&mut self, entry: &[u8], online: bool, endpoints: &[Option<String>]) {
        let index = memchr::memchr(b',', entry).and_then(|comma| {
            let digits = entry.get(..comma)?.strip_prefix(b"u")?;
            let endpoint = entry.get(comma + 1..)?;
            let i = parse_index(digits)?;
            let expected = endpoints.get(i)?.as_deref()?;
            (expected.as_bytes() == endpoint).then_some(i)
        });
        let Some((word, bit)) = index.and_then(|i| Some((self.present.get_mut(i / 64)?, i % 64)))
        else {
            self.wrong += 1;
            return;
        };
        let listed = *word >> bit & 1 == 1;
        match (listed, online) {
            (false, true) => {
                *word |= 1 << bit;
                self.count += 1;
            }
            (true, false) => {
                *word &= !(1 << bit);
                self.count -= 1;
            }
            _ => self.wrong += 1,
        }
    }
}

/// A client's number from its decimal digits.
fn parse_index(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.iter().try_fold(0usize, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + usize::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints() -> Vec<Option<String>> {
        vec![
            Some("127.0.0.1:1000".to_owned()),
            Some("127.0.0.2:2000".to_owned()),
        ]
    }

    #[test]
    fn roster_counts_exact_entries_and_flags_wrong_ones() {
        let endpoints = endpoints();
        let mut roster = Roster::new(2);
        assert_eq!(roster.feed(b"u0,127.0.0.1:1000;end\n", &endpoints), Ok(1));
        assert!(roster.has_snapshot);
        assert_eq!((roster.count, roster.wrong), (1, 0));
        assert_eq!(roster.feed(b"login,u1,127.0.0.2:9999\n", &endpoints), Ok(1));
        assert_eq!((roster.count, roster.wrong), (1, 1));
        assert_eq!(
            roster.feed(b"login,u1,127.0.0.2:2000\r\n", &endpoints),
            Ok(1)
        );
        assert_eq!((roster.count, roster.wrong), (2, 1));
        assert_eq!(roster.feed(b"login,u1,127.0.0.2:2000\n", &endpoints), Ok(1));
        assert_eq!((roster.count, roster.wrong), (2, 2));
        assert_eq!(
            roster.feed(b"logout,u0,127.0.0.1:1000\n", &endpoints),
            Ok(0)
        );
        assert_eq!(roster.count, 1);
        assert_eq!(
            roster.feed(b"pong\nerror,shutdown\n", &endpoints),
            Err("error,shutdown".to_owned())
        );
    }

    /// However the session's bytes are cut into reads, the roster ends the same.
    #[test]
    fn any_cut_of_the_stream_gives_the_same_roster() {
        let endpoints = endpoints();
        let stream: &[u8] = b"u0,127.0.0.1:1000;u9,1.2.3.4:5;end\nkey,u0,AAAA\nlogin,u1,127.0.0.2:2000\nlogout,u0,127.0.0.1:1000\n";
        for a in 0..=stream.len() {
            for b in a..=stream.len() {
                let mut roster = Roster::new(2);
                let mut presence = 0;
                for part in [&stream[..a], &stream[a..b], &stream[b..]] {
                    presence += roster.feed(part, &endpoints).expect("no error line");
                }
                assert_eq!(presence, 2, "cut at {a} and {b}");
                assert!(roster.has_snapshot && roster.partial.is_empty());
                assert_eq!((roster.count, roster.wrong), (1, 1), "cut at {a} and {b}");
                assert_eq!(roster.present, vec![0b10]);
            }
        }
    }

    #[test]
    fn client_numbers_are_plain_decimals() {
        assert_eq!(parse_index(b"0"), Some(0));
        assert_eq!(parse_index(b"9999"), Some(9999));
        for bad in [&b""[..], b"1a", b"-1", b"1234567890", b" 1"] {
            assert_eq!(parse_index(bad), None, "{bad:?}");
        }
    }
}
