//! This crate as the application's [`Transport`].

use std::io;

use feige_app::driver::{ChatOptions, RunningChat, RunningServer, ServerSetup, Transport};

use crate::{client, server};

/// Blocking std sockets, a thread per socket.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdTransport;

impl Transport for StdTransport {
    fn program(&self) -> &'static str {
        "feige"
    }

    fn start_server(&self, setup: ServerSetup<'_>) -> io::Result<Box<dyn RunningServer>> {
        Ok(Box::new(server::start(setup)?))
    }

    fn start_chat(&self, options: ChatOptions) -> io::Result<Box<dyn RunningChat>> {
        Ok(Box::new(client::start(options)?))
    }
}
