//! The task that owns the [`ServerMachine`]: it alone touches it, so no lock is needed and none
//! is ever held across an await.

use std::io::{self, Write};
use std::mem;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use async_io::{Async, Timer};
use bytes::Bytes;
use feige_app::driver::{Overflow, ServerIo, ServerMachine};
use feige_core::server::ConnId;
use feige_platform::limits::{ConnLimits, SERVER_FLUSH_AT_EXIT};
use rustc_hash::FxHashMap;
use smol::channel::{Receiver, Sender};
use smol::{future, Task};

use super::Input;
use crate::conn::{self, Connection};
use crate::inbox::{self, Next};
use feige_platform::address::Outgoing;

/// Most inputs handled in one turn, so timers and writers are never kept waiting long.
const TURN_INPUTS: usize = 64;

/// A round of writes to every session costs a system call each. A round that carried more than
/// one broadcast shows broadcasts coming faster than rounds go: the next log then waits, after
/// the round ends, `ROUND_GAP_FACTOR` times as long as the round took (at most
/// [`MAX_ROUND_GAP`]). Under a storm, rounds then take at most a fifth of the owner's time (the
/// rest goes to logins and snapshots), and the more sessions (or the busier the machine), the
/// more lines each write carries; a broadcast after a quiet spell (a join, a leave) never
/// waits, nor do a storm's last lines once no login is under way any more. The factor was
/// measured (`docs/benchmarks.md`, issue 18): 1 and 2 gave slower storms than 4 at 5,000 and
/// 10,000 sessions, and 16 a slower storm of 1,000.
const ROUND_GAP_FACTOR: u32 = 4;
const MAX_ROUND_GAP: Duration = Duration::from_millis(100);
/// A log this large (or a quarter of the bound on a connection's unsent output, if that is less,
/// so that holding a log never makes a reader look slow) goes at once, whatever the pace.
const MAX_HELD_LOG: usize = 256 << 10;

/// Serves until told to shut down; `feeders` (the UDP, accept and metrics tasks) end with it.
///
/// Each turn handles the inputs already waiting (up to [`TURN_INPUTS`]), draining the core after
/// each, and only then wakes the writers: a writer takes all its turn's lines in one vectored
/// write instead of racing the owner line by line.
pub(super) async fn run(
    mut machine: ServerMachine,
    mut sockets: Sockets,
    inputs: Receiver<Input>,
    feeders: [Option<Task<()>>; 3],
) {
    let mut serving = true;
    while serving {
        let deadline = [machine.poll_timeout(), sockets.log_deadline()]
            .into_iter()
            .flatten()
            .min();
        let first = match inbox::next(&inputs, deadline).await {
            Next::Input(input) => Some(input),
            Next::Deadline => None,
            Next::Closed => break,
        };
        let more = std::iter::from_fn(|| inputs.try_recv().ok());
        for input in first.into_iter().chain(more).take(TURN_INPUTS) {
            let now = Instant::now();
            serving = machine.handle(now, input, &mut sockets);
            machine.drain(now, &mut sockets);
            if !serving {
                break;
            }
        }
        let now = Instant::now();
        if machine.poll_timeout().is_some_and(|at| at <= now) {
            machine.handle_timeout(now);
            machine.drain(now, &mut sockets);
        }
        sockets.note_logins_pending(machine.server().has_pending_logins());
        machine.end_turn(Instant::now(), &mut sockets);
    }
    // Cancelled and waited for, so that the listening sockets are closed once the server has
    // ended: a server started again at once can bind the same addresses.
    for feeder in feeders.into_iter().flatten() {
        feeder.cancel().await;
    }
    let now = Instant::now();
    sockets.flushing = Some(Vec::new());
    machine.shutdown(now);
    machine.drain(now, &mut sockets);
    machine.end_turn(now, &mut sockets);
    // The core closed every connection it knew; any other is torn down here.
    sockets.conns.clear();
    let flushing = sockets.flushing.take().unwrap_or_default();
    let all_flushed = async {
        for writer in flushing {
            writer.await;
        }
    };
    future::or(all_flushed, async {
        Timer::after(SERVER_FLUSH_AT_EXIT).await;
        tracing::debug!("connections still flushing at exit");
    })
    .await;
    // Our members' leaves reach the cluster before we go (this thread is the owner's own). No
    // input is read any more: the link's threads must not wait to hand one over.
    drop(inputs);
    machine.stop_store(Instant::now() + SERVER_FLUSH_AT_EXIT);
}

/// The server's sockets: the UDP socket, and each connection's reader and writer tasks.
pub(super) struct Sockets {
    udp: Outgoing,
    conns: FxHashMap<ConnId, Connection>,
    /// Connections refused at once, held only until their error line is written.
    refused: FxHashMap<ConnId, Async<TcpStream>>,
    limits: ConnLimits,
    /// For the connections' reader tasks.
    inputs: Sender<Input>,
    /// The broadcasts not yet handed to the writers, for every connection on the roster from
    /// where it joined. A log started soon after the last round waits for the round's gap (see
    /// [`MAX_ROUND_GAP`]): a broadcast after a quiet spell leaves at once, a storm's lines leave in
    /// rounds, each write carrying many.
    log: Vec<u8>,
    /// Broadcasts in `log`.
    logged: usize,
    /// When the next round may start.
    next_round: Instant,
    /// Connections on the roster (given a snapshot, not closed since).
    roster: usize,
    /// Connections given output of their own this turn, whose writers are woken at its end.
    unannounced: Vec<ConnId>,
    /// Connections closed this turn: they get their share of its log before they close.
    closing: Vec<Connection>,
    /// While shutting down, the writers still flushing, to wait for before exiting.
    flushing: Option<Vec<Task<()>>>,
    /// Whether a login was under way (accepted, not yet claimed) at the end of the last turn.
    logins_were_pending: bool,
    /// The last login under way was claimed (or refused, or expired) this turn: a burst of joins
    /// has ended, and the log holding its last lines goes without waiting out the round's gap.
    joins_ended: bool,
}

impl Sockets {
    pub(super) fn new(udp: Outgoing, max_queued_bytes: usize, inputs: Sender<Input>) -> Self {
        Sockets {
            udp,
            conns: FxHashMap::default(),
            refused: FxHashMap::default(),
            limits: ConnLimits::server(max_queued_bytes),
            inputs,
            log: Vec::new(),
            logged: 0,
            next_round: Instant::now(),
            roster: 0,
            unannounced: Vec::new(),
            closing: Vec::new(),
            flushing: None,
            logins_were_pending: false,
            joins_ended: false,
        }
    }

    /// Called at the end of every turn with whether a login is still under way.
    pub(super) fn note_logins_pending(&mut self, pending: bool) {
        self.joins_ended = mem::replace(&mut self.logins_were_pending, pending) && !pending;
    }

    /// Whether the log goes to the writers now.
    fn log_is_due(&self) -> bool {
        self.log.len() >= MAX_HELD_LOG.min(self.limits.max_queued_bytes / 4)
            || self.flushing.is_some()
            || self.joins_ended
            || self.next_round <= Instant::now()
    }

    /// When the log held back is due, if one is.
    pub(super) fn log_deadline(&self) -> Option<Instant> {
        (!self.log.is_empty()).then_some(self.next_round)
    }

    /// Drops a connection, which tears it down at once, unsent output discarded.
    fn remove(&mut self, conn: ConnId) -> bool {
        let Some(connection) = self.conns.remove(&conn) else {
            return false;
        };
        self.roster -= usize::from(connection.follows_log());
        true
    }

    /// Closes `connection` once it has its share of `log`.
    fn close_with(&mut self, connection: Connection, log: &Bytes) {
        let Some(writer) = connection.close(log) else {
            return;
        };
        match &mut self.flushing {
            Some(flushing) => flushing.push(writer),
            None => writer.detach(),
        }
    }
}

impl ServerIo for Sockets {
    type Stream = Async<TcpStream>;

    fn send_datagram(&mut self, to: SocketAddr, data: &[u8]) {
        self.udp.send(to, data);
    }

    /// What the peer sent with its handshake (a native client's claim, usually) is read at once,
    /// so the claim is handled in this turn instead of waiting for the reader task's first round.
    fn open(&mut self, conn: ConnId, stream: Async<TcpStream>) -> io::Result<Option<Vec<u8>>> {
        let waiting = conn::read_waiting(&stream, self.limits.read_chunk);
        let connection = Connection::spawn(
            stream,
            self.limits,
            self.inputs.clone(),
            move |data| Input::Bytes { conn, data },
            Input::Lost { conn },
        );
        self.conns.insert(conn, connection);
        Ok(waiting)
    }

    fn hold_refused(&mut self, conn: ConnId, stream: Async<TcpStream>) {
        self.refused.insert(conn, stream);
    }

    fn is_open(&self, conn: ConnId) -> bool {
        self.conns.contains_key(&conn)
    }

    fn send(&mut self, conn: ConnId, data: Bytes) -> Result<(), Overflow> {
        if let Some(refused) = self.refused.get(&conn) {
            // The socket is non-blocking: what does not fit at once is not written.
            let _ = refused.get_ref().write(&data);
            return Ok(());
        }
        let Some(connection) = self.conns.get_mut(&conn) else {
            return Ok(());
        };
        match connection.send_after_log(data, self.log.len()) {
            Ok(first) => {
                if first {
                    self.unannounced.push(conn);
                }
                Ok(())
            }
            Err(overflow) => {
                self.remove(conn);
                Err(overflow)
            }
        }
    }

    fn send_snapshot(&mut self, conn: ConnId, data: Bytes) {
        if let Some(connection) = self.conns.get_mut(&conn) {
            self.roster += usize::from(!connection.follows_log());
            if connection.send_whole(data, self.log.len()) {
                self.unannounced.push(conn);
            }
        }
    }

    /// Appended once to the turn's log, whatever the number of recipients.
    fn broadcast(&mut self, data: Bytes, _overflowed: &mut Vec<ConnId>) -> usize {
        self.log.extend_from_slice(&data);
        self.logged += 1;
        self.roster
    }

    /// Hands the writers what the turn queued. The log goes to every follower at once when its
    /// round is due (or it grew large, or the server is ending); until then only output of a
    /// connection's own that follows no log line is handed over, so a newcomer's snapshot never
    /// waits.
    fn end_turn(&mut self, overflowed: &mut Vec<ConnId>) {
        if !self.log.is_empty() && !self.log_is_due() {
            for conn in self.unannounced.drain(..) {
                if let Some(connection) = self.conns.get_mut(&conn) {
                    connection.hand_over_own();
                }
            }
            let (ready, waiting) = mem::take(&mut self.closing)
                .into_iter()
                .partition(Connection::owes_no_log);
            self.closing = waiting;
            for connection in ready {
                self.close_with(connection, &Bytes::new());
            }
            return;
        }
        let log = Bytes::from(mem::take(&mut self.log));
        let started = Instant::now();
        let mut hand_over = |conn: ConnId, connection: &mut Connection| {
            if connection.hand_over(&log).is_err() {
                overflowed.push(conn);
            }
        };
        if log.is_empty() {
            for conn in self.unannounced.drain(..) {
                if let Some(connection) = self.conns.get_mut(&conn) {
                    hand_over(conn, connection);
                }
            }
        } else {
            self.unannounced.clear();
            for (&conn, connection) in &mut self.conns {
                hand_over(conn, connection);
            }
        }
        for conn in overflowed.iter() {
            self.remove(*conn);
        }
        for connection in mem::take(&mut self.closing) {
            self.close_with(connection, &log);
        }
        if mem::take(&mut self.logged) > 1 {
            let ended = Instant::now();
            self.next_round = ended + ((ended - started) * ROUND_GAP_FACTOR).min(MAX_ROUND_GAP);
        }
    }

    fn close(&mut self, conn: ConnId) {
        if self.refused.remove(&conn).is_some() {
            return;
        }
        if let Some(mut connection) = self.conns.remove(&conn) {
            self.roster -= usize::from(connection.unfollow(self.log.len()));
            self.closing.push(connection);
        }
    }

    fn forget(&mut self, conn: ConnId) -> bool {
        self.remove(conn)
    }

    fn max_queued_bytes(&self) -> usize {
        self.limits.max_queued_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::sync::Arc;

    fn sockets() -> Sockets {
        let udp = Arc::new(Async::<UdpSocket>::bind(([127, 0, 0, 1], 0)).unwrap());
        let (inputs, _) = smol::channel::bounded(1);
        Sockets::new(
            Outgoing::new(udp.get_ref().try_clone().unwrap()).unwrap(),
            1 << 20,
            inputs,
        )
    }

    /// A log held for the round's gap, as in the middle of a storm.
    fn holding(sockets: &mut Sockets) {
        sockets.log.extend_from_slice(b"login,bob,127.0.0.1:5001\n");
        sockets.next_round = Instant::now() + Duration::from_secs(60);
    }

    #[test]
    fn a_held_log_goes_when_the_last_login_under_way_is_claimed() {
        let mut sockets = sockets();
        holding(&mut sockets);
        sockets.note_logins_pending(true);
        assert!(!sockets.log_is_due(), "joins still on their way");
        sockets.note_logins_pending(true);
        assert!(!sockets.log_is_due());
        sockets.note_logins_pending(false);
        assert!(sockets.log_is_due(), "the burst of joins has ended");
    }

    #[test]
    fn without_logins_under_way_the_gap_still_paces_the_log() {
        let mut sockets = sockets();
        holding(&mut sockets);
        // A storm of leaves: no login ever pending, so nothing ends early.
        for _ in 0..3 {
            sockets.note_logins_pending(false);
            assert!(!sockets.log_is_due());
        }
        // The turn after the burst ended holds again, until the gap or the next burst's end.
        sockets.note_logins_pending(true);
        sockets.note_logins_pending(false);
        assert!(sockets.log_is_due());
        sockets.note_logins_pending(false);
        assert!(!sockets.log_is_due());
    }
}
