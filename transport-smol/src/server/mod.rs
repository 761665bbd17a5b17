//! The server driver: one owner task holds the [`ServerMachine`]; the UDP receive task,
//! the accept loop and each connection's reader feed it through one bounded channel, and each
//! connection's writer drains an outbox the owner fills.
//!
//! The owner task runs on a thread of its own (the socket tasks run on the crate's executor): with
//! ten thousand sessions, a woken owner would otherwise wait its turn behind thousands of writer
//! tasks, and claims, timers and every session's output with it.

mod accept;
mod owner;

use std::io;
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;

use async_io::Async;
use feige_app::driver::{Listening, ServerInput, ServerMachine, ServerSetup, ServerThread};
use feige_core::server::Server;
use feige_platform::address::Outgoing;
use feige_platform::cluster::{Deliver, StoreLink};
use feige_platform::limits::SERVER_INBOX;
use smol::channel;

use crate::{metrics, runtime, udp};
use owner::Sockets;

/// Connections the kernel may hold before they are accepted. std listens with 128; a server for
/// ten thousand sessions must take a burst (everyone reconnecting after a restart, say) without
/// dropping SYNs. The kernel caps it at `net.core.somaxconn`.
const ACCEPT_BACKLOG: i32 = 4096;

/// What the owner task is told.
type Input = ServerInput<Async<std::net::TcpStream>>;

/// Binds both sockets, tells `on_listening` where (before anything can arrive), then serves on
/// the crate's executor, handing every server event to `on_event`.
pub fn start(setup: ServerSetup<'_>) -> io::Result<ServerThread> {
    let options = setup.options;
    let udp_socket = Arc::new(Async::<UdpSocket>::bind(options.udp)?);
    let listener = Async::<TcpListener>::bind(options.tcp)?;
    if let Err(e) = rustix::net::listen(listener.get_ref(), ACCEPT_BACKLOG) {
        tracing::debug!("cannot raise the listen backlog: {e}");
    }
    let scrapes = options
        .metrics
        .map(Async::<TcpListener>::bind)
        .transpose()?;
    let udp = udp_socket.get_ref().local_addr()?;
    let tcp = listener.get_ref().local_addr()?;
    let metrics_at = scrapes
        .as_ref()
        .map(|l| l.get_ref().local_addr())
        .transpose()?;
    let (tx, rx) = channel::bounded(SERVER_INBOX);
    let inbox = tx.clone();
    let deliver: Deliver = Arc::new(move |event| {
        let _ = inbox.send_blocking(Input::Store(event));
    });
    let store = StoreLink::for_server(
        options.cluster_url.as_deref(),
        options.config.cluster,
        deliver,
    )?;
    (setup.on_listening)(Listening {
        udp,
        tcp,
        metrics: metrics_at,
    });

    let receiving = runtime::spawn(udp::receive(
        Arc::clone(&udp_socket),
        tx.clone(),
        |from, data| Input::Datagram { from, data },
    ));
    let accepting = runtime::spawn(accept::run(listener, tx.clone()));
    let scraping = scrapes.map(|l| runtime::spawn(metrics::serve(l, Arc::clone(&setup.metrics))));

    let mut config = options.config;
    config.tcp_port = tcp.port();
    let machine = ServerMachine::new(Server::new(config), setup.on_event, setup.metrics, store);
    let sockets = Sockets::new(
        Outgoing::new(udp_socket.get_ref().try_clone()?)?,
        options.max_queued_bytes,
        tx.clone(),
    );
    let owner = move || {
        let feeders = [Some(receiving), Some(accepting), scraping];
        async_io::block_on(owner::run(machine, sockets, rx, feeders));
    };
    // Blocks (briefly) while the inbox is full: call from a thread (a Ctrl-C handler), not a task.
    ServerThread::spawn("feige-server", (udp, tcp), owner, move || {
        let _ = tx.send_blocking(Input::Shutdown);
    })
}
