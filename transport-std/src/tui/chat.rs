//! `chat NAME` in the UI, for either binary: the UI runs on the calling thread while the client
//! driver (std threads or smol tasks) runs beside it, reached through a [`Commander`].

use std::io::{self, IsTerminal};
use std::net::SocketAddr;
use std::sync::mpsc::Receiver;

use feige_core::client::{MessageId, SendError};
use feige_core::wire::Name;

use crate::app::chat::ChatEvent;
use crate::app::output::print_line;
use crate::app::render::{self, Format};

use super::event_loop::{self, ChatControl, UiInput, UiSender};
use super::SendTicket;

/// Where a driver reports the result of `send_message`.
pub type SendReply = Box<dyn FnOnce(Result<MessageId, SendError>) + Send>;

/// What the UI needs of a client driver.
pub trait Commander {
    /// Calls `send_message(to, text)` on the client and gives `reply` the result before any
    /// event about that message.
    fn send(&self, to: &str, text: &str, reply: SendReply);
    /// Logs out.
    fn log_out(&self);
}

impl Commander for crate::client::ChatCommander {
    fn send(&self, to: &str, text: &str, reply: SendReply) {
        self.send_message(to, text, reply);
    }

    fn log_out(&self) {
        self.quit();
    }
}

/// Whether `chat` shows the UI: on a terminal, unless `--json` or `--plain` asks for lines.
pub fn wanted(json: bool, plain: bool) -> bool {
    !json && !plain && io::stdout().is_terminal()
}

/// Shows the chat until the client's session ends, then prints its last event on the restored
/// terminal. If the terminal cannot be used, says why and logs out.
pub fn show(
    server: SocketAddr,
    commander: impl Commander,
    inputs: &Receiver<UiInput>,
    sender: &UiSender,
) {
    let mut control = CommanderControl {
        commander,
        replies: sender.clone(),
    };
    match event_loop::run(server, inputs, sender, &mut control) {
        Ok(Some(last)) => print_line(&render::chat_event(&ChatEvent::Core(last), Format::Human)),
        Ok(None) => {}
        Err(e) => {
            eprintln!("cannot run the terminal UI ({e}); logging out (try --plain)");
            control.commander.log_out();
        }
    }
}

/// A [`Commander`] as the UI loop's control: results come back through the loop's channel.
struct CommanderControl<C> {
    commander: C,
    replies: UiSender,
}

impl<C: Commander> ChatControl for CommanderControl<C> {
    fn send(&mut self, ticket: SendTicket, to: &Name, text: &str) {
        let replies = self.replies.clone();
        let reply: SendReply = Box::new(move |result| {
            replies.send(UiInput::SendResult { ticket, result });
        });
        self.commander.send(to.as_str(), text, reply);
    }

    fn quit(&mut self) {
        self.commander.log_out();
    }
}
