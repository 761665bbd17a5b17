//! What a binary's `main` runs: the command line parsed, then the server, a chat client or the
//! demo on the transport the binary gives.

mod chat;
mod server;

use std::process::ExitCode;

pub(crate) use chat::{options as chat_options, Persona};

use crate::cli::{Cli, Command};
use crate::driver::Transport;
use crate::{demo, logging};

/// The whole program on `transport`: `feige[-smol] server|chat|demo`.
pub fn main(transport: &dyn Transport) -> ExitCode {
    let cli = Cli::parse_for(transport.program());
    let _flushed_at_exit = logging::init();
    match cli.command {
        Command::Server(args) => server::run(transport, &args),
        Command::Chat(args) => chat::run(transport, &args),
        Command::Demo => demo::main(transport),
    }
}
