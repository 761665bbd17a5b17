//! feige over blocking `std::net` sockets, and the `feige` binary.
//!
//! The transport is thin: it owns the sockets, the clock and the threads, feeds the sans-IO core
//! ([`feige_core`]) and does what the core asks. Each driver runs the core on one owner thread;
//! socket reader threads (and stdin, Ctrl-C) send it inputs through one bounded channel; it waits
//! until the core's next deadline and, after every input, drains transmits and events.
//!
//! - [`server`]: UDP reader, TCP accept thread, and per connection a reader and a writer whose
//!   queue is bounded in bytes: a session that does not read its output is dropped and logged
//!   out (`CloseCause::SlowConsumer`) instead of stalling the rest.
//! - [`client`]: one UDP socket for the login and all peer traffic, the TCP session, commands.
//! - [`app`]: the command line, output rendering, logging and the demo script, independent of
//!   the transport (the `feige-smol` binary reuses it).
//!
//! # Output
//!
//! `feige chat --json` prints the events of `docs/architecture.md`, one JSON object per line.
//! `feige server --json` first prints `{"event":"listening","udp":ADDR,"tcp":ADDR}` with the
//! addresses actually bound, then one line per server event:
//!
//! | event | fields | when |
//! |---|---|---|
//! | `accepted` | `name`, `from` | a UDP login was accepted and waits for its TCP claim |
//! | `rejected` | `from`, `reason` | a UDP login was refused (`name-taken`, `bad-name`, …) |
//! | `joined` | `name`, `endpoint` | a user is online |
//! | `left` | `name`, `endpoint`, `reason` | a user went offline (`logout`, `closed`, `idle-timeout`, `slow-consumer`, `replaced`, `lease-expired`, `shutdown`) |
//! | `connection_refused` | `conn`, `reason` | a TCP connection got `error,<reason>` and was closed |
//!
//! Without `--json` the same events are plain lines for a person. Diagnostics go to stderr,
//! filtered by `RUST_LOG` (default `warn`).

pub mod app;
pub mod client;
mod conn;
pub mod demo;
mod inbox;
pub mod server;
pub mod tui;
pub mod udp;
