//! feige's application layer, once for every transport: the command line, the JSON and plain
//! renderings of events, stdin commands, logging, the terminal UI, the demo script, and the
//! server and chat runners.
//!
//! ```text
//!   app (feige-app)        what the user sees and types; opens no socket
//!        │  Transport: start_server / start_chat, events back, ClientJobs in
//!   transports             feige-std (threads), feige-smol (tasks): sockets, clock, fd limit
//!        │  handle_*(now, …) in, poll_transmit / poll_event / poll_timeout out
//!   core (feige-core)      wire codec and the sans-IO server and client machines
//! ```
//!
//! A binary is a `main` of one line: `feige_app::main(&feige_std::StdTransport)`. A transport
//! implements [`driver::Transport`]; its owner thread or task keeps a [`driver::ChatMachine`] (or
//! [`driver::ServerMachine`]): the core machine with the application's event sink attached.
//! Features above the protocol (keys, history, reconnect policy) belong here, not in a transport.
//!
//! # A transport's owner loop
//!
//! With the sockets left out, what an owner does with a client: run the application's jobs, feed
//! inputs, and drain with one loop, events reaching the application on the way.
//!
//! ```
//! use std::time::Instant;
//!
//! use feige_app::chat::ChatEvent;
//! use feige_app::driver::{ChatMachine, ChatSinks, ClientJob};
//! use feige_core::client::{Client, ClientConfig, ClientEvent, ClientTransmit};
//! use feige_core::wire::{Name, SessionId};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = Instant::now();
//! let server = "127.0.0.1:9000".parse()?;
//! let config = ClientConfig::new(Name::new("alice")?, server, "127.0.0.1:4000".parse()?, SessionId::new(1));
//! let (shown, seen) = std::sync::mpsc::channel();
//! let sinks = ChatSinks {
//!     on_event: Box::new(move |e| { let _ = shown.send(e); }),
//!     // A real application writes each record to its store before the transmits after it.
//!     persist: Box::new(|_record| Ok(())),
//! };
//! let mut machine = ChatMachine::new(Client::new(config, now), sinks);
//!
//! // A job from the application (here what `/quit` does), then the drain.
//! let quit: ClientJob = Box::new(|client, now| { client.logout(now); None });
//! machine.run(now, quit);
//! let mut io = Vec::new();
//! while let Some(transmit) = machine.poll_transmit() {
//!     io.push(transmit); // a real owner sends the datagram, writes the bytes, opens the connection
//! }
//! assert!(matches!(io.first(), Some(ClientTransmit::Datagram { to, .. }) if *to == server));
//! assert_eq!(seen.try_recv()?, ChatEvent::Core(ClientEvent::LoggedOut));
//! assert!(machine.is_closed(), "the owner's loop ends here");
//! # Ok(())
//! # }
//! ```

pub mod chat;
pub mod cli;
pub mod demo;
pub mod driver;
pub mod interrupt;
pub mod logging;
mod machine;
pub mod metrics;
pub mod output;
pub mod render;
mod run;
pub mod server_log;
pub mod session_id;
pub mod stdin;
pub mod store;
pub mod tui;

pub use run::main;
