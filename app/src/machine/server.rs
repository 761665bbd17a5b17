//! The server's owner, minus the sockets.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use feige_core::server::cluster::StoreEvent;
use feige_core::server::{CloseCause, ConnId, Server, ServerTransmit};
use feige_platform::cluster::StoreLink;

use crate::driver::ServerEvents;
use crate::metrics::ServerMetrics;

/// What a server's owner is told; `S` is the transport's accepted-stream type.
pub enum ServerInput<S> {
    /// A datagram on the server's UDP socket.
    Datagram {
        /// Its source.
        from: SocketAddr,
        /// Its bytes.
        data: Vec<u8>,
    },
    /// A connection was accepted and numbered.
    Opened {
        /// Its number, never reused.
        conn: ConnId,
        /// Its peer.
        peer: SocketAddr,
        /// The stream, for the transport to run.
        stream: S,
    },
    /// Bytes arrived on a connection.
    Bytes {
        /// The connection.
        conn: ConnId,
        /// The bytes, split anywhere.
        data: Vec<u8>,
    },
    /// A connection closed or failed.
    Lost {
        /// The connection.
        conn: ConnId,
    },
    /// The operator asked for a graceful shutdown.
    Shutdown,
    /// The cluster's store said something.
    Store(StoreEvent),
}

/// A connection's output passed its bound: the transport has torn it down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// The I/O a server's owner does, on the transport's own sockets.
pub trait ServerIo {
    /// An accepted connection, as the transport holds it.
    type Stream;

    /// Sends one datagram from the server's UDP socket (a failure concerns that destination
    /// only).
    fn send_datagram(&mut self, to: SocketAddr, data: &[u8]);

    /// Starts serving an accepted connection as `conn`; its bytes and its loss come back as
    /// inputs. Returns bytes already waiting on it, if the transport read any.
    fn open(&mut self, conn: ConnId, stream: Self::Stream) -> io::Result<Option<Vec<u8>>>;

    /// Holds a connection the server refuses at once, without reading from it: the server's
    /// error line for it is to be written without waiting (best effort), then it is closed.
    fn hold_refused(&mut self, conn: ConnId, stream: Self::Stream);

    /// Whether `conn` is open (input from one already closed is dropped).
    fn is_open(&self, conn: ConnId) -> bool;

    /// Queues `data` on `conn` (written at the end of the turn); past the connection's bound the
    /// transport tears it down and says so.
    fn send(&mut self, conn: ConnId, data: Bytes) -> Result<(), Overflow>;

    /// Queues a session's snapshot on `conn` whatever its bound, which then applies to what
    /// follows. From here on `conn` is on the roster: broadcasts reach it.
    fn send_snapshot(&mut self, conn: ConnId, data: Bytes);

    /// Queues `data` on every connection of the roster: each given a snapshot and neither closed
    /// nor forgotten since (see [`Roster`](feige_core::server::Roster)). A connection this takes
    /// past its bound is torn down and pushed to `overflowed`, now or when the turn ends. Returns
    /// how many it was queued for (the metrics' count).
    fn broadcast(&mut self, data: Bytes, overflowed: &mut Vec<ConnId>) -> usize;

    /// The turn is over: everything queued goes to the writers. Connections found past their
    /// bound only now are torn down and pushed to `overflowed`.
    fn end_turn(&mut self, overflowed: &mut Vec<ConnId>);

    /// Flushes what is queued on `conn`, then closes it.
    fn close(&mut self, conn: ConnId);

    /// Forgets a connection that was lost; false if it was not open.
    fn forget(&mut self, conn: ConnId) -> bool;

    /// The bound on a connection's unsent output, for the operator's log.
    fn max_queued_bytes(&self) -> usize;
}

/// A [`Server`] whose events go to the application, whose doings are counted, and whose store
/// commands go to the cluster's store (with a cluster).
pub struct ServerMachine {
    server: Server,
    on_event: ServerEvents,
    metrics: Arc<ServerMetrics>,
    store: Option<StoreLink>,
}

impl ServerMachine {
    /// Attaches `on_event` and `metrics` to `server`, and `store`, the link to the cluster's store
    /// that a server configured with a cluster needs (see [`StoreLink::for_server`]).
    pub fn new(
        server: Server,
        on_event: ServerEvents,
        metrics: Arc<ServerMetrics>,
        store: Option<StoreLink>,
    ) -> Self {
        ServerMachine {
            server,
            on_event,
            metrics,
            store,
        }
    }

    /// The server has ended: its last commands (our members' leaves) reach the cluster's store,
    /// waiting until `until` at most. Call it once no input is read any more, so that the link's
    /// threads never wait to hand one over.
    pub fn stop_store(&mut self, until: Instant) {
        if let Some(link) = self.store.take() {
            link.stop(until);
        }
    }

    /// The machine, to hand it what [`handle`](Self::handle) does not cover.
    pub fn server(&mut self) -> &mut Server {
        &mut self.server
    }

    /// One input; false once it asked for the shutdown.
    pub fn handle<S>(
        &mut self,
        now: Instant,
        input: ServerInput<S>,
        io: &mut impl ServerIo<Stream = S>,
    ) -> bool {
        match input {
            ServerInput::Datagram { from, data } => self.server.handle_datagram(now, from, &data),
            // Refused at once: it costs no reader, writer or linger, so a flood of connections
            // from one host cannot hold the descriptors another host needs.
            ServerInput::Opened { conn, peer, stream } if !self.server.admits_connection(peer) => {
                io.hold_refused(conn, stream);
                self.server.handle_connection_opened(now, conn, peer);
            }
            ServerInput::Opened { conn, peer, stream } => match io.open(conn, stream) {
                Ok(waiting) => {
                    self.server.handle_connection_opened(now, conn, peer);
                    if let Some(first) = waiting {
                        self.server.handle_bytes(now, conn, &first);
                    }
                }
                Err(e) => {
                    self.metrics.observe_unserved();
                    tracing::warn!("cannot serve the connection from {peer}: {e}");
                }
            },
            // Input from a connection already closed (lingering) is dropped.
            ServerInput::Bytes { conn, data } if io.is_open(conn) => {
                self.server.handle_bytes(now, conn, &data);
            }
            ServerInput::Bytes { .. } => {}
            ServerInput::Lost { conn } => {
                if io.forget(conn) {
                    self.server
                        .handle_connection_closed(now, conn, CloseCause::Closed);
                }
            }
            ServerInput::Shutdown => return false,
            ServerInput::Store(event) => self.server.handle_store(now, event),
        }
        true
    }

    /// The drain contract: every transmit done through `io`, every event handed over; then the
    /// gauges are brought up to date.
    pub fn drain(&mut self, now: Instant, io: &mut impl ServerIo) {
        let mut overflowed = Vec::new();
        while let Some(transmit) = self.poll_transmit() {
            match transmit {
                ServerTransmit::Datagram { to, data } => io.send_datagram(to, &data),
                ServerTransmit::Send { conn, data } => {
                    self.metrics.observe_sent(&data);
                    if io.send(conn, data) == Err(Overflow) {
                        self.slow_consumer(now, conn, io.max_queued_bytes());
                    }
                }
                ServerTransmit::Broadcast { data } => {
                    let reached = io.broadcast(data.clone(), &mut overflowed);
                    self.metrics.observe_sent_to(&data, reached);
                    for conn in overflowed.drain(..) {
                        self.slow_consumer(now, conn, io.max_queued_bytes());
                    }
                }
                ServerTransmit::Snapshot { conn, data } => {
                    self.metrics.observe_sent(&data);
                    io.send_snapshot(conn, data);
                }
                ServerTransmit::Close { conn } => io.close(conn),
                ServerTransmit::Store(command) => match &self.store {
                    Some(link) => link.send(command),
                    None => tracing::error!("no cluster to ask: {command:?}"),
                },
            }
        }
        self.metrics.observe_stats(&self.server.stats());
    }

    /// Ends the transport's turn, telling the server of every connection found past its bound
    /// then (whose leaving is broadcast in a turn of its own).
    pub fn end_turn(&mut self, now: Instant, io: &mut impl ServerIo) {
        let mut overflowed = Vec::new();
        loop {
            io.end_turn(&mut overflowed);
            if overflowed.is_empty() {
                return;
            }
            for conn in overflowed.drain(..) {
                self.slow_consumer(now, conn, io.max_queued_bytes());
            }
            self.drain(now, io);
        }
    }

    /// The transport tore `conn` down for its unsent output.
    fn slow_consumer(&mut self, now: Instant, conn: ConnId, bound: usize) {
        tracing::warn!("dropped connection #{}: over {bound} bytes unsent", conn.0);
        self.metrics.observe_slow_consumer();
        self.server
            .handle_connection_closed(now, conn, CloseCause::SlowConsumer);
    }

    /// The next I/O to do, once every event before it has been handed over (and counted).
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ServerTransmit> {
        while let Some(event) = self.server.poll_event() {
            self.metrics.observe_event(&event);
            (self.on_event)(event);
        }
        self.server.poll_transmit()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.server.poll_timeout()
    }

    /// The deadline passed (early calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.server.handle_timeout(now);
    }

    /// Logs everyone out and closes every connection; drain afterwards.
    pub fn shutdown(&mut self, now: Instant) {
        self.server.shutdown(now);
    }
}
