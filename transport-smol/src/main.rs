//! `feige-smol`: the messenger over smol/async-io. Same command line and output as `feige`; see
//! `feige-smol --help`.

use std::process::ExitCode;

use clap::Parser;
use feige_core::wire::Name;
use feige_smol::client::{self, ChatOptions};
use feige_smol::demo::SmolDemo;
use feige_smol::fdlimit;
use feige_smol::server::{self, ServerOptions};
use feige_std::app::chat::ChatEvent;
use feige_std::app::cli::{ChatArgs, Cli, Command, ServerArgs};
use feige_std::app::output::print_line;
use feige_std::app::render::{self, Format};
use feige_std::app::stdin::{self, StdinLine};
use feige_std::app::{demo, interrupt, logging};
use feige_std::tui;

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    match cli.command {
        Command::Server(args) => run_server(&args),
        Command::Chat(args) => run_chat(&args),
        Command::Demo => run_demo(),
    }
}

fn run_server(args: &ServerArgs) -> ExitCode {
    let format = if args.json {
        Format::Json
    } else {
        Format::Human
    };
    let mut options = ServerOptions::new(args.udp, args.tcp);
    options.max_queued_bytes = args.max_queued_bytes;
    match fdlimit::raise() {
        Ok(limit) => {
            if let Some(warning) = fdlimit::shortfall(limit, options.config.max_sessions) {
                eprintln!("feige-smol server: warning: {warning}");
            }
        }
        Err(e) => eprintln!("feige-smol server: warning: {e}"),
    }
    let started = server::start(
        options,
        |udp, tcp| print_line(&render::listening(udp, tcp, format)),
        move |event| print_line(&render::server_event(&event, format)),
    );
    let handle = match started {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!(
                "feige-smol server: cannot listen on udp {} / tcp {}: {e}",
                args.udp, args.tcp
            );
            return ExitCode::FAILURE;
        }
    };
    let stopper = handle.stopper();
    interrupt::on_interrupt(move || stopper.stop());
    handle.wait();
    ExitCode::SUCCESS
}

fn run_chat(args: &ChatArgs) -> ExitCode {
    let format = match (args.json, args.plain) {
        (true, _) => Format::Json,
        (false, true) => Format::Plain,
        (false, false) => Format::Human,
    };
    let name = match Name::new(&args.name) {
        Ok(name) => name,
        Err(e) => {
            eprintln!("feige-smol chat: {:?} cannot be a name: {e}", args.name);
            return ExitCode::from(2);
        }
    };
    let server = match args.server_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("feige-smol chat: bad --server {:?}: {e}", args.server);
            return ExitCode::from(2);
        }
    };
    let options = ChatOptions {
        name,
        server,
        bind: args.bind_addr(server),
        dialect: args.dialect(),
    };
    if tui::wanted(args.json, args.plain) {
        return run_chat_ui(options);
    }
    let started = client::start(options, move |event| {
        print_line(&render::chat_event(&event, format));
    });
    let handle = match started {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!(
                "feige-smol chat: cannot bind {}: {e}",
                args.bind_addr(server)
            );
            return ExitCode::FAILURE;
        }
    };
    let commander = handle.commander();
    interrupt::on_interrupt(move || commander.quit());
    let commander = handle.commander();
    let reading = stdin::spawn(move |line| {
        match line {
            StdinLine::Line(line) => commander.line(line),
            StdinLine::Invalid(why) => {
                print_line(&render::chat_event(&ChatEvent::Error(why), format));
            }
            StdinLine::End => commander.quit(),
        }
        true
    });
    if let Err(e) = reading {
        eprintln!("feige-smol chat: cannot read stdin: {e}");
        handle.commander().quit();
    }
    ExitCode::from(handle.wait().exit_code())
}

/// `chat` on a terminal: the full-screen UI instead of lines.
fn run_chat_ui(options: ChatOptions) -> ExitCode {
    let (server, bind) = (options.server, options.bind);
    let (sender, inputs) = tui::channel();
    let feed = tui::ChatFeed::new(sender.clone());
    let handle = match client::start(options, move |event| feed.deliver(event)) {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("feige-smol chat: cannot bind {bind}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let commander = handle.commander();
    interrupt::on_interrupt(move || commander.quit());
    tui::show(server, handle.commander(), &inputs, &sender);
    ExitCode::from(handle.wait().exit_code())
}

fn run_demo() -> ExitCode {
    let mut out = std::io::stdout();
    match demo::run(&mut SmolDemo::default(), &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("feige-smol demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}
