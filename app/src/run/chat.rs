//! `chat NAME`: lines on stdin and events on stdout, or the terminal UI on a terminal.

use std::net::SocketAddr;
use std::process::ExitCode;

use feige_core::client::ClientConfig;
use feige_core::wire::{Dialect, Name};

use crate::chat::{ChatEvent, OutcomeWatch};
use crate::cli::ChatArgs;
use crate::driver::{ChatEvents, ChatOptions, RunningChat, Transport};
use crate::output::print_line;
use crate::render::{self, Format};
use crate::stdin::{self, StdinLine};
use crate::{interrupt, session_id, tui};

pub(super) fn run(transport: &dyn Transport, args: &ChatArgs) -> ExitCode {
    let program = transport.program();
    let format = match (args.json, args.plain) {
        (true, _) => Format::Json,
        (false, true) => Format::Plain,
        (false, false) => Format::Human,
    };
    let name = match Name::new(&args.name) {
        Ok(name) => name,
        Err(e) => {
            eprintln!("{program} chat: {:?} cannot be a name: {e}", args.name);
            return ExitCode::from(2);
        }
    };
    let server = match args.server_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("{program} chat: bad --server {:?}: {e}", args.server);
            return ExitCode::from(2);
        }
    };
    let options = |on_event| {
        options(
            name,
            server,
            args.bind_addr(server),
            args.dialect(),
            on_event,
        )
    };
    let watch = OutcomeWatch::default();
    if tui::wanted(args.json, args.plain) {
        let (sender, inputs) = tui::channel();
        let feed = tui::ChatFeed::new(sender.clone());
        let Some(running) = start(transport, options(watch.watching(move |e| feed.deliver(e))))
        else {
            return ExitCode::FAILURE;
        };
        let commands = running.commands();
        interrupt::on_interrupt(move || commands.quit());
        tui::show(server, running.commands(), inputs, &sender);
        running.wait();
        return ExitCode::from(watch.outcome().exit_code());
    }
    let show = move |event: ChatEvent| print_line(&render::chat_event(&event, format));
    let Some(running) = start(transport, options(watch.watching(show))) else {
        return ExitCode::FAILURE;
    };
    let commands = running.commands();
    interrupt::on_interrupt(move || commands.quit());
    let commands = running.commands();
    let reading = stdin::spawn(move |line| {
        match line {
            StdinLine::Line(line) => commands.line(line),
            StdinLine::Invalid(why) => {
                print_line(&render::chat_event(&ChatEvent::Error(why), format));
            }
            StdinLine::End => commands.quit(),
        }
        true
    });
    if let Err(e) = reading {
        eprintln!("{program} chat: cannot read stdin: {e}");
        running.commands().quit();
    }
    running.wait();
    ExitCode::from(watch.outcome().exit_code())
}

/// Who logs in where, with a fresh session id, reporting to `on_event`.
pub(crate) fn options(
    name: Name,
    server: SocketAddr,
    bind: SocketAddr,
    dialect: Option<Dialect>,
    on_event: ChatEvents,
) -> ChatOptions {
    ChatOptions {
        server,
        bind,
        config: Box::new(move |local| ClientConfig {
            dialect,
            ..ClientConfig::new(name, server, local, session_id::fresh())
        }),
        on_event,
    }
}

/// Starts the client, or says why it could not.
fn start(transport: &dyn Transport, options: ChatOptions) -> Option<Box<dyn RunningChat>> {
    let bind = options.bind;
    match transport.start_chat(options) {
        Ok(running) => Some(running),
        Err(e) => {
            eprintln!("{} chat: cannot bind {bind}: {e}", transport.program());
            None
        }
    }
}
