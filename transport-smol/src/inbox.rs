//! The owner task's wait: the next input, or the core's next deadline, whichever comes first.

use std::time::Instant;

use async_io::Timer;
use smol::channel::Receiver;
use smol::future;

/// What woke the owner task.
pub enum Next<T> {
    /// An input from a socket task, stdin or a control handle.
    Input(T),
    /// The deadline passed.
    Deadline,
    /// Every sender is gone.
    Closed,
}

/// Waits for the next input until `deadline` (forever without one). An input already waiting
/// wins without arming a timer, so a busy owner pays nothing for the deadline.
pub async fn next<T>(inputs: &Receiver<T>, deadline: Option<Instant>) -> Next<T> {
    let input = async {
        match inputs.recv().await {
            Ok(input) => Next::Input(input),
            Err(_) => Next::Closed,
        }
    };
    let timer = async {
        deadline.map_or_else(Timer::never, Timer::at).await;
        Next::Deadline
    };
    future::or(input, timer).await
}
