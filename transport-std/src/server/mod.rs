//! The server driver: one owner thread holds the [`Server`] state machine; a UDP reader thread,
//! an accept thread and each connection's reader feed it through one bounded channel.

mod accept;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use feige_core::server::{CloseCause, ConnId, Server, ServerConfig, ServerEvent, ServerTransmit};

use crate::conn::{ConnLimits, Connection, Writers};
use crate::inbox::{self, Next};
use crate::udp;

/// Inputs waiting for the owner thread. Bounded, so a flooding socket slows its own reader
/// rather than growing memory.
const INBOX_CAPACITY: usize = 4096;

/// How long a shutdown waits for the sessions' last lines to go out.
const FLUSH_AT_EXIT: Duration = Duration::from_secs(3);

/// Where and how the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// UDP address to bind (port 0 = any free port).
    pub udp: SocketAddr,
    /// TCP address to bind (port 0 = any free port).
    pub tcp: SocketAddr,
    /// The bound on each session's unsent output; past it the session is dropped.
    pub max_queued_bytes: usize,
    /// Limits and timers; `tcp_port` is replaced by the port actually bound.
    pub config: ServerConfig,
}

impl ServerOptions {
    /// Defaults for the given addresses: 8 MiB per session, the protocol's default limits.
    pub fn new(udp: SocketAddr, tcp: SocketAddr) -> Self {
        ServerOptions {
            udp,
            tcp,
            max_queued_bytes: 8 << 20,
            config: ServerConfig::default(),
        }
    }
}

enum Input {
    Datagram {
        from: SocketAddr,
        data: Vec<u8>,
    },
    Opened {
        conn: ConnId,
        peer: SocketAddr,
        stream: TcpStream,
    },
    Bytes {
        conn: ConnId,
        data: Vec<u8>,
    },
    Lost {
        conn: ConnId,
    },
    Shutdown,
}

/// Asks a running server to shut down gracefully; cheap to clone (for a Ctrl-C handler, say).
#[derive(Clone)]
pub struct ServerStopper(SyncSender<Input>);

impl ServerStopper {
    /// Logs everyone out, flushes, and ends the server. Harmless if it has already ended.
    pub fn stop(&self) {
        let _ = self.0.send(Input::Shutdown);
    }
}

/// A running server.
pub struct ServerHandle {
    udp: SocketAddr,
    tcp: SocketAddr,
    stopper: ServerStopper,
    owner: JoinHandle<()>,
}

impl ServerHandle {
    /// The UDP address actually bound.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp
    }

    /// The TCP address actually bound.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp
    }

    /// A handle that can stop the server from another thread.
    pub fn stopper(&self) -> ServerStopper {
        self.stopper.clone()
    }

    /// Blocks until the server has ended.
    pub fn wait(self) {
        if self.owner.join().is_err() {
            tracing::error!("the server thread panicked");
        }
    }

    /// Stops the server and waits until it has ended.
    pub fn shutdown(self) {
        self.stopper.stop();
        self.wait();
    }

    /// Whether the server has ended.
    pub fn is_finished(&self) -> bool {
        self.owner.is_finished()
    }
}

/// Binds both sockets, tells `on_listening` where (before anything can arrive), then serves in
/// background threads, handing every [`ServerEvent`] to `on_event`.
pub fn start(
    options: ServerOptions,
    on_listening: impl FnOnce(SocketAddr, SocketAddr),
    on_event: impl FnMut(ServerEvent) + Send + 'static,
) -> io::Result<ServerHandle> {
    let udp_socket = UdpSocket::bind(options.udp)?;
    let listener = TcpListener::bind(options.tcp)?;
    let udp = udp_socket.local_addr()?;
    let tcp = listener.local_addr()?;
    on_listening(udp, tcp);

    let (tx, rx) = mpsc::sync_channel(INBOX_CAPACITY);
    let stop = Arc::new(AtomicBool::new(false));
    let datagrams = tx.clone();
    udp::spawn_reader(
        udp_socket.try_clone()?,
        Arc::clone(&stop),
        move |from, data| datagrams.send(Input::Datagram { from, data }).is_ok(),
    )?;
    let accepts = tx.clone();
    accept::spawn(listener, Arc::clone(&stop), move |conn, peer, stream| {
        accepts.send(Input::Opened { conn, peer, stream }).is_ok()
    })?;

    let mut config = options.config;
    config.tcp_port = tcp.port();
    let owner = Owner {
        server: Server::new(config),
        udp: udp_socket,
        conns: HashMap::new(),
        limits: ConnLimits {
            max_queued_bytes: options.max_queued_bytes,
            linger: Duration::from_secs(2),
        },
        writers: Writers::default(),
        inputs: tx.clone(),
        on_event: Box::new(on_event),
        to_wake: Vec::new(),
    };
    let owner = thread::Builder::new()
        .name("server".into())
        .spawn(move || owner.run(&rx, &stop, tcp))?;
    Ok(ServerHandle {
        udp,
        tcp,
        stopper: ServerStopper(tx),
        owner,
    })
}

struct Owner {
    server: Server,
    udp: UdpSocket,
    conns: HashMap<ConnId, Connection>,
    limits: ConnLimits,
    writers: Writers,
    /// For the connections' reader threads.
    inputs: SyncSender<Input>,
    on_event: Box<dyn FnMut(ServerEvent) + Send>,
    /// Connections given lines this turn whose writer may be asleep: each is woken once, when
    /// the turn ends, to write all of them together.
    to_wake: Vec<ConnId>,
}

/// Inputs handled in one turn before the writers are woken: enough to batch a burst of logins
/// into few writes, few enough to keep latency low.
const INPUTS_PER_TURN: usize = 64;

impl Owner {
    fn run(mut self, inputs: &Receiver<Input>, stop: &AtomicBool, tcp: SocketAddr) {
        loop {
            self.drain(Instant::now());
            let input = match inbox::next(inputs, self.server.poll_timeout()) {
                Next::Input(Input::Shutdown) | Next::Closed => break,
                Next::Input(input) => Some(input),
                Next::Deadline => None,
            };
            let now = Instant::now();
            let mut shutting_down = false;
            if let Some(input) = input {
                self.handle(now, input);
                self.drain(now);
                // Take what else is already waiting, so one wake-up per writer carries it all.
                for _ in 1..INPUTS_PER_TURN {
                    match inputs.try_recv() {
                        Ok(Input::Shutdown) => {
                            shutting_down = true;
                            break;
                        }
                        Ok(input) => {
                            self.handle(now, input);
                            self.drain(now);
                        }
                        Err(_) => break,
                    }
                }
            }
            // Under a steady stream of input the wait never times out: check the deadline too.
            if self.server.poll_timeout().is_some_and(|at| at <= now) {
                self.server.handle_timeout(now);
                self.drain(now);
            }
            self.wake_writers();
            if shutting_down {
                break;
            }
        }
        let now = Instant::now();
        self.server.shutdown(now);
        self.drain(now);
        self.wake_writers();
        stop.store(true, Ordering::Relaxed);
        accept::wake(tcp);
        // Closing (not dropping) lets each writer flush its `error,shutdown`.
        for (_, conn) in self.conns.drain() {
            conn.close();
        }
        self.writers.wait_idle(now + FLUSH_AT_EXIT);
    }

    fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Datagram { from, data } => self.server.handle_datagram(now, from, &data),
            Input::Opened { conn, peer, stream } => self.open(now, conn, peer, stream),
            Input::Bytes { conn, data } => {
                if self.conns.contains_key(&conn) {
                    self.server.handle_bytes(now, conn, &data);
                }
            }
            Input::Lost { conn } => {
                if let Some(connection) = self.conns.remove(&conn) {
                    connection.abort();
                    self.server
                        .handle_connection_closed(now, conn, CloseCause::Closed);
                }
            }
            Input::Shutdown => {}
        }
    }

    fn open(&mut self, now: Instant, conn: ConnId, peer: SocketAddr, stream: TcpStream) {
        let bytes = self.inputs.clone();
        let lost = self.inputs.clone();
        let spawned = Connection::spawn(
            stream,
            self.limits,
            &self.writers,
            move |data| bytes.send(Input::Bytes { conn, data }).is_ok(),
            move || {
                let _ = lost.send(Input::Lost { conn });
            },
        );
        match spawned {
            Ok(connection) => {
                self.conns.insert(conn, connection);
                self.server.handle_connection_opened(now, conn, peer);
            }
            Err(e) => tracing::warn!("cannot serve the connection from {peer}: {e}"),
        }
    }

    /// Ends a turn: each writer given lines while asleep is woken once.
    fn wake_writers(&mut self) {
        for conn in self.to_wake.drain(..) {
            if let Some(connection) = self.conns.get(&conn) {
                connection.wake();
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
                let Some(connection) = self.conns.get(&conn) else {
                    return;
                };
                let queued = connection.send(data);
                if matches!(queued, Ok(true)) {
                    self.to_wake.push(conn);
                }
                if queued.is_err() {
                    self.conns.remove(&conn);
                    tracing::warn!(
                        "dropped connection #{}: over {} bytes unsent",
                        conn.0,
                        self.limits.max_queued_bytes
                    );
                    self.server
                        .handle_connection_closed(now, conn, CloseCause::SlowConsumer);
                }
            }
            ServerTransmit::Close { conn } => {
                if let Some(connection) = self.conns.remove(&conn) {
                    connection.close();
                }
            }
        }
    }
}
