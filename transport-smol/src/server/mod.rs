//! The server driver: one owner task holds the [`Server`] state machine; the UDP receive task,
//! the accept loop and each connection's reader feed it through one bounded channel, and each
//! connection's writer drains an outbox the owner fills.
//!
//! The owner task runs on a thread of its own (the socket tasks run on the crate's executor): with
//! ten thousand sessions, a woken owner would otherwise wait its turn behind thousands of writer
//! tasks, and claims, timers and every session's output with it.

mod accept;
mod owner;

use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use async_io::Async;
use feige_core::server::{ConnId, Server, ServerEvent};
use smol::channel::{self, Sender};

pub use feige_std::server::ServerOptions;

use crate::runtime;
use crate::udp;
use owner::Owner;

/// Inputs waiting for the owner task. Bounded, so a flooding socket slows its own reader rather
/// than growing memory.
const INBOX_CAPACITY: usize = 4096;

/// Connections the kernel may hold before they are accepted. std listens with 128; a server for
/// ten thousand sessions must take a burst (everyone reconnecting after a restart, say) without
/// dropping SYNs. The kernel caps it at `net.core.somaxconn`.
const ACCEPT_BACKLOG: i32 = 4096;

/// What the owner task is told.
enum Input {
    Datagram {
        from: SocketAddr,
        data: Vec<u8>,
    },
    Opened {
        conn: ConnId,
        peer: SocketAddr,
        stream: Async<std::net::TcpStream>,
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
pub struct ServerStopper(Sender<Input>);

impl ServerStopper {
    /// Logs everyone out, flushes, and ends the server. Harmless if it has already ended. Blocks
    /// (briefly) while the owner's inbox is full, so call it from a thread, not a task.
    pub fn stop(&self) {
        let _ = self.0.send_blocking(Input::Shutdown);
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

    /// Whether the server has ended.
    pub fn is_finished(&self) -> bool {
        self.owner.is_finished()
    }

    /// Blocks until the server has ended.
    pub fn wait(self) {
        if self.owner.join().is_err() {
            tracing::error!("the server thread panicked");
        }
    }
}

/// Binds both sockets, tells `on_listening` where (before anything can arrive), then serves on
/// the crate's executor, handing every [`ServerEvent`] to `on_event`.
pub fn start(
    options: ServerOptions,
    on_listening: impl FnOnce(SocketAddr, SocketAddr),
    on_event: impl FnMut(ServerEvent) + Send + 'static,
) -> io::Result<ServerHandle> {
    let udp_socket = Arc::new(Async::<UdpSocket>::bind(options.udp)?);
    let listener = Async::<TcpListener>::bind(options.tcp)?;
    if let Err(e) = rustix::net::listen(listener.get_ref(), ACCEPT_BACKLOG) {
        tracing::debug!("cannot raise the listen backlog: {e}");
    }
    let udp = udp_socket.get_ref().local_addr()?;
    let tcp = listener.get_ref().local_addr()?;
    on_listening(udp, tcp);

    let (tx, rx) = channel::bounded(INBOX_CAPACITY);
    let receiving = runtime::spawn(udp::receive(
        Arc::clone(&udp_socket),
        tx.clone(),
        |from, data| Input::Datagram { from, data },
    ));
    let accepting = runtime::spawn(accept::run(listener, tx.clone()));

    let mut config = options.config;
    config.tcp_port = tcp.port();
    let owner = Owner::new(
        Server::new(config),
        udp_socket,
        options.max_queued_bytes,
        tx.clone(),
        Box::new(on_event),
    );
    let owner = thread::Builder::new()
        .name("feige-server".into())
        .spawn(move || async_io::block_on(owner.run(rx, [receiving, accepting])))?;
    Ok(ServerHandle {
        udp,
        tcp,
        stopper: ServerStopper(tx),
        owner,
    })
}
