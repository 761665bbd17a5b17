//! `server`: serve until interrupted, printing the events.

use std::process::ExitCode;

use crate::cli::ServerArgs;
use crate::driver::{ServerOptions, ServerSetup, Transport};
use crate::interrupt;
use crate::output::print_line;
use crate::render::{self, Format};

pub(super) fn run(transport: &dyn Transport, args: &ServerArgs) -> ExitCode {
    let program = transport.program();
    let format = if args.json {
        Format::Json
    } else {
        Format::Human
    };
    let mut options = ServerOptions::new(args.udp, args.tcp);
    options.max_queued_bytes = args.max_queued_bytes;
    for warning in transport.prepare_server(&options) {
        eprintln!("{program} server: warning: {warning}");
    }
    let started = transport.start_server(ServerSetup {
        options,
        on_listening: &mut |udp, tcp| print_line(&render::listening(udp, tcp, format)),
        on_event: Box::new(move |event| print_line(&render::server_event(&event, format))),
    });
    let running = match started {
        Ok(running) => running,
        Err(e) => {
            eprintln!(
                "{program} server: cannot listen on udp {} / tcp {}: {e}",
                args.udp, args.tcp
            );
            return ExitCode::FAILURE;
        }
    };
    let stopper = running.stopper();
    interrupt::on_interrupt(move || stopper.stop());
    running.wait();
    ExitCode::SUCCESS
}
