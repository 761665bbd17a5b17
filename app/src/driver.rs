//! The seam between the application and a transport.
//!
//! A transport implements [`Transport`]: it binds the sockets, runs a core machine on its own
//! threads or tasks, feeds it, and does the I/O it asks for. The application never opens a
//! socket; a transport never decides what the user sees. Around its core machine the transport's
//! owner keeps a [`ServerMachine`] or [`ChatMachine`] (see [`crate::machine`]), which hands every
//! event to the application, so the drain contract's event half is written once, here.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use feige_core::client::{Client, ClientConfig, Record};
use feige_core::server::{ServerConfig, ServerEvent};

use crate::chat::ChatEvent;
pub use crate::machine::{
    ChatMachine, ClientInput, ClientIo, Overflow, ServerInput, ServerIo, ServerMachine,
};
use crate::metrics::ServerMetrics;

/// Where the application's server events go; called on the transport's owner thread.
pub type ServerEvents = Box<dyn FnMut(ServerEvent) + Send>;

/// Where the application's chat events go; called on the transport's owner thread.
pub type ChatEvents = Box<dyn FnMut(ChatEvent) + Send>;

/// Makes a client's record durable (its store), on the owner thread, before the owner performs
/// any transmit after it; `Err` says why it could not.
pub type Persister = Box<dyn FnMut(&Record) -> Result<(), String> + Send>;

/// Where everything a chat client produces for the application goes.
pub struct ChatSinks {
    /// Every event.
    pub on_event: ChatEvents,
    /// Every record to make durable.
    pub persist: Persister,
}

/// Work the application gives a running client: run on the owner, with the client and the time
/// of the turn, between two inputs. What it returns is shown before the events it caused.
pub type ClientJob = Box<dyn FnOnce(&mut Client, Instant) -> Option<ChatEvent> + Send>;

/// What the application needs of a transport.
pub trait Transport: Sync {
    /// The binary's name, which starts its messages (`feige`, `feige-smol`).
    fn program(&self) -> &'static str;

    /// Readies the process to serve `options`, adjusting them to what it can afford (the
    /// open-file limit bounds the connections, say); what the operator should be warned of.
    fn prepare_server(&self, options: &mut ServerOptions) -> Vec<String> {
        let _ = options;
        Vec::new()
    }

    /// Binds both server sockets, says where (before any event), then serves in the background,
    /// handing every event to the setup's sink.
    fn start_server(&self, setup: ServerSetup<'_>) -> io::Result<Box<dyn RunningServer>>;

    /// Binds the client's UDP socket and starts logging in; every event goes to the options'
    /// sink, the last one terminal (`logged_out`, `login_failed` or `disconnected`).
    fn start_chat(&self, options: ChatOptions) -> io::Result<Box<dyn RunningChat>>;
}

/// A server a transport runs.
pub trait RunningServer: Send {
    /// The UDP address actually bound.
    fn udp_addr(&self) -> SocketAddr;
    /// The TCP address actually bound.
    fn tcp_addr(&self) -> SocketAddr;
    /// Asks for a graceful shutdown, from any thread; harmless once ended.
    fn stopper(&self) -> Stopper;
    /// Whether the server has ended.
    fn is_finished(&self) -> bool;
    /// Blocks until the server has ended and its last lines went out.
    fn wait(self: Box<Self>);
}

/// A chat client a transport runs.
pub trait RunningChat: Send {
    /// Hands jobs (typed lines, sends, the logout) to the client.
    fn commands(&self) -> ChatCommands;
    /// Whether the client has ended.
    fn is_finished(&self) -> bool;
    /// Blocks until the client has closed and its last lines went out.
    fn wait(self: Box<Self>);
}

/// A server whose owner runs on a thread of its own: what a transport returns as its
/// [`RunningServer`].
pub struct ServerThread {
    /// The UDP address actually bound.
    pub udp: SocketAddr,
    /// The TCP address actually bound.
    pub tcp: SocketAddr,
    /// Stops the owner.
    pub stopper: Stopper,
    /// The owner, which ends once the server has shut down and flushed.
    pub owner: JoinHandle<()>,
}

impl ServerThread {
    /// Runs `owner` on a thread named `name`; `stop` asks it, from any thread, to shut down.
    pub fn spawn(
        name: &str,
        (udp, tcp): (SocketAddr, SocketAddr),
        owner: impl FnOnce() + Send + 'static,
        stop: impl Fn() + Send + Sync + 'static,
    ) -> io::Result<ServerThread> {
        let owner = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(owner)?;
        Ok(ServerThread {
            udp,
            tcp,
            stopper: Stopper::new(stop),
            owner,
        })
    }
}

impl RunningServer for ServerThread {
    fn udp_addr(&self) -> SocketAddr {
        self.udp
    }

    fn tcp_addr(&self) -> SocketAddr {
        self.tcp
    }

    fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    fn is_finished(&self) -> bool {
        self.owner.is_finished()
    }

    fn wait(self: Box<Self>) {
        if self.owner.join().is_err() {
            tracing::error!("the server thread panicked");
        }
    }
}

/// A chat client whose owner runs on a thread of its own.
pub struct ChatThread {
    /// Reaches the owner.
    pub commands: ChatCommands,
    /// The owner, which ends once the client has closed and flushed.
    pub owner: JoinHandle<()>,
}

impl RunningChat for ChatThread {
    fn commands(&self) -> ChatCommands {
        self.commands.clone()
    }

    fn is_finished(&self) -> bool {
        self.owner.is_finished()
    }

    fn wait(self: Box<Self>) {
        if self.owner.join().is_err() {
            tracing::error!("the client thread panicked");
        }
    }
}

/// Asks a running server to stop; cheap to clone, callable from any thread (a Ctrl-C handler).
#[derive(Clone)]
pub struct Stopper(Arc<dyn Fn() + Send + Sync>);

impl Stopper {
    /// A stopper that calls `stop`.
    pub fn new(stop: impl Fn() + Send + Sync + 'static) -> Self {
        Stopper(Arc::new(stop))
    }

    /// Logs everyone out, flushes, and ends the server.
    pub fn stop(&self) {
        (self.0)();
    }
}

/// Hands [`ClientJob`]s to a running client; cheap to clone. A transport may block the caller
/// briefly while the client's inbox is full, so call from a thread, not an async task.
#[derive(Clone)]
pub struct ChatCommands(Arc<dyn Fn(ClientJob) + Send + Sync>);

impl ChatCommands {
    /// Commands that give each job to `submit`, which queues it for the client's owner.
    pub fn new(submit: impl Fn(ClientJob) + Send + Sync + 'static) -> Self {
        ChatCommands(Arc::new(submit))
    }

    /// Runs `job` on the client's owner.
    pub fn run(
        &self,
        job: impl FnOnce(&mut Client, Instant) -> Option<ChatEvent> + Send + 'static,
    ) {
        (self.0)(Box::new(job));
    }
}

/// Where and how a server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// UDP address to bind (port 0 = any free port).
    pub udp: SocketAddr,
    /// TCP address to bind (port 0 = any free port).
    pub tcp: SocketAddr,
    /// Where to serve `GET /metrics` (Prometheus text), if anywhere.
    pub metrics: Option<SocketAddr>,
    /// The bound on each session's unsent output; past it the session is dropped.
    pub max_queued_bytes: usize,
    /// Limits and timers; `tcp_port` is replaced by the port actually bound.
    pub config: ServerConfig,
    /// The Redis of the cluster (`config.cluster` says which coordinator this is).
    pub cluster_url: Option<String>,
}

impl ServerOptions {
    /// Defaults for the given addresses: 8 MiB per session, the protocol's default limits.
    pub fn new(udp: SocketAddr, tcp: SocketAddr) -> Self {
        ServerOptions {
            udp,
            tcp,
            metrics: None,
            max_queued_bytes: 8 << 20,
            config: ServerConfig::default(),
            cluster_url: None,
        }
    }
}

/// What a server starts with: where and how it runs, and where its output goes.
pub struct ServerSetup<'a> {
    /// Addresses, bounds, limits.
    pub options: ServerOptions,
    /// Told the addresses actually bound, before any event.
    pub on_listening: &'a mut dyn FnMut(Listening),
    /// Every event, on the owner.
    pub on_event: ServerEvents,
    /// Kept up to date by the owner; served at `options.metrics`.
    pub metrics: Arc<ServerMetrics>,
}

/// Where a server listens, as bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listening {
    /// The UDP socket for logins.
    pub udp: SocketAddr,
    /// The TCP listener for sessions.
    pub tcp: SocketAddr,
    /// The metrics endpoint, if asked for.
    pub metrics: Option<SocketAddr>,
}

/// Builds a client's configuration once the transport knows the endpoint it will declare.
pub type ConfigFor = Box<dyn FnOnce(SocketAddr) -> ClientConfig + Send>;

/// Where a chat client runs, and where its output goes.
pub struct ChatOptions {
    /// The server's UDP address: the route to it decides the endpoint declared.
    pub server: SocketAddr,
    /// The local UDP address to bind (login and all peer traffic use this one socket).
    pub bind: SocketAddr,
    /// The client's configuration, given the endpoint it declares.
    pub config: ConfigFor,
    /// Its events and records, on the owner.
    pub sinks: ChatSinks,
}
