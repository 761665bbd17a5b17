//! One TCP connection as two tasks, so the owner task never waits on it: a reader that hands
//! bytes to the owner, and a writer fed through an outbox bounded in bytes. A peer that does not
//! read its output fills its own outbox and gets dropped; it never stalls anyone else.
//!
//! Per connection the transport keeps only the socket, an outbox that is empty (and holds no
//! buffer) at rest, a one-slot doorbell and the two tasks: reads go through one scratch buffer
//! per executor thread, so ten thousand idle sessions cost little memory.

use std::cell::RefCell;
use std::io::{self, IoSlice, Read, Write};
use std::mem;
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_io::{Async, Timer};
use bytes::Bytes;
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
    /// Queued plus being written.
    unwritten: usize,
    /// Bytes of `unwritten` queued whole ([`Connection::send_whole`]): they do not count against
    /// the bound until written.
    exempt: usize,
    /// Flush what is queued, then shut down.
    closing: bool,
}

struct Shared {
    stream: Async<TcpStream>,
    outbox: Mutex<Outbox>,
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
    /// Output was queued since the writer was last woken.
    unannounced: bool,
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
            unannounced: false,
        }
    }

    /// Queues bytes for the writer, which takes them once woken by
    /// [`wake_writer`](Self::wake_writer): the owner wakes each writer once per turn, so a turn's
    /// lines leave in one vectored write. Returns whether this is the first output since the last
    /// wake (the caller then remembers to wake this one). Past the bound it refuses: drop the
    /// connection then.
    pub fn send(&mut self, data: Bytes) -> Result<bool, Overflow> {
        self.queue(data, false)
    }

    /// Queues what the peer must get whole (its snapshot) whatever the bound, which then applies
    /// to what follows; like [`send`](Self::send) otherwise.
    pub fn send_whole(&mut self, data: Bytes) -> bool {
        self.queue(data, true).unwrap_or(false)
    }

    fn queue(&mut self, data: Bytes, whole: bool) -> Result<bool, Overflow> {
        if data.is_empty() {
            return Ok(false);
        }
        {
            let mut outbox = self.shared.outbox();
            if outbox.closing {
                return Ok(false);
            }
            let bound = self.limits.max_queued_bytes.saturating_add(outbox.exempt);
            if !whole && outbox.unwritten.saturating_add(data.len()) > bound {
                return Err(Overflow);
            }
            if whole {
                outbox.exempt += data.len();
            }
            outbox.unwritten += data.len();
            outbox.queue.push(data);
        }
        Ok(!mem::replace(&mut self.unannounced, true))
    }

    /// Wakes the writer to take everything queued.
    pub fn wake_writer(&mut self) {
        if mem::take(&mut self.unannounced) {
            // Full means already rung: the writer takes everything queued when it wakes.
            let _ = self.doorbell.try_send(());
        }
    }

    /// Flushes what is queued, then shuts the connection down (lingering; see [`ConnLimits`]).
    /// The returned writer task ends when that is done: detach it or await it (dropping it would
    /// cancel the flush).
    pub fn close(mut self) -> Option<Task<()>> {
        self.shared.outbox().closing = true;
        let _ = self.doorbell.try_send(());
        self.writer.take()
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
            (mem::take(&mut outbox.queue), outbox.closing)
        };
        if let Err(e) = write_all(&shared.stream, &batch).await {
            tracing::debug!("tcp write: {e}");
            // The reader sees the shutdown, reports the connection lost, and ends.
            shared.shutdown(Shutdown::Both);
            reader.await;
            return;
        }
        let written: usize = batch.iter().map(Bytes::len).sum();
        {
            let mut outbox = shared.outbox();
            outbox.unwritten = outbox.unwritten.saturating_sub(written);
            outbox.exempt = outbox.exempt.saturating_sub(written);
        }
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
