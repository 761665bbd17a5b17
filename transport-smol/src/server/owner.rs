//! The task that owns the [`Server`] state machine: it alone touches it, so no lock is needed
//! and none is ever held across an await.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_io::{Async, Timer};
use feige_core::server::{CloseCause, ConnId, Server, ServerEvent, ServerTransmit};
use smol::channel::{Receiver, Sender};
use smol::{future, Task};

use super::Input;
use crate::conn::{self, ConnLimits, Connection};
use crate::inbox::{self, Next};
use crate::udp;

/// How long a shutdown waits for the sessions' last lines to go out.
const FLUSH_AT_EXIT: Duration = Duration::from_secs(3);

/// Most inputs handled in one turn, so timers and writers are never kept waiting long.
const TURN_INPUTS: usize = 64;

/// After closing a connection, how long the peer's last input is drained before teardown.
const LINGER: Duration = Duration::from_secs(2);

pub(super) struct Owner {
    server: Server,
    udp: Arc<Async<UdpSocket>>,
    conns: HashMap<ConnId, Connection>,
    limits: ConnLimits,
    /// For the connections' reader tasks.
    inputs: Sender<Input>,
    on_event: Box<dyn FnMut(ServerEvent) + Send>,
    /// Connections given output this turn, whose writers are woken at its end.
    unannounced: Vec<ConnId>,
    /// While shutting down, the writers still flushing, to wait for before exiting.
    flushing: Option<Vec<Task<()>>>,
}

impl Owner {
    pub(super) fn new(
        server: Server,
        udp: Arc<Async<UdpSocket>>,
        max_queued_bytes: usize,
        inputs: Sender<Input>,
        on_event: Box<dyn FnMut(ServerEvent) + Send>,
    ) -> Self {
        Owner {
            server,
            udp,
            conns: HashMap::new(),
            limits: ConnLimits {
                max_queued_bytes,
                linger: LINGER,
            },
            inputs,
            on_event,
            unannounced: Vec::new(),
            flushing: None,
        }
    }

    /// Serves until told to shut down; `feeders` (the UDP and accept tasks) end with it.
    ///
    /// Each turn handles the inputs already waiting (up to [`TURN_INPUTS`]), draining the core
    /// after each, and only then wakes the writers: a writer takes all its turn's lines in one
    /// vectored write instead of racing the owner line by line.
    pub(super) async fn run(mut self, inputs: Receiver<Input>, feeders: [Task<()>; 2]) {
        let mut stopping = false;
        while !stopping {
            let first = match inbox::next(&inputs, self.server.poll_timeout()).await {
                Next::Input(input) => Some(input),
                Next::Deadline => None,
                Next::Closed => break,
            };
            let more = std::iter::from_fn(|| inputs.try_recv().ok()).take(TURN_INPUTS - 1);
            for input in first.into_iter().chain(more) {
                if matches!(input, Input::Shutdown) {
                    stopping = true;
                    break;
                }
                let now = Instant::now();
                self.handle(now, input);
                self.drain(now);
            }
            let now = Instant::now();
            if self.server.poll_timeout().is_some_and(|at| at <= now) {
                self.server.handle_timeout(now);
                self.drain(now);
            }
            self.wake_writers();
        }
        drop(feeders);
        let now = Instant::now();
        self.flushing = Some(Vec::new());
        self.server.shutdown(now);
        self.drain(now);
        self.wake_writers();
        // The core closed every connection it knew; any other is torn down here.
        self.conns.clear();
        let flushing = self.flushing.take().unwrap_or_default();
        let all_flushed = async {
            for writer in flushing {
                writer.await;
            }
        };
        future::or(all_flushed, async {
            Timer::after(FLUSH_AT_EXIT).await;
            tracing::debug!("connections still flushing at exit");
        })
        .await;
    }

    fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Datagram { from, data } => self.server.handle_datagram(now, from, &data),
            Input::Opened { conn, peer, stream } => self.open(now, conn, peer, stream),
            Input::Bytes { conn, data } => {
                // Input from a connection already closed (lingering) is dropped.
                if self.conns.contains_key(&conn) {
                    self.server.handle_bytes(now, conn, &data);
                }
            }
            Input::Lost { conn } => {
                if self.conns.remove(&conn).is_some() {
                    self.server
                        .handle_connection_closed(now, conn, CloseCause::Closed);
                }
            }
            Input::Shutdown => {}
        }
    }

    fn open(&mut self, now: Instant, conn: ConnId, peer: SocketAddr, stream: Async<TcpStream>) {
        self.server.handle_connection_opened(now, conn, peer);
        if let Some(first) = conn::read_waiting(&stream) {
            self.server.handle_bytes(now, conn, &first);
        }
        let connection = Connection::spawn(
            stream,
            self.limits,
            self.inputs.clone(),
            move |data| Input::Bytes { conn, data },
            Input::Lost { conn },
        );
        self.conns.insert(conn, connection);
    }

    /// Wakes the writer of every connection given output since the last call.
    fn wake_writers(&mut self) {
        for conn in self.unannounced.drain(..) {
            if let Some(connection) = self.conns.get_mut(&conn) {
                connection.wake_writer();
            }
        }
    }

    /// The drain contract: after every input, take every transmit and event until none is left.
    fn drain(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.server.poll_transmit() {
                progressed = true;
                self.transmit(now, transmit);
            }
            while let Some(event) = self.server.poll_event() {
                progressed = true;
                (self.on_event)(event);
            }
            if !progressed {
                return;
            }
        }
    }

    fn transmit(&mut self, now: Instant, transmit: ServerTransmit) {
        match transmit {
            ServerTransmit::Datagram { to, data } => udp::send(&self.udp, to, &data),
            ServerTransmit::Send { conn, data } => {
                let Some(connection) = self.conns.get_mut(&conn) else {
                    return;
                };
                let Ok(first) = connection.send(data) else {
                    // Dropping the connection tears it down at once, unsent output discarded.
                    self.conns.remove(&conn);
                    tracing::warn!(
                        "dropped connection #{}: over {} bytes unsent",
                        conn.0,
                        self.limits.max_queued_bytes
                    );
                    self.server
                        .handle_connection_closed(now, conn, CloseCause::SlowConsumer);
                    return;
                };
                if first {
                    self.unannounced.push(conn);
                }
            }
            ServerTransmit::Close { conn } => {
                let Some(writer) = self.conns.remove(&conn).and_then(Connection::close) else {
                    return;
                };
                match &mut self.flushing {
                    Some(flushing) => flushing.push(writer),
                    None => writer.detach(),
                }
            }
        }
    }
}
