//! This crate as the application's [`Transport`].

use std::io;

use feige_app::driver::{
    ChatOptions, RunningChat, RunningServer, ServerOptions, ServerSetup, Transport,
};
use feige_platform::fdlimit;

use crate::{client, server};

/// Blocking std sockets, a thread per socket.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdTransport;

impl Transport for StdTransport {
    fn program(&self) -> &'static str {
        "feige"
    }

    /// A connection holds three descriptors here (the socket and its reader's and writer's
    /// clones): the server holds as many as the open-file limit, raised to the hard one, allows.
    fn prepare_server(&self, options: &mut ServerOptions) -> Vec<String> {
        let prepared = fdlimit::prepare(3, options.config.max_sessions);
        options.config.max_connections = prepared.capacity;
        prepared.warnings
    }

    fn start_server(&self, setup: ServerSetup<'_>) -> io::Result<Box<dyn RunningServer>> {
        Ok(Box::new(server::start(setup)?))
    }

    fn start_chat(&self, options: ChatOptions) -> io::Result<Box<dyn RunningChat>> {
        Ok(Box::new(client::start(options)?))
    }
}
