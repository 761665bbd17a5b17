//! feige over smol/async-io, and the `feige-smol` binary.
//!
//! The transport is thin: it owns the sockets, the clock and the tasks, feeds the sans-IO core
//! ([`feige_core`]) and does what the core asks. Each driver runs the core in one owner task;
//! socket tasks (and stdin, Ctrl-C) send it inputs through one bounded channel; it waits for the
//! next input or the core's next deadline (an `async_io::Timer`), whichever comes first, and after
//! every input drains transmits and events.
//!
//! - [`server`]: a UDP receive task, an accept loop, and per connection a reader task and a writer
//!   task whose outbox is bounded in bytes: a session that does not read its output is dropped and
//!   logged out (`CloseCause::SlowConsumer`) instead of stalling the rest. The owner task has a
//!   thread of its own and wakes each writer once per turn, so a turn's lines leave in one
//!   vectored write. Built to hold ten thousand sessions: little memory per session, a deep
//!   accept backlog, and the binary raises its own open-file limit.
//! - [`client`]: one UDP socket for the login and all peer traffic, the TCP session, commands.
//!
//! The command line, the output (JSON or plain lines), logging and the demo script are those of
//! `feige` ([`feige_std::app`]), reused as they are, so either binary can stand in for the other.

pub mod client;
mod conn;
pub mod demo;
pub mod fdlimit;
mod inbox;
pub mod runtime;
pub mod server;
mod udp;
