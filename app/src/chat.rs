//! What a chat user sees, and how a typed command line acts on the client. Transport-independent:
//! both binaries and the demo share it.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use feige_core::client::{
    parse_command, Client, ClientEvent, Command, CommandError, MessageId, SendError,
};
use feige_core::wire::{Name, UserEntry};

use crate::driver::{ChatCommands, ChatEvents};
use crate::store::{Database, HistoryEntry};

/// Messages `/history NAME` shows when it is not told how many.
pub const HISTORY_DEFAULT: usize = 20;

/// A client's database, shared by its owner (which writes the records) and the commands that
/// read the history.
pub type SharedStore = Arc<Mutex<Database>>;

/// The database, even if a thread panicked while holding it (its state is SQLite's, never torn
/// by a panic on our side).
pub fn locked(store: &SharedStore) -> MutexGuard<'_, Database> {
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One thing to show the user: an event of the core, or the answer to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// Something the client state machine reported.
    Core(ClientEvent),
    /// The online list, answering `/list`.
    Users(Vec<UserEntry>),
    /// The safety number shared with `name`, answering `/verify NAME`: the same digits on both
    /// sides when nobody stands between the two.
    SafetyNumber {
        /// The other user.
        name: Name,
        /// 60 digits.
        number: String,
    },
    /// The last messages exchanged with `with`, oldest first, answering `/history`.
    History {
        /// The contact.
        with: Name,
        /// The messages.
        entries: Vec<HistoryEntry>,
    },
    /// A command that could not be carried out, and why.
    Error(String),
}

impl ChatEvent {
    /// How the process should end once this event is shown, if it is a terminal one.
    pub fn outcome(&self) -> Option<ChatOutcome> {
        match self {
            ChatEvent::Core(ClientEvent::LoggedOut) => Some(ChatOutcome::LoggedOut),
            ChatEvent::Core(ClientEvent::LoginFailed(_)) => Some(ChatOutcome::LoginFailed),
            ChatEvent::Core(ClientEvent::Disconnected(_)) => Some(ChatOutcome::Disconnected),
            _ => None,
        }
    }
}

/// How a chat session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatOutcome {
    /// Our own logout completed.
    LoggedOut,
    /// The login never completed.
    LoginFailed,
    /// The server session ended without our logout.
    Disconnected,
}

impl ChatOutcome {
    /// The process exit status: success only after our own logout; 3 and 4 keep clear of 1 (a
    /// local error such as a failed bind) and 2 (bad arguments, as clap reports them).
    pub fn exit_code(self) -> u8 {
        match self {
            ChatOutcome::LoggedOut => 0,
            ChatOutcome::LoginFailed => 3,
            ChatOutcome::Disconnected => 4,
        }
    }
}

/// How a chat session ended, as seen by the events it reported: the first terminal one decides.
#[derive(Clone, Default)]
pub struct OutcomeWatch(Arc<OnceLock<ChatOutcome>>);

impl OutcomeWatch {
    /// `show`, noting the first terminal event that passes through it.
    pub fn watching(&self, mut show: impl FnMut(ChatEvent) + Send + 'static) -> ChatEvents {
        let seen = Arc::clone(&self.0);
        Box::new(move |event: ChatEvent| {
            if let Some(outcome) = event.outcome() {
                let _ = seen.set(outcome);
            }
            show(event);
        })
    }

    /// The outcome; a client that ended without a terminal event (its driver failed) was
    /// disconnected.
    pub fn outcome(&self) -> ChatOutcome {
        self.0.get().copied().unwrap_or(ChatOutcome::Disconnected)
    }
}

impl ChatCommands {
    /// One typed line (see [`apply_command`]); `/history` reads `store`.
    pub fn line(&self, line: String, store: &SharedStore) {
        let store = Arc::clone(store);
        self.run(move |client, now| apply_command(client, now, &line, &store));
    }

    /// Logs out properly (Ctrl-C, end of input). Harmless once the session has ended.
    pub fn quit(&self) {
        self.run(|client, now| {
            client.logout(now);
            None
        });
    }

    /// Sends `text` to `to` as `/msg` does; `reply` gets the result (the message's id, or why it
    /// was refused) on the client's owner, before any event about that message.
    pub fn send_message(
        &self,
        to: &str,
        text: &str,
        reply: impl FnOnce(Result<MessageId, SendError>) + Send + 'static,
    ) {
        let (to, text) = (to.to_owned(), text.to_owned());
        self.run(move |client, now| {
            reply(client.send_message_stamped(now, &to, &text, &time_of_day()));
            None
        });
    }
}

/// Carries out one line the user typed; returns what to show at once, if anything (the effects
/// of a sent message or a logout arrive later as core events). Names may be those online or
/// contacts that are offline (a message to them waits in the outbox); `/history` reads `store`.
pub fn apply_command(
    client: &mut Client,
    now: Instant,
    line: &str,
    store: &SharedStore,
) -> Option<ChatEvent> {
    let online: Vec<Name> = client.users().map(|u| u.name.clone()).collect();
    let mut known: Vec<Name> = client.contacts().cloned().collect();
    known.extend(online.iter().cloned());
    let command = match parse_command(line, known.iter().map(Name::as_str)) {
        Ok(command) => command,
        // A blank line is no command, and no mistake either.
        Err(CommandError::Empty) => return None,
        Err(e) => return Some(ChatEvent::Error(e.to_string())),
    };
    match command {
        Command::List => Some(ChatEvent::Users(client.users().cloned().collect())),
        Command::Quit => {
            client.logout(now);
            None
        }
        Command::Msg { to, text } => {
            match client.send_message_stamped(now, to, text, &time_of_day()) {
                Ok(_) => None,
                Err(e) => Some(ChatEvent::Error(e.to_string())),
            }
        }
        Command::Trust { name } => match client.trust(now, name) {
            Ok(()) => None,
            Err(e) => Some(ChatEvent::Error(format!("/trust {name}: {e}"))),
        },
        Command::Verify { name } => match client.safety_number(name) {
            Some(number) => {
                let name = online.iter().find(|n| n.as_str() == name)?.clone();
                Some(ChatEvent::SafetyNumber { name, number })
            }
            None => Some(ChatEvent::Error(format!(
                "/verify {name}: no key listed for {name}"
            ))),
        },
        Command::History { name, count } => {
            let with = known.iter().find(|n| n.as_str() == name)?.clone();
            let count = count.unwrap_or(HISTORY_DEFAULT);
            let read = locked(store).history(&with, count);
            Some(match read {
                Ok(entries) => ChatEvent::History { with, entries },
                Err(e) => ChatEvent::Error(format!("/history {name}: {e}")),
            })
        }
    }
}

/// The local wall-clock time, `21:05:07`: a classic (textbook) peer shows it with each message,
/// and the core reads no clock of its own.
pub fn time_of_day() -> String {
    chrono::Local::now().format("%H:%M:%S").to_string()
}

/// Unix milliseconds (as the store keeps them) in the local time zone, for a person to read.
pub fn local_at(unix_ms: u64) -> chrono::DateTime<chrono::Local> {
    utc_at(unix_ms).with_timezone(&chrono::Local)
}

/// `unix_ms` as a UTC time (the epoch for one out of range).
pub fn utc_at(unix_ms: u64) -> chrono::DateTime<chrono::Utc> {
    let ms = i64::try_from(unix_ms).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use feige_core::client::ClientConfig;
    use feige_core::wire::SessionId;

    fn logging_in() -> (Client, Instant) {
        let now = Instant::now();
        let config = ClientConfig::new(
            Name::new("alice").unwrap(),
            "127.0.0.1:9000".parse().unwrap(),
            "127.0.0.1:4000".parse().unwrap(),
            SessionId::new(7),
        );
        (Client::new(config, now), now)
    }

    #[test]
    fn commands_answer_or_act() {
        let (mut client, now) = logging_in();
        let alice = Name::new("alice").unwrap();
        let store: SharedStore = Arc::new(Mutex::new(
            Database::open(&crate::store::Storage::Ephemeral, &alice).unwrap(),
        ));
        let mut apply = |line: &str| apply_command(&mut client, now, line, &store);
        assert_eq!(apply("   "), None);
        assert_eq!(apply("/list"), Some(ChatEvent::Users(Vec::new())));
        assert!(matches!(apply("/frobnicate"), Some(ChatEvent::Error(_))));
        assert!(matches!(apply("/msg bob hi"), Some(ChatEvent::Error(_))));
        assert!(matches!(apply("/history bob"), Some(ChatEvent::Error(_))));
        assert_eq!(apply("/quit"), None);
        let events: Vec<ClientEvent> = std::iter::from_fn(|| client.poll_event()).collect();
        assert_eq!(events, [ClientEvent::LoggedOut]);
    }

    #[test]
    fn terminal_events_set_the_exit_status() {
        let outcome = |e: ClientEvent| ChatEvent::Core(e).outcome().map(ChatOutcome::exit_code);
        assert_eq!(outcome(ClientEvent::LoggedOut), Some(0));
        assert_ne!(
            outcome(ClientEvent::Disconnected(
                feige_core::client::DisconnectReason::Shutdown
            )),
            Some(0)
        );
        assert_eq!(ChatEvent::Error("x".into()).outcome(), None);
    }
}
