//! `chat NAME` in the UI, for either binary: the UI runs on the calling thread while the client
//! driver (std threads or smol tasks) runs beside it, reached through its [`ChatCommands`].

use std::io::{self, IsTerminal};
use std::net::SocketAddr;
use std::sync::mpsc::Receiver;

use feige_core::wire::Name;

use crate::chat::ChatEvent;
use crate::driver::ChatCommands;
use crate::output::print_line;
use crate::render::{self, Format};

use super::event_loop::{self, ChatControl, UiInput, UiSender};
use super::SendTicket;

/// Whether `chat` shows the UI: on a terminal, unless `--json` or `--plain` asks for lines.
pub fn wanted(json: bool, plain: bool) -> bool {
    !json && !plain && io::stdout().is_terminal()
}

/// Shows the chat until the client's session ends, then prints its last event on the restored
/// terminal. If the terminal cannot be used, says why and logs out.
pub fn show(
    server: SocketAddr,
    commands: ChatCommands,
    inputs: &Receiver<UiInput>,
    sender: &UiSender,
) {
    let mut control = CommandsControl {
        commands,
        replies: sender.clone(),
    };
    match event_loop::run(server, inputs, sender, &mut control) {
        Ok(Some(last)) => print_line(&render::chat_event(&ChatEvent::Core(last), Format::Human)),
        Ok(None) => {}
        Err(e) => {
            eprintln!("cannot run the terminal UI ({e}); logging out (try --plain)");
            control.commands.quit();
        }
    }
}

/// The client's commands as the UI loop's control: results come back through the loop's channel.
struct CommandsControl {
    commands: ChatCommands,
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
}
