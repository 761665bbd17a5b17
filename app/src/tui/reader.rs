//! The thread that reads the terminal's keys with crossterm and hands them to the UI loop,
//! the same way a socket reader hands datagrams to a client: through the loop's channel.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossterm::event;

use super::keys::{map_event, TermInput};

/// How often the reader looks at its stop flag while no key comes.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// Reads keys until `stop` is set or `deliver` returns false. A read error is delivered (the UI
/// then logs out: without keys the user could not even quit).
pub fn spawn(
    stop: Arc<AtomicBool>,
    mut deliver: impl FnMut(Result<TermInput, io::Error>) -> bool + Send + 'static,
) -> io::Result<()> {
    thread::Builder::new().name("keys".into()).spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let input = match event::poll(STOP_CHECK) {
                Ok(false) => continue,
                Ok(true) => match event::read() {
                    Ok(event) => match map_event(event) {
                        Some(input) => Ok(input),
                        None => continue,
                    },
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            let failed = input.is_err();
            if !deliver(input) || failed {
                return;
            }
        }
    })?;
    Ok(())
}
