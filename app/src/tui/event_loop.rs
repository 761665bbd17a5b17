//! The UI loop both binaries run on their main thread: it waits on one channel for client events,
//! keys and send results, applies them, draws, and hands sends and the logout to the client
//! through a [`ChatControl`]. It ends with the client's terminal event.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use feige_core::client::{ClientEvent, MessageId, SendError};
use feige_core::wire::Name;
use ratatui::backend::{Backend, CrosstermBackend};

use super::keys::TermInput;
use super::model::Action;
use super::terminal::TerminalGuard;
use super::{reader, SendTicket, Tui};
use crate::store::HistoryEntry;

/// Inputs applied before drawing again, so a burst of events costs one frame, yet keys are never
/// starved of frames for long.
const MAX_BATCH: usize = 256;

/// Inputs waiting for the loop. Bounded, so a client flooded with events slows down (its own
/// inbox fills, then the kernel drops datagrams) instead of growing this queue without end.
const CAPACITY: usize = 4 * MAX_BATCH;

/// Everything the UI loop reacts to.
#[derive(Debug)]
pub enum UiInput {
    /// An event of the client.
    Event(ClientEvent),
    /// Something to tell the user that is not a client event (a command error).
    Notice(String),
    /// The client's answer to [`ChatControl::send`].
    SendResult {
        /// The ticket given to `send`.
        ticket: SendTicket,
        /// What `send_message` returned.
        result: Result<MessageId, SendError>,
    },
    /// A key or a resize.
    Term(TermInput),
    /// Keys can no longer be read; the loop logs out.
    KeysLost(String),
    /// The client is gone without a terminal event (it failed): the loop ends.
    ChatEnded,
}

/// Sends inputs to the UI loop; cheap to clone. Bounded: a sender waits while the loop is a
/// whole queue behind (it drains everything queued before each frame, so that is rare and short).
#[derive(Debug, Clone)]
pub struct UiSender(SyncSender<UiInput>);

impl UiSender {
    /// Sends one input; false once the loop's receiver is gone.
    pub fn send(&self, input: UiInput) -> bool {
        self.0.send(input).is_ok()
    }
}

/// The channel the UI loop reads. Whoever holds the receiver drops it when the loop is over, so
/// that no sender can wait on it any more.
pub fn channel() -> (UiSender, Receiver<UiInput>) {
    let (tx, rx) = mpsc::sync_channel(CAPACITY);
    (UiSender(tx), rx)
}

/// What the UI asks of the client it shows.
pub trait ChatControl {
    /// Calls `send_message(to, text)`; the result must come back as [`UiInput::SendResult`] for
    /// `ticket`, before the events of that message.
    fn send(&mut self, ticket: SendTicket, to: &Name, text: &str);
    /// Logs out; the client then reports `LoggedOut`.
    fn quit(&mut self);
    /// Runs a command line as plain mode does (`/trust NAME`, `/verify NAME`); what it answers
    /// comes back as events and notices.
    fn run(&mut self, line: &str);
}

/// Takes over the terminal, runs the UI until the client's terminal event (returned, for the
/// caller to print once the terminal is back to normal) or until the client is gone (`None`).
pub fn run(
    server: SocketAddr,
    history: &[(Name, Vec<HistoryEntry>)],
    inputs: &Receiver<UiInput>,
    feed: &UiSender,
    control: &mut dyn ChatControl,
) -> io::Result<Option<ClientEvent>> {
    let guard = TerminalGuard::enter()?;
    let stop = Arc::new(AtomicBool::new(false));
    let keys = feed.clone();
    reader::spawn(Arc::clone(&stop), move |input| {
        keys.send(match input {
            Ok(input) => UiInput::Term(input),
            Err(e) => UiInput::KeysLost(e.to_string()),
        })
    })?;
    let ended = Tui::new(server, CrosstermBackend::new(io::stdout())).and_then(|mut tui| {
        for (with, entries) in history {
            tui.load_history(with, entries);
        }
        drive(&mut tui, inputs, control, local_time)
    });
    stop.store(true, Ordering::Relaxed);
    drop(guard);
    ended
}

/// The local time of day as conversation lines show it.
fn local_time() -> (Instant, String) {
    (
        Instant::now(),
        chrono::Local::now().format("%H:%M").to_string(),
    )
}

/// The loop itself, on any backend: draw, wait for input (or the next change of the screen),
/// apply everything queued, repeat. `clock` gives the instant and the time of day to show.
pub fn drive<B: Backend>(
    tui: &mut Tui<B>,
    inputs: &Receiver<UiInput>,
    control: &mut dyn ChatControl,
    mut clock: impl FnMut() -> (Instant, String),
) -> io::Result<Option<ClientEvent>> {
    loop {
        let (now, _) = clock();
        tui.draw(now)?;
        let first = match tui.next_change(now) {
            Some(at) => match inputs.recv_timeout(at.saturating_duration_since(now)) {
                Ok(input) => Some(input),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            },
            None => match inputs.recv() {
                Ok(input) => Some(input),
                Err(_) => return Ok(None),
            },
        };
        let batch = first
            .into_iter()
            .chain(inputs.try_iter().take(MAX_BATCH - 1));
        for input in batch {
            let (now, time) = clock();
            match apply(tui, input, control, now, &time) {
                Step::Continue => {}
                Step::End(event) => return Ok(event),
            }
        }
    }
}

enum Step {
    Continue,
    End(Option<ClientEvent>),
}

fn apply<B: Backend>(
    tui: &mut Tui<B>,
    input: UiInput,
    control: &mut dyn ChatControl,
    now: Instant,
    time: &str,
) -> Step {
    match input {
        UiInput::Event(event) => {
            tui.on_event(&event, now, time);
            let terminal = matches!(
                event,
                ClientEvent::LoggedOut | ClientEvent::LoginFailed(_) | ClientEvent::Disconnected(_)
            );
            if terminal {
                return Step::End(Some(event));
            }
        }
        UiInput::Notice(text) => tui.on_notice(text),
        UiInput::SendResult { ticket, result } => tui.on_send_result(ticket, result),
        UiInput::Term(TermInput::Resize) => {}
        UiInput::Term(TermInput::Key(key)) => match tui.on_key(key, time) {
            Some(Action::Send { ticket, to, text }) => control.send(ticket, &to, &text),
            Some(Action::Quit) => control.quit(),
            Some(Action::Run(line)) => control.run(&line),
            None => {}
        },
        UiInput::KeysLost(why) => {
            tui.on_notice(format!("cannot read the keyboard ({why}); logging out"));
            control.quit();
        }
        UiInput::ChatEnded => return Step::End(None),
    }
    Step::Continue
}

#[cfg(test)]
mod tests;
