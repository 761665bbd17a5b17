//! The client's side of the UI channel: what a client driver reports (through its `on_event`
//! callback) becomes UI input, and the end of the driver, however it ends, ends the UI.

use crate::chat::ChatEvent;

use super::event_loop::{UiInput, UiSender};

/// Give this (inside the `on_event` callback) to the client driver. Dropping it (the driver's
/// session is over, or its thread died) tells the UI loop that nothing more will come.
#[derive(Debug)]
pub struct ChatFeed(UiSender);

impl ChatFeed {
    /// Feeds the loop that reads `sender`'s channel.
    pub fn new(sender: UiSender) -> Self {
        ChatFeed(sender)
    }

    /// One thing the client reported.
    pub fn deliver(&self, event: ChatEvent) {
        self.0.send(as_input(event));
    }
}

impl Drop for ChatFeed {
    fn drop(&mut self) {
        self.0.send(UiInput::ChatEnded);
    }
}

fn as_input(event: ChatEvent) -> UiInput {
    match event {
        ChatEvent::Core(event) => UiInput::Event(event),
        ChatEvent::Error(why) => UiInput::Notice(why),
        ChatEvent::SafetyNumber { name, number } => {
            let groups: Vec<&str> = (0..number.len())
                .step_by(5)
                .filter_map(|i| number.get(i..(i + 5).min(number.len())))
                .collect();
            UiInput::Notice(format!("safety number with {name}: {}", groups.join(" ")))
        }
        // The conversation shows the history already (from when the UI opened, and every line
        // since): `/history` only says how far back it goes.
        ChatEvent::History { with, entries } => UiInput::Notice(format!(
            "{} message(s) with {with} kept; they are in the conversation",
            entries.len()
        )),
        // The UI answers `/list` itself; a list from elsewhere is still worth showing.
        ChatEvent::Users(users) => {
            let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
            UiInput::Notice(format!("online ({}): {}", names.len(), names.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use feige_core::client::ClientEvent;
    use feige_core::wire::{Name, UserEntry};

    use super::*;
    use crate::tui::event_loop::channel;

    #[test]
    fn reports_become_inputs_and_the_end_is_announced() {
        let (sender, inputs) = channel();
        let feed = ChatFeed::new(sender);
        feed.deliver(ChatEvent::Core(ClientEvent::LoggedOut));
        feed.deliver(ChatEvent::Error("usage".into()));
        let bob = UserEntry::new(
            Name::new("bob").expect("a name"),
            ([127, 0, 0, 1], 1).into(),
        );
        feed.deliver(ChatEvent::Users(vec![bob]));
        drop(feed);
        let got: Vec<String> = inputs.try_iter().map(|i| format!("{i:?}")).collect();
        assert_eq!(
            got,
            [
                "Event(LoggedOut)",
                "Notice(\"usage\")",
                "Notice(\"online (1): bob\")",
                "ChatEnded"
            ]
        );
    }
}
