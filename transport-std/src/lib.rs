//! feige over blocking `std::net` sockets, and the `feige` binary.
//!
//! A driver only: it owns the sockets, the clock and the threads, feeds the sans-IO core
//! ([`feige_core`]) and does what the core asks; everything the user sees is the application
//! layer's ([`feige_app`]), which runs on this transport through [`StdTransport`]. Each driver
//! runs its core machine on one owner thread; socket reader threads (and the application's
//! commands) send it inputs through one bounded channel; it waits until the core's next deadline
//! and, after every input, drains transmits and events.
//!
//! - [`server`]: UDP reader, TCP accept thread, and per connection a reader and a writer whose
//!   queue is bounded in bytes: a session that does not read its output is dropped and logged
//!   out (`CloseCause::SlowConsumer`) instead of stalling the rest.
//! - [`client`]: one UDP socket for the login and all peer traffic, the TCP session, and the
//!   application's jobs.
//!
//! One thread pair per session: the transport for hundreds of users; `feige-smol` holds tens of
//! thousands.

pub mod client;
mod conn;
mod inbox;
mod metrics;
pub mod server;
mod transport;
pub mod udp;

pub use transport::StdTransport;
