//! The login storm: N raw clients log in at once (at most `window` of them between their login
//! datagram and their snapshot) to one server, or spread over the coordinators of a cluster,
//! and each checks that its list becomes complete and exact: every one of the N names, each with
//! the endpoint it logged in from, once.
//!
//! All N clients run on one event loop, each a small state machine — its login datagram (with
//! the real client's back-off), its TCP connection, its session — driven by readiness from one
//! level-triggered epoll set ([`Mux`]): one wake-up of the generator serves every client with
//! something to do, and no client waits for another's turn on a shared reactor.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use smol::Async;

use crate::login::{self, FIRST_RETRY, TRIES};
use crate::mux::{Interest, Mux};
use crate::net::{bind_udp, source_ip, start_connect};
use crate::stats::percentile;

/// A storm still unfinished after this is cut short and reported as such.
const STORM_LIMIT: Duration = Duration::from_secs(180);
/// Every session pings this often, as real clients do, so the server's idle timeout (60 s) does
/// not end a long storm.
const PING_EVERY: Duration = Duration::from_secs(20);

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
    /// How long each step of a login took.
    pub login: LoginPhases,
}

/// The steps of the storm's logins, p50 and mean in ms: from the login datagram to the
/// server's `Accept`, from there to the TCP connection established, from the claim to the
/// snapshot. Where a login waits, and on whom.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoginPhases {
    pub answer_p50_ms: f64,
    pub answer_mean_ms: f64,
    pub connect_p50_ms: f64,
    pub connect_mean_ms: f64,
    pub snapshot_p50_ms: f64,
    pub snapshot_mean_ms: f64,
}

impl LoginPhases {
    fn of(phases: &[Vec<f64>; 3]) -> LoginPhases {
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
        let [answer, connect, snapshot] = phases;
        LoginPhases {
            answer_p50_ms: percentile(answer, 50.0),
            answer_mean_ms: mean(answer),
            connect_p50_ms: percentile(connect, 50.0),
            connect_mean_ms: mean(connect),
            snapshot_p50_ms: percentile(snapshot, 50.0),
            snapshot_mean_ms: mean(snapshot),
        }
    }
}

/// Where one client is.
enum Stage {
    /// Not started: the window is full.
    Waiting,
    /// Its login datagram sent `tries` times, the last at `sent`.
    LoggingIn {
        udp: UdpSocket,
        /// Its login datagram, sent again as it is.
        login: Vec<u8>,
        tries: u32,
        sent: Instant,
        wait: Duration,
    },
    /// Its TCP connection to the port `Accept` named is under way.
    Connecting(TcpStream),
    /// Claimed: its session is read until its list is complete.
    Reading(Reading),
    /// Its list is complete.
    Done,
}

/// One client from its claim until its list is complete.
struct Reading {
    stream: TcpStream,
    roster: Roster,
    reported_wrong: u64,
}

/// The storm's clients and what they have seen together.
struct Clients {
    n: usize,
    /// Client `i` logs in to `servers[i % len]`.
    servers: Vec<SocketAddr>,
    stages: Vec<Stage>,
    /// Endpoint of client `i` as text, known once its socket is bound (before its login).
    endpoints: Vec<Option<String>>,
    /// Of the clients between their login datagram and their snapshot (`started -
    /// with_snapshot`), the ones still waiting for `Accept`.
    logging_in: Vec<usize>,
    /// The most clients between their login datagram and their snapshot.
    window: usize,
    started: usize,
    mux: Mux,
    buf: Vec<u8>,
    presence_lines: u64,
    with_snapshot: usize,
    wrong: u64,
    done: Vec<(TcpStream, Instant)>,
    /// When each client's current step began, and how long each finished step took (ms).
    step_began: Vec<Instant>,
    phases: [Vec<f64>; 3],
}

/// A client's sockets in the epoll set: its UDP socket, then its TCP connection.
fn udp_key(i: usize) -> usize {
    i * 2
}

fn tcp_key(i: usize) -> usize {
    i * 2 + 1
}

/// Runs a storm of `n` clients named `u0`…, spread over `servers` in turn; `window` bounds the
/// logins in flight.
pub async fn run(servers: &[SocketAddr], n: usize, window: usize) -> io::Result<Storm> {
    if servers.is_empty() {
        return Err(io::Error::other("a storm needs a server"));
    }
    let mut clients = Clients {
        n,
        servers: servers.to_vec(),
        stages: (0..n).map(|_| Stage::Waiting).collect(),
        endpoints: vec![None; n],
        logging_in: Vec::new(),
        window: window.max(1),
        started: 0,
        mux: Mux::new()?,
        buf: vec![0u8; 64 * 1024],
        presence_lines: 0,
        with_snapshot: 0,
        wrong: 0,
        done: Vec::with_capacity(n),
        step_began: vec![Instant::now(); n],
        phases: Default::default(),
    };
    let start = Instant::now();
    let mut next_ping = start + PING_EVERY;
    let mut ready = Vec::new();
    while clients.done.len() < n {
        if start.elapsed() >= STORM_LIMIT {
            return Ok(Storm {
                seconds: STORM_LIMIT.as_secs_f64(),
                presence_lines: clients.presence_lines,
                wrong_entries: clients.wrong,
                complete: clients.done.len(),
                with_snapshot: clients.with_snapshot,
                sessions: Vec::new(),
                login: LoginPhases::of(&clients.phases),
            });
        }
        clients.start_more()?;
        if next_ping <= Instant::now() {
            clients.ping_all()?;
            next_ping += PING_EVERY;
        }
        let due = [start + STORM_LIMIT, next_ping];
        let deadline = clients.next_retry().into_iter().chain(due).min();
        clients.mux.ready(&mut ready, deadline).await?;
        for &key in &ready {
            clients.serve(key)?;
        }
        clients.retry_logins()?;
    }
    let login = LoginPhases::of(&clients.phases);
    let mut sessions = Vec::with_capacity(n);
    let mut last = start;
    for (stream, complete_at) in clients.done {
        last = last.max(complete_at);
        sessions.push(Async::new(stream)?);
    }
    Ok(Storm {
        seconds: last.duration_since(start).as_secs_f64(),
        presence_lines: clients.presence_lines,
        wrong_entries: clients.wrong,
        complete: n,
        with_snapshot: n,
        sessions,
        login,
    })
}

impl Clients {
    /// Starts clients while the window has room: each binds its UDP socket (its endpoint) and
    /// sends its login.
    fn start_more(&mut self) -> io::Result<()> {
        while self.started - self.with_snapshot < self.window && self.started < self.n {
            let i = self.started;
            self.started += 1;
            let udp = bind_udp(source_ip(i))?;
            let endpoint = udp.local_addr()?.to_string();
            let login = format!("login,u{i},{endpoint}").into_bytes();
            udp.send_to(&login, self.servers[i % self.servers.len()])?;
            if let Some(slot) = self.endpoints.get_mut(i) {
                *slot = Some(endpoint);
            }
            self.mux.add(udp_key(i), &udp, Interest::Read)?;
            self.logging_in.push(i);
            self.step_done(i, None);
            self.set(
                i,
                Stage::LoggingIn {
                    udp,
                    login,
                    tries: 1,
                    sent: Instant::now(),
                    wait: FIRST_RETRY,
                },
            );
        }
        Ok(())
    }

    /// Every session, its list complete or not, pings the server.
    fn ping_all(&mut self) -> io::Result<()> {
        let reading = self.stages.iter_mut().filter_map(|stage| match stage {
            Stage::Reading(client) => Some(&mut client.stream),
            _ => None,
        });
        let complete = self.done.iter_mut().map(|(stream, _)| stream);
        for stream in reading.chain(complete) {
            match stream.write(b"ping\n") {
                Ok(_) => {}
                // Its send buffer is full: the server has lines from it to read, so it is not
                // idle.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Client `i` finished step `phase` (or starts its first) and begins the next.
    fn step_done(&mut self, i: usize, phase: Option<usize>) {
        let now = Instant::now();
        if let Some(began) = self.step_began.get_mut(i) {
            let took = now.duration_since(*began).as_secs_f64() * 1e3;
            if let Some(times) = phase.and_then(|k| self.phases.get_mut(k)) {
                times.push(took);
            }
            *began = now;
        }
    }

    fn set(&mut self, i: usize, stage: Stage) {
        if let Some(slot) = self.stages.get_mut(i) {
            *slot = stage;
        }
    }

    /// When the earliest login still unanswered is due to be sent again.
    fn next_retry(&self) -> Option<Instant> {
        self.logging_in
            .iter()
            .filter_map(|&i| match self.stages.get(i) {
                Some(Stage::LoggingIn { sent, wait, .. }) => Some(*sent + *wait),
                _ => None,
            })
            .min()
    }

    /// Sends again every login whose answer is overdue, doubling its wait as the real client
    /// does; after the last try the storm fails.
    fn retry_logins(&mut self) -> io::Result<()> {
        let now = Instant::now();
        for &i in &self.logging_in {
            let Some(Stage::LoggingIn {
                udp,
                login,
                tries,
                sent,
                wait,
            }) = self.stages.get_mut(i)
            else {
                continue;
            };
            if *sent + *wait > now {
                continue;
            }
            if *tries >= TRIES {
                return Err(io::Error::other(format!("u{i}: no answer to login")));
            }
            udp.send_to(login, self.servers[i % self.servers.len()])?;
            *tries += 1;
            *sent = now;
            *wait *= 2;
        }
        Ok(())
    }

    /// One socket of client `key / 2` is ready.
    fn serve(&mut self, key: usize) -> io::Result<()> {
        let i = key / 2;
        let stage = self
            .stages
            .get_mut(i)
            .map(|s| std::mem::replace(s, Stage::Waiting));
        let next = match stage {
            Some(Stage::LoggingIn {
                udp,
                login,
                tries,
                sent,
                wait,
            }) => match self.answer(i, &udp)? {
                Some(port) => {
                    // Closing the socket takes it out of the epoll set.
                    drop(udp);
                    self.logging_in.retain(|&c| c != i);
                    self.step_done(i, Some(0));
                    let server = self.servers[i % self.servers.len()];
                    let tcp = start_connect(source_ip(i), SocketAddr::new(server.ip(), port))?;
                    self.mux.add(tcp_key(i), &tcp, Interest::Write)?;
                    Stage::Connecting(tcp)
                }
                None => Stage::LoggingIn {
                    udp,
                    login,
                    tries,
                    sent,
                    wait,
                },
            },
            Some(Stage::Connecting(mut tcp)) => {
                if let Some(e) = tcp.take_error()? {
                    return Err(e);
                }
                let endpoint = self.endpoints.get(i).cloned().flatten().unwrap_or_default();
                // A few dozen bytes on a fresh connection: the socket takes them at once.
                tcp.write_all(format!("login,u{i},{endpoint}\n").as_bytes())?;
                self.mux.modify(tcp_key(i), &tcp, Interest::Read)?;
                self.step_done(i, Some(1));
                Stage::Reading(Reading {
                    stream: tcp,
                    roster: Roster::new(self.n),
                    reported_wrong: 0,
                })
            }
            Some(Stage::Reading(mut client)) => {
                if self.read_some(i, &mut client)? {
                    self.mux.remove(&client.stream)?;
                    self.done.push((client.stream, Instant::now()));
                    Stage::Done
                } else {
                    Stage::Reading(client)
                }
            }
            Some(other) => other,
            None => return Ok(()),
        };
        self.set(i, next);
        Ok(())
    }

    /// The port of the server's `Accept` on client `i`'s UDP socket, once it has come.
    fn answer(&mut self, i: usize, udp: &UdpSocket) -> io::Result<Option<u16>> {
        let len = match udp.recv(&mut self.buf) {
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        };
        let answer = self.buf.get(..len).unwrap_or_default();
        login::accept_port(&format!("u{i}"), answer).map(Some)
    }

    /// Reads what client `i`'s session has (more than one buffer's worth only if it filled
    /// one) and applies every whole line; true once its list is complete.
    fn read_some(&mut self, i: usize, client: &mut Reading) -> io::Result<bool> {
        loop {
            let read = match client.stream.read(&mut self.buf) {
                Ok(read) => read,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if read == 0 {
                let last = String::from_utf8_lossy(&client.roster.partial).into_owned();
                return Err(io::Error::other(format!(
                    "u{i}: server closed the session with {} of {} online (unfinished line {last:?})",
                    client.roster.count, self.n
                )));
            }
            let bytes = self.buf.get(..read).unwrap_or_default();
            let had_snapshot = client.roster.has_snapshot;
            self.presence_lines += client.roster.feed(bytes, &self.endpoints).map_err(|line| {
                io::Error::other(format!("u{i}: server closed the session: {line}"))
            })?;
            if client.roster.has_snapshot && !had_snapshot {
                // Logged in: let the next client start.
                self.with_snapshot += 1;
                self.step_done(i, Some(2));
            }
            if client.roster.wrong > client.reported_wrong {
                self.wrong += client.roster.wrong - client.reported_wrong;
                client.reported_wrong = client.roster.wrong;
            }
            if client.roster.count == self.n {
                return Ok(true);
            }
            if read < self.buf.len() {
                return Ok(false);
            }
        }
    }
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
        let stream: &[u8] = b"u0,127.0.0.1:1000;u9,1.2.3.4:5;end\nkey,u0,AAAA\n\
            login,u1,127.0.0.2:2000\nlogout,u0,127.0.0.1:1000\n";
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
