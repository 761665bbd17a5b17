//! This crate as the application's [`Transport`].

use std::io;

use feige_app::driver::{
    ChatOptions, RunningChat, RunningServer, ServerOptions, ServerSetup, Transport,
};
use feige_platform::fdlimit;

use crate::{client, server};

/// smol tasks on one executor: the transport for tens of thousands of sessions.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolTransport;

impl Transport for SmolTransport {
    fn program(&self) -> &'static str {
        "feige-smol"
    }

    /// A connection holds one descriptor here: the server holds as many as the open-file limit,
    /// raised to the hard one, allows.
    fn prepare_server(&self, options: &mut ServerOptions) -> Vec<String> {
        let prepared = fdlimit::prepare(1, options.config.max_sessions);
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
