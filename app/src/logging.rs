//! Diagnostics go to stderr through `tracing`, so stdout carries only the events.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber: `RUST_LOG` filters (e.g. `RUST_LOG=feige_std=debug`), default `warn`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    // A second call (the demo within a test, say) keeps the first subscriber: that is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
