//! `server`: serve until interrupted, printing the events.

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use feige_core::server::cluster::{ClusterConfig, NodeId};

use crate::cli::ServerArgs;
use crate::driver::{ServerOptions, ServerSetup, Transport};
use crate::metrics::ServerMetrics;
use crate::output::print_line;
use crate::render::{self, Format};
use crate::store::random_bytes;
use crate::{interrupt, server_log};

/// How often refused logins are summed up per source.
const REFUSALS_EVERY: Duration = Duration::from_secs(1);

pub(super) fn run(transport: &dyn Transport, args: &ServerArgs) -> ExitCode {
    let program = transport.program();
    let format = if args.json {
        Format::Json
    } else {
        Format::Human
    };
    let mut options = ServerOptions::new(args.udp, args.tcp);
    options.max_queued_bytes = args.max_queued_bytes;
    options.metrics = args.metrics;
    options.config.relay = args.relay.is_on();
    if let Some(url) = &args.cluster {
        let node = match random_bytes() {
            Ok(bytes) => NodeId(u64::from_le_bytes(bytes)),
            Err(e) => {
                eprintln!("{program} server: {e}");
                return ExitCode::FAILURE;
            }
        };
        options.config.cluster = Some(ClusterConfig::new(node));
        options.cluster_url = Some(url.clone());
    }
    for warning in transport.prepare_server(&mut options) {
        eprintln!("{program} server: warning: {warning}");
    }
    let metrics = Arc::new(ServerMetrics::default());
    let stdout = io::stdout();
    let (mut log, writer) =
        match server_log::start(format, REFUSALS_EVERY, Arc::clone(&metrics), stdout) {
            Ok(started) => started,
            Err(e) => {
                eprintln!("{program} server: cannot start the output thread: {e}");
                return ExitCode::FAILURE;
            }
        };
    let started = transport.start_server(ServerSetup {
        options,
        on_listening: &mut |at| print_line(&render::listening(at, format)),
        on_event: Box::new(move |event| log.deliver(event)),
        metrics,
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
    writer.finish();
    ExitCode::SUCCESS
}
