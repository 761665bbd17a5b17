//! A core machine with the application attached: what a transport's owner holds.
//!
//! A transport's owner does two things: it waits for the next input (a datagram, bytes on a
//! connection, a job of the application, a deadline), and it does the I/O the core asks for. The
//! rest — which input goes to which `handle_*` call, stale input from an abandoned connection, the
//! drain contract, events to the application, a slow consumer's departure — is the same for every
//! transport and is written here once. A transport describes its I/O by implementing
//! [`ServerIo`] or [`ClientIo`] for its sockets, and its owner loop is then:
//!
//! ```text
//! loop {
//!     machine.drain(now, &mut sockets);            // transmits done, events shown
//!     wait for the next input or machine.poll_timeout();
//!     machine.handle(now, input, &mut sockets);    // or machine.handle_timeout(now)
//! }
//! ```

mod chat;
mod server;

pub use chat::{ChatMachine, ClientInput, ClientIo};
pub use server::{Overflow, ServerInput, ServerIo, ServerMachine};
