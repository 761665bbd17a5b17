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

    /// Every session holds a socket: the soft open-file limit goes up to the hard one.
    fn prepare_server(&self, options: &ServerOptions) -> Vec<String> {
        match fdlimit::raise() {
            Ok(limit) => fdlimit::shortfall(limit, options.config.max_sessions)
                .into_iter()
                .collect(),
            Err(e) => vec![e],
        }
    }

    fn start_server(&self, setup: ServerSetup<'_>) -> io::Result<Box<dyn RunningServer>> {
        Ok(Box::new(server::start(setup)?))
    }

    fn start_chat(&self, options: ChatOptions) -> io::Result<Box<dyn RunningChat>> {
        Ok(Box::new(client::start(options)?))
    }
}
