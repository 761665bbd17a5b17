//! Diagnostics go to stderr through `tracing`, so stdout carries only the events. A writer thread
//! does the writing: whoever logs (a server's owner, say) never waits on a stderr that is read
//! slowly; past its buffer, lines are dropped rather than waited for.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber: `RUST_LOG` filters (e.g. `RUST_LOG=feige_std=debug`), default `warn`.
/// Keep the guard until the process ends: dropping it flushes what is still buffered.
pub fn init() -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    // A second call (the demo within a test, say) keeps the first subscriber: that is fine.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init()
        .ok()
        .map(|()| guard)
}
