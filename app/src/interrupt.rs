//! Ctrl-C (and SIGTERM, SIGHUP): the first asks for an orderly end, a second one ends at once.

use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status after a second interrupt, as shells report death by SIGINT.
const INTERRUPTED: i32 = 130;

/// Runs `orderly_end` on the first interrupt; exits the process on the next.
pub fn on_interrupt(orderly_end: impl Fn() + Send + 'static) {
    let seen = AtomicBool::new(false);
    let installed = ctrlc::set_handler(move || {
        if seen.swap(true, Ordering::SeqCst) {
            std::process::exit(INTERRUPTED);
        }
        orderly_end();
    });
    if let Err(e) = installed {
        tracing::warn!("cannot catch Ctrl-C: {e}");
    }
}
