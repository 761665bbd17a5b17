//! One TCP connection as two tasks, so the owner task never waits on it: a reader that hands
//! bytes to the owner, and a writer fed through an outbox bounded in bytes. A peer that does not
//! read its output fills its own outbox and gets dropped; it never stalls anyone else.
//!
//! Per connection the transport keeps only the socket, an outbox that is empty (and holds no
//! buffer) at rest, a one-slot doorbell and the two tasks: reads go through one scratch buffer
//! per executor thread, so ten thousand idle sessions cost little memory.
//!
//! The owner's side is built for broadcasts. Presence lines are appended once to a log the
//! server's owner keeps; each connection on the roster only remembers where in that log it
//! started following it, and where its own lines (a snapshot, a reply, a relayed datagram) fall
//! between log lines. When a round goes out the log is frozen into one shared buffer and each
//! connection gets slices of it: no copy and no work per line per session. The owner writes
//! them itself when the connection's writer holds nothing (one vectored write, no wake-up); the
//! writer task only gets what the socket did not take.

use std::cell::RefCell;
use std::io::{self, IoSlice, Read, Write};
use std::mem;
use std::net::{Shutdown, TcpStream};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_io::{Async, Timer};
use bytes::{Buf, Bytes};
use feige_app::driver::Overflow;
use feige_platform::limits::ConnLimits;
use smol::channel::{self, Receiver, Sender};
use smol::{future, Task};

use crate::runtime;

/// The most bytes asked of each `read`, into the thread's scratch buffer.
const READ_CHUNK: usize = 16 << 10;

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; READ_CHUNK].into_boxed_slice());
}

#[derive(Default)]
struct Outbox {
    queue: Vec<Bytes>,
    /// The writer holds a batch it has not finished writing.
    writing: bool,
    /// Flush what is queued, then shut down.
    closing: bool,
}

struct Shared {
    stream: Async<TcpStream>,
    outbox: Mutex<Outbox>,
    /// Handed to the writer and not yet written.
    unwritten: AtomicUsize,
    /// Bytes of `unwritten` queued whole ([`Connection::send_whole`]): they do not count against
    /// the bound until written.
    exempt: AtomicUsize,
}

impl Shared {
    fn outbox(&self) -> MutexGuard<'_, Outbox> {
        // A panic elsewhere cannot leave the outbox half-updated in a way that matters here.
        self.outbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn shutdown(&self, how: Shutdown) {
        let _ = self.stream.get_ref().shutdown(how);
    }
}

/// The owner's handle on a connection. Dropping it tears the connection down at once.
pub struct Connection {
    shared: Arc<Shared>,
    /// Rung after queuing; dropped (closing the channel) when the owner lets go.
    doorbell: Sender<()>,
    /// `None` once handed over by [`close`](Self::close).
    writer: Option<Task<()>>,
    limits: ConnLimits,
    /// This turn's output, in order, not yet handed to the writer.
    turn: Turn,
    /// Where in the turn's log this connection's share not yet placed in `turn` starts; `None`
    /// while it is not on the roster.
    following: Option<usize>,
    seen: Seen,
}

/// The writer's unwritten (and exempt) bytes as last read: they only go down, so checking the
/// bound against them never lets too much through, and the shared counters (a cache miss per
/// connection in a round) are read again only when the bound seems reached.
#[derive(Default)]
struct Seen {
    unwritten: usize,
    exempt: usize,
}

impl Seen {
    /// Whether `more` bytes, `more_exempt` of them queued whole, on top of the unwritten ones
    /// would pass `max`. First by the last count, which may be old: only then is the writer's
    /// count read again.
    fn over_bound(&mut self, shared: &Shared, max: usize, more: usize, more_exempt: usize) -> bool {
        let over = |unwritten: usize, exempt: usize| {
            unwritten.saturating_add(more) > max.saturating_add(exempt + more_exempt)
        };
        if !over(self.unwritten, self.exempt) {
            return false;
        }
        self.unwritten = shared.unwritten.load(Ordering::Relaxed);
        self.exempt = shared.exempt.load(Ordering::Relaxed);
        over(self.unwritten, self.exempt)
    }
}

/// A part of a turn's output.
enum Piece {
    /// The connection's own.
    Own(Bytes),
    /// A stretch of the turn's log.
    Log(Range<usize>),
}

/// What the owner queued for one connection since it last woke the writer.
#[derive(Default)]
struct Turn {
    pieces: Vec<Piece>,
    /// Of its own pieces.
    bytes: usize,
    /// Of `bytes`, queued whole.
    exempt: usize,
}

impl Connection {
    /// Starts the reader and writer tasks. The reader sends `wrap(bytes)` to the owner for every
    /// chunk read, then `lost` once the peer closes or the socket fails (the owner ignores it if
    /// it ended the connection first).
    pub fn spawn<I: Send + 'static>(
        stream: Async<TcpStream>,
        limits: ConnLimits,
        inputs: Sender<I>,
        wrap: impl Fn(Vec<u8>) -> I + Send + 'static,
        lost: I,
    ) -> Connection {
        let shared = Arc::new(Shared {
            stream,
            outbox: Mutex::new(Outbox::default()),
            unwritten: AtomicUsize::new(0),
            exempt: AtomicUsize::new(0),
        });
        let reader = runtime::spawn(read_loop(
            Arc::clone(&shared),
            limits.read_chunk,
            inputs,
            wrap,
            lost,
        ));
        let (doorbell, rung) = channel::bounded(1);
        let writer = runtime::spawn(write_loop(Arc::clone(&shared), rung, reader, limits.linger));
        Connection {
            shared,
            doorbell,
            writer: Some(writer),
            limits,
            turn: Turn::default(),
            following: None,
            seen: Seen::default(),
        }
    }

    /// Queues bytes for the writer, which takes them once woken by
    /// [`wake_writer`](Self::wake_writer) or [`hand_over`](Self::hand_over). Returns whether
    /// this is the first output of the turn (the caller then remembers to hand this one over).
    /// Past the bound it refuses: drop the connection then.
    pub fn send(&mut self, data: Bytes) -> Result<bool, Overflow> {
        self.queue(data, false)
    }

    /// Like [`send`](Self::send), for a connection that may follow the turn's log, now `at` its
    /// end: the log's lines so far come first.
    pub fn send_after_log(&mut self, data: Bytes, at: usize) -> Result<bool, Overflow> {
        self.catch_up(at);
        self.send(data)
    }

    /// Queues what the peer must get whole (its snapshot) whatever the bound, which then applies
    /// to what follows; like [`send`](Self::send) otherwise. From then on the connection
    /// follows the turn's log, now `at` its end, and every later turn's.
    pub fn send_whole(&mut self, data: Bytes, at: usize) -> bool {
        self.catch_up(at);
        let first = self.queue(data, true).unwrap_or(false);
        self.following.get_or_insert(at);
        first
    }

    /// The connection leaves the roster, the turn's log now `at` its end: what it was owed of
    /// the log so far stays in its turn, nothing later is. Returns whether it was on it.
    pub fn unfollow(&mut self, at: usize) -> bool {
        self.catch_up(at);
        self.following.take().is_some()
    }

    /// Whether it is on the roster.
    pub fn follows_log(&self) -> bool {
        self.following.is_some()
    }

    /// Places the log's lines up to `at` that this connection follows before whatever comes next.
    fn catch_up(&mut self, at: usize) {
        if let Some(from) = self.following.filter(|&from| from < at) {
            self.turn.pieces.push(Piece::Log(from..at));
            self.following = Some(at);
        }
    }

    fn queue(&mut self, data: Bytes, whole: bool) -> Result<bool, Overflow> {
        if data.is_empty() {
            return Ok(false);
        }
        let first = self.turn.pieces.is_empty();
        let max = self.limits.max_queued_bytes;
        let more = self.turn.bytes + data.len();
        if !whole
            && self
                .seen
                .over_bound(&self.shared, max, more, self.turn.exempt)
        {
            return Err(Overflow);
        }
        self.turn.bytes += data.len();
        if whole {
            self.turn.exempt += data.len();
        }
        self.turn.pieces.push(Piece::Own(data));
        Ok(first)
    }

    /// Hands the turn's output to the writer, with no log: for a connection that never follows
    /// one (a client's).
    pub fn wake_writer(&mut self) {
        // A connection on no roster holds no log pieces, so nothing can pass the bound here.
        let _ = self.hand_over(&Bytes::new());
    }

    /// Hands the writer what is queued if none of it is in the log, which is still being written
    /// (see [`hand_over`](Self::hand_over) for the rest). The connection still follows the log
    /// where it did.
    pub fn hand_over_own(&mut self) {
        if self.owes_no_log() {
            // Its own pieces were checked against the bound as they were queued.
            let _ = self.give(&Bytes::new());
        }
    }

    /// Ends the log for this connection: its share of `log` (frozen) and its own pieces go to the
    /// writer under one lock, and the writer is woken. Past the bound it refuses, handing
    /// nothing: drop the connection then. A follower follows the next log from its start.
    pub fn hand_over(&mut self, log: &Bytes) -> Result<(), Overflow> {
        self.catch_up(log.len());
        if self.following.is_some() {
            self.following = Some(0);
        }
        self.give(log)
    }

    fn give(&mut self, log: &Bytes) -> Result<(), Overflow> {
        if self.turn.pieces.is_empty() {
            return Ok(());
        }
        let turn = mem::take(&mut self.turn);
        let mut batch = Vec::with_capacity(turn.pieces.len());
        let mut bytes = 0;
        for piece in turn.pieces {
            let data = match piece {
                Piece::Own(data) => data,
                Piece::Log(range) => log.slice(range),
            };
            bytes += data.len();
            batch.push(data);
        }
        let logged = bytes > turn.bytes;
        let mut outbox = self.shared.outbox();
        if outbox.closing {
            return Ok(());
        }
        let mut exempt = turn.exempt;
        if outbox.queue.is_empty() && !outbox.writing {
            // The writer is idle: what the socket takes now needs no wake-up, no task and no
            // second copy of the batch; the writer gets the rest.
            let taken = write_now(self.shared.stream.get_ref(), &mut batch);
            bytes -= taken;
            exempt = exempt.saturating_sub(taken);
            if batch.is_empty() {
                return Ok(());
            }
        }
        // What the socket did not take counts against the bound: the log's share only now (the
        // connection's own pieces were checked as they were queued). A connection over it is
        // dropped, so a line cut short by the write above never matters.
        let max = self.limits.max_queued_bytes;
        if logged && self.seen.over_bound(&self.shared, max, bytes, exempt) {
            return Err(Overflow);
        }
        self.seen.unwritten = self.shared.unwritten.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.seen.exempt = self.shared.exempt.fetch_add(exempt, Ordering::Relaxed) + exempt;
        if outbox.queue.is_empty() {
            outbox.queue = batch;
        } else {
            outbox.queue.append(&mut batch);
        }
        drop(outbox);
        self.ring();
        Ok(())
    }

    /// Wakes the writer. Already rung means it takes everything queued when it wakes.
    fn ring(&self) {
        let _ = self.doorbell.try_send(());
    }

    /// Flushes what is queued (its share of `log` included), then shuts the connection down
    /// (lingering; see [`ConnLimits`]). The returned writer task ends when that is done: detach
    /// it or await it (dropping it would cancel the flush).
    pub fn close(mut self, log: &Bytes) -> Option<Task<()>> {
        let _ = self.hand_over(log);
        self.shared.outbox().closing = true;
        self.ring();
        self.writer.take()
    }

    /// Whether its pending output is all its own, none of it waiting for the log to be frozen.
    pub fn owes_no_log(&self) -> bool {
        !self
            .turn
            .pieces
            .iter()
            .any(|piece| matches!(piece, Piece::Log(_)))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            // Cancels the writer, and with it the reader it owns.
            drop(writer);
            self.shared.shutdown(Shutdown::Both);
        }
    }
}

async fn read_loop<I>(
    shared: Arc<Shared>,
    chunk: usize,
    inputs: Sender<I>,
    wrap: impl Fn(Vec<u8>) -> I,
    lost: I,
) {
    loop {
        match read_chunk(&shared.stream, chunk) {
            Ok(Some(data)) => {
                if inputs.send(wrap(data)).await.is_err() {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = shared.stream.readable().await {
                    tracing::debug!("tcp readable: {e}");
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::debug!("tcp read: {e}");
                break;
            }
        }
    }
    let _ = inputs.send(lost).await;
}

/// What a new connection has already sent, read at once (`None`: nothing yet, or the reader task
/// will find out what went wrong). The owner hands it to the core in the same turn as the
/// connection itself, however many reader tasks are waiting to run: a client's claim line must
/// not look like the silence of a seed-faithful client (`docs/protocol.md`, 9.3).
pub fn read_waiting(stream: &Async<TcpStream>, chunk: usize) -> Option<Vec<u8>> {
    read_chunk(stream, chunk).ok().flatten()
}

/// One non-blocking read of at most `chunk` bytes (at most the thread's scratch buffer) into
/// that buffer; `None` at end of stream.
fn read_chunk(stream: &Async<TcpStream>, chunk: usize) -> io::Result<Option<Vec<u8>>> {
    SCRATCH.with_borrow_mut(|scratch| {
        let buf = scratch.get_mut(..chunk.min(READ_CHUNK)).unwrap_or_default();
        let len = stream.get_ref().read(buf)?;
        Ok((len > 0).then(|| buf.get(..len).unwrap_or_default().to_vec()))
    })
}

/// Each turn takes everything queued and writes it with one vectored write (more only if the
/// kernel takes part of it). Owns the reader task, so cancelling the writer ends both.
async fn write_loop(
    shared: Arc<Shared>,
    rung: Receiver<()>,
    mut reader: Task<()>,
    linger: Duration,
) {
    loop {
        // An error means the owner let go of the connection: after `close`, or when it ended.
        let owner_present = rung.recv().await.is_ok();
        let (batch, closing) = {
            let mut outbox = shared.outbox();
            outbox.writing = true;
            (mem::take(&mut outbox.queue), outbox.closing)
        };
        let written = write_all(&shared.stream, &batch).await;
        shared.outbox().writing = false;
        if let Err(e) = written {
            tracing::debug!("tcp write: {e}");
            // The reader sees the shutdown, reports the connection lost, and ends.
            shared.shutdown(Shutdown::Both);
            reader.await;
            return;
        }
        let written: usize = batch.iter().map(Bytes::len).sum();
        let _ = shared
            .unwritten
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(written))
            });
        let _ = shared
            .exempt
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(written))
            });
        // Once closing, nothing more is queued: what was taken is the last of it.
        if closing {
            shared.shutdown(Shutdown::Write);
            let reader_done = async { (&mut reader).await };
            future::or(reader_done, async {
                Timer::after(linger).await;
            })
            .await;
            shared.shutdown(Shutdown::Both);
            return;
        }
        if !owner_present {
            shared.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Writes what the non-blocking socket takes at once from the front of `batch`, which keeps
/// the rest; returns how many bytes that was. A failure is left for the writer to meet.
fn write_now(mut stream: &TcpStream, batch: &mut Vec<Bytes>) -> usize {
    let mut taken = 0;
    while !batch.is_empty() {
        let slices: Vec<IoSlice<'_>> = batch.iter().map(|b| IoSlice::new(b)).collect();
        let written = match stream.write_vectored(&slices) {
            Ok(0) | Err(_) => break,
            Ok(written) => written,
        };
        drop(slices);
        taken += written;
        let mut left = written;
        let whole = batch.iter().take_while(|b| {
            let fits = b.len() <= left;
            if fits {
                left -= b.len();
            }
            fits
        });
        let whole = whole.count();
        batch.drain(..whole);
        if let Some(first) = batch.first_mut() {
            first.advance(left);
        }
    }
    taken
}

/// Writes every buffer, in as few system calls as the kernel allows (one, usually).
async fn write_all(stream: &Async<TcpStream>, batch: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = batch.iter().map(|b| IoSlice::new(b)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        let written = stream.write_with(|mut s| s.write_vectored(rest)).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, written);
    }
    Ok(())
}
