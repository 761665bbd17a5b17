//! The task that owns the [`ServerMachine`]: it alone touches it, so no lock is needed and none
//! is ever held across an await.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Instant;

use async_io::{Async, Timer};
use bytes::Bytes;
use feige_app::driver::{Overflow, ServerIo, ServerMachine};
use feige_core::server::cluster::StoreCommand;
use feige_core::server::ConnId;
use feige_platform::cluster::StoreLink;
use feige_platform::limits::{ConnLimits, SERVER_FLUSH_AT_EXIT};
use rustc_hash::FxHashMap;
use smol::channel::{Receiver, Sender};
use smol::{future, Task};

use super::Input;
use crate::conn::{self, Connection};
use crate::inbox::{self, Next};
use crate::udp;

/// Most inputs handled in one turn, so timers and writers are never kept waiting long.
const TURN_INPUTS: usize = 64;

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
        let first = match inbox::next(&inputs, machine.poll_timeout()).await {
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
        sockets.wake_writers();
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
    sockets.wake_writers();
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
    if let Some(link) = sockets.store.take() {
        link.stop(Instant::now() + SERVER_FLUSH_AT_EXIT);
    }
}

/// The server's sockets: the UDP socket, and each connection's reader and writer tasks.
pub(super) struct Sockets {
    udp: Arc<Async<UdpSocket>>,
    conns: FxHashMap<ConnId, Connection>,
    /// Connections refused at once, held only until their error line is written.
    refused: FxHashMap<ConnId, Async<TcpStream>>,
    limits: ConnLimits,
    /// For the connections' reader tasks.
    inputs: Sender<Input>,
    /// Connections given output this turn, whose writers are woken at its end.
    unannounced: Vec<ConnId>,
    /// While shutting down, the writers still flushing, to wait for before exiting.
    flushing: Option<Vec<Task<()>>>,
    /// The link to the cluster's Redis, with a cluster.
    store: Option<StoreLink>,
}

impl Sockets {
    pub(super) fn new(
        udp: Arc<Async<UdpSocket>>,
        max_queued_bytes: usize,
        inputs: Sender<Input>,
        store: Option<StoreLink>,
    ) -> Self {
        Sockets {
            udp,
            conns: FxHashMap::default(),
            refused: FxHashMap::default(),
            limits: ConnLimits::server(max_queued_bytes),
            inputs,
            unannounced: Vec::new(),
            flushing: None,
            store,
        }
    }

    /// Wakes the writer of every connection given output since the last call.
    fn wake_writers(&mut self) {
        for conn in self.unannounced.drain(..) {
            if let Some(connection) = self.conns.get_mut(&conn) {
                connection.wake_writer();
            }
        }
    }
}

impl ServerIo for Sockets {
    type Stream = Async<TcpStream>;

    fn send_datagram(&mut self, to: SocketAddr, data: &[u8]) {
        udp::send(&self.udp, to, data);
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
        match connection.send(data) {
            Ok(first) => {
                if first {
                    self.unannounced.push(conn);
                }
                Ok(())
            }
            Err(overflow) => {
                // Dropping the connection tears it down at once, unsent output discarded.
                self.conns.remove(&conn);
                Err(overflow)
            }
        }
    }

    fn send_snapshot(&mut self, conn: ConnId, data: Bytes) {
        if let Some(connection) = self.conns.get_mut(&conn) {
            if connection.send_whole(data) {
                self.unannounced.push(conn);
            }
        }
    }

    fn close(&mut self, conn: ConnId) {
        if self.refused.remove(&conn).is_some() {
            return;
        }
        let Some(writer) = self.conns.remove(&conn).and_then(Connection::close) else {
            return;
        };
        match &mut self.flushing {
            Some(flushing) => flushing.push(writer),
            None => writer.detach(),
        }
    }

    fn forget(&mut self, conn: ConnId) -> bool {
        self.conns.remove(&conn).is_some()
    }

    fn max_queued_bytes(&self) -> usize {
        self.limits.max_queued_bytes
    }

    fn store(&mut self, command: StoreCommand) {
        match &self.store {
            Some(link) => link.send(command),
            None => tracing::error!("no cluster to ask: {command:?}"),
        }
    }
}
