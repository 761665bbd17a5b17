//! The demo's smol side: servers and clients are this crate's drivers, as tasks of one process;
//! the script itself is the shared one of `feige_std::app::demo`.

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::Sender;
use std::thread;
use std::time::{Duration, Instant};

use feige_core::wire::Name;
use feige_std::app::chat::ChatEvent;
use feige_std::app::cli::unspecified_for;
use feige_std::app::demo::{ChatControl, DemoTransport};

use crate::client::{self, ChatCommander, ChatHandle, ChatOptions};
use crate::server::{self, ServerHandle, ServerOptions};

/// Runs the demo's parties on this crate's async drivers.
#[derive(Default)]
pub struct SmolDemo {
    server: Option<ServerHandle>,
    clients: Vec<ChatHandle>,
}

impl DemoTransport for SmolDemo {
    fn start_server(&mut self) -> io::Result<(SocketAddr, SocketAddr)> {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let options = ServerOptions::new(loopback, loopback);
        let handle = server::start(options, |_, _| {}, |event| tracing::info!("{event:?}"))?;
        let addrs = (handle.udp_addr(), handle.tcp_addr());
        self.server = Some(handle);
        Ok(addrs)
    }

    fn start_client(
        &mut self,
        name: Name,
        server: SocketAddr,
        events: Sender<ChatEvent>,
    ) -> io::Result<Box<dyn ChatControl>> {
        let options = ChatOptions {
            name,
            server,
            bind: unspecified_for(server),
            dialect: None,
        };
        let handle = client::start(options, move |event| {
            let _ = events.send(event);
        })?;
        let commander = handle.commander();
        self.clients.push(handle);
        Ok(Box::new(commander))
    }

    fn stop(&mut self, deadline: Instant) {
        for client in &self.clients {
            client.commander().quit();
        }
        for client in self.clients.drain(..) {
            wait_until(|| client.is_finished(), deadline);
        }
        if let Some(server) = self.server.take() {
            server.stopper().stop();
            wait_until(|| server.is_finished(), deadline);
        }
    }
}

impl ChatControl for ChatCommander {
    fn line(&self, line: &str) {
        ChatCommander::line(self, line.to_owned());
    }
}

/// Polls `done` until it holds or `deadline` passes.
fn wait_until(done: impl Fn() -> bool, deadline: Instant) {
    while !done() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
}
