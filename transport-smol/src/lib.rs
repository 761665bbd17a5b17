//! feige over smol/async-io, and the `feige-smol` binary.
//!
//! A driver only: it owns the sockets, the clock and the tasks, feeds the sans-IO core
//! ([`feige_core`]) and does what the core asks; everything the user sees is the application
//! layer's ([`feige_app`]), which runs on this transport through [`SmolTransport`], so either
//! binary can stand in for the other. Each driver runs its core machine in one owner task; socket
//! tasks (and the application's commands) send it inputs through one bounded channel; it waits
//! for the next input or the core's next deadline (an `async_io::Timer`), whichever comes first,
//! and after every input drains transmits and events.
//!
//! - [`server`]: a UDP receive task, an accept loop, and per connection a reader task and a writer
//!   task whose outbox is bounded in bytes: a session that does not read its output is dropped and
//!   logged out (`CloseCause::SlowConsumer`) instead of stalling the rest. The owner task has a
//!   thread of its own and wakes each writer once per turn, so a turn's lines leave in one
//!   vectored write. Built to hold ten thousand sessions: little memory per session, a deep
//!   accept backlog, and the binary raises its own open-file limit.
//! - [`client`]: one UDP socket for the login and all peer traffic, the TCP session, and the
//!   application's jobs.

pub mod client;
mod conn;
mod inbox;
mod metrics;
pub mod runtime;
pub mod server;
mod transport;
mod udp;

pub use transport::SmolTransport;
