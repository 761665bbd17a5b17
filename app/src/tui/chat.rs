//! `chat NAME` in the UI, for either binary: the UI runs on the calling thread while the client
//! driver (std threads or smol tasks) runs beside it, reached through its [`ChatCommands`].

use std::io::{self, IsTerminal};
use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver};
use std::thread;

use feige_core::wire::Name;

use crate::chat::{locked, ChatEvent, SharedStore};
use crate::driver::{ChatCommands, ClientJob};
use crate::output::print_line;
use crate::render::{self, Format};
use crate::store::HistoryEntry;

use super::event_loop::{self, ChatControl, UiInput, UiSender};
use super::SendTicket;

/// Whether `chat` shows the UI: on a terminal, unless `--json` or `--plain` asks for lines.
pub fn wanted(json: bool, plain: bool) -> bool {
    !json && !plain && io::stdout().is_terminal()
}

/// Messages of each conversation the UI shows from the history when it opens.
const HISTORY_SHOWN: usize = 200;

/// Shows the chat until the client's session ends, then prints its last event on the restored
/// terminal; the conversations open with `history` (see [`kept`]). If the terminal cannot be
/// used, says why and logs out. `inputs` is dropped on return, so nothing can wait on the
/// channel after the loop.
pub fn show(
    server: SocketAddr,
    commands: ChatCommands,
    store: SharedStore,
    history: Vec<(Name, Vec<HistoryEntry>)>,
    inputs: Receiver<UiInput>,
    sender: &UiSender,
) {
    let commands = match relay(commands.clone()) {
        Ok(relayed) => relayed,
        Err(e) => {
            eprintln!("cannot run the terminal UI ({e}); logging out (try --plain)");
            commands.quit();
            return;
        }
    };
    let mut control = CommandsControl {
        commands,
        store,
        replies: sender.clone(),
    };
    match event_loop::run(server, &history, &inputs, sender, &mut control) {
        Ok(Some(last)) => print_line(&render::chat_event(&ChatEvent::Core(last), Format::Human)),
        Ok(None) => {}
        Err(e) => {
            eprintln!("cannot run the terminal UI ({e}); logging out (try --plain)");
            control.commands.quit();
        }
    }
}

/// The last messages of every conversation kept, most recent conversation first; what cannot be
/// read is said once and left out. Read before the client starts: a client that ends at once
/// (its login failed) closes the store.
pub fn kept(store: &SharedStore) -> Vec<(Name, Vec<HistoryEntry>)> {
    let db = locked(store);
    let read = db.conversations().and_then(|names| {
        names
            .into_iter()
            .map(|name| Ok((name.clone(), db.history(&name, HISTORY_SHOWN)?)))
            .collect()
    });
    read.unwrap_or_else(|e| {
        tracing::warn!("cannot read the history: {e}");
        Vec::new()
    })
}

/// The UI's commands go to the client from a thread of their own, so the UI never waits on the
/// client: a client waiting on a full UI channel can then never be waited on by the UI in turn.
/// The queue is fed by keystrokes only.
fn relay(commands: ChatCommands) -> io::Result<ChatCommands> {
    let (jobs, queued) = mpsc::channel::<ClientJob>();
    thread::Builder::new()
        .name("ui-commands".into())
        .spawn(move || {
            for job in queued {
                commands.run(job);
            }
        })?;
    Ok(ChatCommands::new(move |job| {
        let _ = jobs.send(job);
    }))
}

/// The client's commands as the UI loop's control: results come back through the loop's channel.
struct CommandsControl {
    commands: ChatCommands,
    store: SharedStore,
    replies: UiSender,
}

impl ChatControl for CommandsControl {
    fn send(&mut self, ticket: SendTicket, to: &Name, text: &str) {
        let replies = self.replies.clone();
        self.commands
            .send_message(to.as_str(), text, move |result| {
                replies.send(UiInput::SendResult { ticket, result });
            });
    }

    fn quit(&mut self) {
        self.commands.quit();
    }

    fn run(&mut self, line: &str) {
        self.commands.line(line.to_owned(), &self.store);
    }
}
