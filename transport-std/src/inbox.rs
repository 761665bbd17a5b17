//! The owner thread's wait: the next input, or the core's next deadline, whichever comes first.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

/// What woke the owner thread.
pub enum Next<T> {
    /// An input from a socket thread, stdin or a control handle.
    Input(T),
    /// The deadline passed.
    Deadline,
    /// Every sender is gone.
    Closed,
}

/// Waits for the next input until `deadline` (forever without one).
pub fn next<T>(inputs: &Receiver<T>, deadline: Option<Instant>) -> Next<T> {
    let received = match deadline {
        None => inputs.recv().map_err(|_| RecvTimeoutError::Disconnected),
        Some(at) => inputs.recv_timeout(at.saturating_duration_since(Instant::now())),
    };
    match received {
        Ok(input) => Next::Input(input),
        Err(RecvTimeoutError::Timeout) => Next::Deadline,
        Err(RecvTimeoutError::Disconnected) => Next::Closed,
    }
}
