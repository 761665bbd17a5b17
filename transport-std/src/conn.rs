//! One TCP connection, driven by two threads so the owner thread never blocks on it: a reader
//! that hands bytes to the owner, and a writer fed through a queue bounded in bytes. A peer that
//! does not read its output fills its own queue and gets dropped; it never stalls anyone else.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Instant;

use bytes::Bytes;
use feige_app::driver::Overflow;
use feige_platform::limits::ConnLimits;

/// Socket threads do little; a small stack keeps ten thousand connections cheap.
const THREAD_STACK: usize = 128 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    /// Flush what is queued, then shut down.
    Closing,
    /// Torn down; queued output discarded.
    Dropped,
}

struct State {
    queue: VecDeque<Bytes>,
    /// Queued plus being written.
    unwritten: usize,
    /// Bytes of `unwritten` queued whole ([`Connection::send_whole`]): they do not count against
    /// the bound until written.
    exempt: usize,
    /// Queued since the owner last ended a turn: the writer has not been woken for them yet, so
    /// they are not what the peer failed to read.
    queued_this_turn: usize,
    phase: Phase,
    reader_done: bool,
    on_lost: Option<Box<dyn FnOnce() + Send>>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    limits: ConnLimits,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave `State` half-updated in a way that matters here.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reports the connection lost to the owner, once, unless the owner ended it first.
    fn report_lost(&self) {
        let on_lost = {
            let mut state = self.lock();
            if state.phase == Phase::Open {
                state.on_lost.take()
            } else {
                None
            }
        };
        if let Some(on_lost) = on_lost {
            on_lost();
        }
    }
}

/// Counts the writer threads still running, so a process can flush before it exits.
#[derive(Clone, Default)]
pub struct Writers(Arc<(Mutex<usize>, Condvar)>);

impl Writers {
    /// Waits until every writer has finished or `deadline` passes.
    pub fn wait_idle(&self, deadline: Instant) {
        let (count, idle) = &*self.0;
        let mut live = count.lock().unwrap_or_else(|e| e.into_inner());
        while *live > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::debug!("{} connection(s) still flushing at exit", *live);
                return;
            }
            live = match idle.wait_timeout(live, left) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
    }

    fn enter(&self) -> WriterGuard {
        *self.0 .0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        WriterGuard(self.clone())
    }
}

struct WriterGuard(Writers);

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let (count, idle) = &*(self.0).0;
        let mut live = count.lock().unwrap_or_else(|e| e.into_inner());
        *live = live.saturating_sub(1);
        idle.notify_all();
    }
}

/// The owner's handle on a connection.
pub struct Connection {
    shared: Arc<Shared>,
    stream: TcpStream,
}

impl Connection {
    /// Starts the reader and writer threads. `on_bytes` gets every chunk read while the
    /// connection is open (returning false stops reading: the owner is gone); `on_lost` runs once
    /// if the peer closes or the socket fails before the owner closes or drops the connection.
    pub fn spawn(
        stream: TcpStream,
        limits: ConnLimits,
        writers: &Writers,
        on_bytes: impl FnMut(Vec<u8>) -> bool + Send + 'static,
        on_lost: impl FnOnce() + Send + 'static,
    ) -> io::Result<Connection> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                unwritten: 0,
                exempt: 0,
                queued_this_turn: 0,
                phase: Phase::Open,
                reader_done: false,
                on_lost: Some(Box::new(on_lost)),
            }),
            changed: Condvar::new(),
            limits,
        });
        let reader = {
            let shared = Arc::clone(&shared);
            let stream = stream.try_clone()?;
            move || read_loop(&shared, stream, limits.read_chunk, on_bytes)
        };
        let writer = {
            let shared = Arc::clone(&shared);
            let stream = stream.try_clone()?;
            let guard = writers.enter();
            move || {
                write_loop(&shared, stream);
                drop(guard);
            }
        };
        thread::Builder::new()
            .name("tcp-writer".into())
            .stack_size(THREAD_STACK)
            .spawn(writer)?;
        let connection = Connection { shared, stream };
        if let Err(e) = thread::Builder::new()
            .name("tcp-reader".into())
            .stack_size(THREAD_STACK)
            .spawn(reader)
        {
            connection.abort();
            return Err(e);
        }
        Ok(connection)
    }

    /// Queues bytes for the writer without waking it: the owner calls
    /// [`end_turn`](Self::end_turn) once its turn is over, so the writer finds every line of the
    /// turn and writes them in one go. `Ok(true)` means these are the turn's first bytes (the
    /// owner then remembers to end the turn here). When what earlier turns left unwritten, plus
    /// `data`, passes the bound the connection is dropped at once (the turn's other lines do not
    /// count: the peer has not been offered them yet).
    pub fn send(&self, data: Bytes) -> Result<bool, Overflow> {
        self.queue(data, false)
    }

    /// Queues what the peer must get whole (its snapshot) whatever the bound, which then applies
    /// to what follows; like [`send`](Self::send) otherwise.
    pub fn send_whole(&self, data: Bytes) -> bool {
        self.queue(data, true).unwrap_or(false)
    }

    fn queue(&self, data: Bytes, whole: bool) -> Result<bool, Overflow> {
        if data.is_empty() {
            return Ok(false);
        }
        let mut state = self.shared.lock();
        if state.phase != Phase::Open {
            return Ok(false);
        }
        let bound = self
            .shared
            .limits
            .max_queued_bytes
            .saturating_add(state.exempt);
        let earlier = state.unwritten.saturating_sub(state.queued_this_turn);
        if !whole && earlier.saturating_add(data.len()) > bound {
            drop(state);
            self.abort();
            return Err(Overflow);
        }
        if whole {
            state.exempt += data.len();
        }
        let first = state.queued_this_turn == 0;
        state.unwritten += data.len();
        state.queued_this_turn += data.len();
        state.queue.push_back(data);
        Ok(first)
    }

    /// The owner's turn is over: what it queued now counts as offered to the peer, and the
    /// writer is woken to write it.
    pub fn end_turn(&self) {
        self.shared.lock().queued_this_turn = 0;
        self.shared.changed.notify_all();
    }

    /// Flushes what is queued, then shuts the connection down (lingering; see [`ConnLimits`]).
    pub fn close(&self) {
        let mut state = self.shared.lock();
        if state.phase == Phase::Open {
            state.phase = Phase::Closing;
        }
        drop(state);
        self.shared.changed.notify_all();
    }

    /// Tears the connection down now, discarding queued output.
    pub fn abort(&self) {
        let mut state = self.shared.lock();
        state.phase = Phase::Dropped;
        state.queue.clear();
        drop(state);
        self.shared.changed.notify_all();
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if self.shared.lock().phase == Phase::Open {
            self.abort();
        }
    }
}

fn read_loop(
    shared: &Shared,
    mut stream: TcpStream,
    chunk: usize,
    mut on_bytes: impl FnMut(Vec<u8>) -> bool,
) {
    let mut buf = vec![0u8; chunk];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(len) => {
                let phase = shared.lock().phase;
                match phase {
                    Phase::Open => {
                        if !on_bytes(buf.get(..len).unwrap_or_default().to_vec()) {
                            break;
                        }
                    }
                    // Lingering: read and discard until the peer closes or the writer gives up.
                    Phase::Closing => {}
                    Phase::Dropped => break,
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::debug!("tcp read: {e}");
                break;
            }
        }
    }
    shared.lock().reader_done = true;
    shared.changed.notify_all();
    shared.report_lost();
}

fn write_loop(shared: &Shared, mut stream: TcpStream) {
    loop {
        let (batch, phase) = {
            let mut state = shared.lock();
            while state.queue.is_empty() && state.phase == Phase::Open {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
            if state.phase == Phase::Dropped {
                return;
            }
            let batch: Vec<Bytes> = state.queue.drain(..).collect();
            (batch, state.phase)
        };
        if let Err(e) = write_all_vectored(&mut stream, &batch) {
            tracing::debug!("tcp write: {e}");
            shared.report_lost();
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        let written: usize = batch.iter().map(Bytes::len).sum();
        let mut state = shared.lock();
        state.unwritten = state.unwritten.saturating_sub(written);
        state.exempt = state.exempt.saturating_sub(written);
        if phase == Phase::Closing && state.queue.is_empty() {
            drop(state);
            linger(shared, &stream);
            return;
        }
    }
}

/// Half-closes, waits (bounded) for the peer to close its side, then tears down.
fn linger(shared: &Shared, stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let state = shared.lock();
    let _ = shared
        .changed
        .wait_timeout_while(state, shared.limits.linger, |s| {
            !s.reader_done && s.phase != Phase::Dropped
        });
    let _ = stream.shutdown(Shutdown::Both);
}

/// Writes every buffer, in as few system calls as the kernel allows (one, usually).
fn write_all_vectored(stream: &mut TcpStream, batch: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = batch.iter().map(|b| IoSlice::new(b)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match stream.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut rest, written),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A connected pair: our end driven by a `Connection`, the peer's end returned raw.
    fn pair(limits: ConnLimits) -> (Connection, TcpStream, mpsc::Receiver<&'static str>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        let (tx, rx) = mpsc::channel();
        let lost = tx.clone();
        let conn = Connection::spawn(
            ours,
            limits,
            &Writers::default(),
            move |_| tx.send("bytes").is_ok(),
            move || {
                let _ = lost.send("lost");
            },
        )
        .unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        (conn, peer, rx)
    }

    const LIMITS: ConnLimits = ConnLimits {
        max_queued_bytes: 256 << 10,
        linger: Duration::from_secs(1),
        read_chunk: 4 << 10,
    };

    #[test]
    fn a_peer_that_does_not_read_overflows_its_queue() {
        let (conn, _peer, events) = pair(LIMITS);
        let chunk = Bytes::from(vec![b'x'; 64 << 10]);
        // Kernel buffers take a few MiB at most; past them the queue fills.
        let overflowed = (0..10_000).any(|_| match conn.send(chunk.clone()) {
            Ok(_) => {
                conn.end_turn();
                false
            }
            Err(_) => true,
        });
        assert!(overflowed);
        // The owner dropped it: that is no loss to report back.
        assert!(events.recv_timeout(Duration::from_millis(200)).is_err());
        assert_eq!(conn.send(chunk), Ok(false), "later sends are ignored");
    }

    /// Lines queued in the turn that is still going have not been offered to the peer: only
    /// what earlier turns left unwritten counts against the bound.
    #[test]
    fn a_turn_larger_than_the_bound_is_no_overflow() {
        let (conn, mut peer, _events) = pair(LIMITS);
        let line = Bytes::from(vec![b'x'; 1024]);
        let lines = 2 * LIMITS.max_queued_bytes / line.len();
        for _ in 0..lines {
            assert!(conn.send(line.clone()).is_ok());
        }
        conn.end_turn();
        let mut got = vec![0u8; lines * line.len()];
        peer.read_exact(&mut got).unwrap();
        assert!(got.iter().all(|&b| b == b'x'));
    }

    #[test]
    fn close_flushes_everything_then_ends_the_stream() {
        let (conn, mut peer, _events) = pair(LIMITS);
        let mut expected = Vec::new();
        for i in 0..1000 {
            let line = format!("line {i}\n");
            expected.extend_from_slice(line.as_bytes());
            conn.send(Bytes::from(line)).unwrap();
        }
        conn.close();
        drop(conn);
        let mut got = Vec::new();
        peer.read_to_end(&mut got).unwrap();
        assert_eq!(got, expected);
    }

    #[test]
    fn a_peer_closing_is_reported_once() {
        let (conn, peer, events) = pair(LIMITS);
        drop(peer);
        assert_eq!(events.recv_timeout(Duration::from_secs(10)), Ok("lost"));
        let _ = conn.send(Bytes::from_static(b"late\n"));
        assert!(events.recv_timeout(Duration::from_millis(200)).is_err());
    }

    #[test]
    fn bytes_reach_the_owner_while_open() {
        let (_conn, mut peer, events) = pair(LIMITS);
        peer.write_all(b"ping\n").unwrap();
        assert_eq!(events.recv_timeout(Duration::from_secs(10)), Ok("bytes"));
    }

    #[test]
    fn close_ends_the_stream_of_a_peer_that_keeps_sending_after_our_last_line() {
        let (conn, mut peer, _events) = pair(LIMITS);
        let mut flood = peer.try_clone().unwrap();
        let writer = thread::spawn(move || {
            let chunk = [b'x'; 16 << 10];
            for _ in 0..1024 {
                if flood.write_all(&chunk).is_err() {
                    return;
                }
            }
        });
        thread::sleep(Duration::from_millis(50));
        conn.send(Bytes::from_static(b"error,line-too-long\n"))
            .unwrap();
        conn.close();
        // A slow reader: our line must still be there, then the end of the stream.
        thread::sleep(Duration::from_millis(300));
        let mut got = Vec::new();
        let _ = peer.read_to_end(&mut got);
        assert_eq!(got, b"error,line-too-long\n");
        let _ = writer.join();
    }
}
