//! One person in the contact list and the conversation with them, kept after they leave so it
//! stays readable.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use feige_core::client::{MessageId, Via};
use feige_core::wire::Name;

/// How long someone who just came online stands out in the list.
pub const JOIN_HIGHLIGHT: Duration = Duration::from_secs(5);

/// Lines kept per conversation; the oldest go first, so a chatty peer cannot grow memory.
pub const MAX_ENTRIES: usize = 2000;

/// Identifies one message typed here until the driver reports the id `send_message` gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SendTicket(pub u64);

/// What became of a message we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the client, not on the wire yet (`None` until the client named it).
    Pending(Option<MessageId>),
    /// Waiting in the outbox for its recipient to come online.
    Queued(MessageId),
    /// On the wire, not acknowledged yet (a classic peer never acknowledges).
    Sent(MessageId),
    /// The recipient acknowledged it.
    Delivered,
    /// Not delivered, and why.
    Failed(String),
}

impl Delivery {
    /// The client's id for a message still under way.
    pub fn unsettled_id(&self) -> Option<MessageId> {
        match self {
            Delivery::Pending(id) => *id,
            Delivery::Queued(id) | Delivery::Sent(id) => Some(*id),
            Delivery::Delivered | Delivery::Failed(_) => None,
        }
    }
}

/// One line of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Time of day it happened, as the driver wrote it.
    pub time: String,
    /// The day it happened (`2026-12-06`), for a line of the history; `None`: this run.
    pub day: Option<String>,
    /// What happened.
    pub kind: EntryKind,
}

/// The kinds of conversation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// They wrote this.
    Theirs(String),
    /// We wrote this.
    Mine {
        /// The text sent.
        text: String,
        /// Where it stands.
        delivery: Delivery,
        /// Links the line to the driver's answer.
        ticket: SendTicket,
    },
    /// Joined, left: said by the UI, not by a person.
    Notice(String),
}

/// Whether a contact is online.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Listed by the server.
    Online,
    /// Left; the conversation stays readable.
    Gone,
}

/// Someone in the contact list.
#[derive(Debug, Clone)]
pub struct Contact {
    name: Name,
    endpoint: SocketAddr,
    presence: Presence,
    is_me: bool,
    unread: usize,
    joined_at: Option<Instant>,
    /// How chat reaches them, once the client has found out.
    path: Option<Via>,
    entries: VecDeque<Entry>,
}

impl Contact {
    /// Someone online (the initial snapshot lists them without a highlight: they did not just
    /// join).
    pub fn online(
        name: Name,
        endpoint: SocketAddr,
        is_me: bool,
        joined_at: Option<Instant>,
    ) -> Self {
        Contact {
            name,
            endpoint,
            presence: Presence::Online,
            is_me,
            unread: 0,
            joined_at,
            path: None,
            entries: VecDeque::new(),
        }
    }

    /// The name, as listed.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// Where they receive datagrams (their last listed endpoint, once gone).
    pub fn endpoint(&self) -> SocketAddr {
        self.endpoint
    }

    /// Online or gone.
    pub fn presence(&self) -> Presence {
        self.presence
    }

    /// Whether this is us.
    pub fn is_me(&self) -> bool {
        self.is_me
    }

    /// Their messages not seen yet.
    pub fn unread(&self) -> usize {
        self.unread
    }

    /// How chat reaches them (`None` until the client has found out).
    pub fn path(&self) -> Option<Via> {
        self.path
    }

    /// Whether they came online recently enough to stand out at `now`.
    pub fn is_fresh(&self, now: Instant) -> bool {
        self.highlight_ends().is_some_and(|end| now < end)
    }

    /// When the join highlight ends, if they have one.
    pub fn highlight_ends(&self) -> Option<Instant> {
        self.joined_at.map(|at| at + JOIN_HIGHLIGHT)
    }

    /// The conversation, oldest first.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> + ExactSizeIterator {
        self.entries.iter()
    }

    pub(super) fn come_online(&mut self, endpoint: SocketAddr, now: Instant) {
        self.endpoint = endpoint;
        self.presence = Presence::Online;
        self.joined_at = Some(now);
        self.path = None;
    }

    pub(super) fn go(&mut self) {
        self.presence = Presence::Gone;
        self.joined_at = None;
        self.path = None;
    }

    pub(super) fn set_path(&mut self, via: Via) {
        self.path = Some(via);
    }

    pub(super) fn mark_read(&mut self) {
        self.unread = 0;
    }

    pub(super) fn count_unread(&mut self) {
        self.unread = self.unread.saturating_add(1);
    }

    pub(super) fn push(&mut self, time: &str, kind: EntryKind) {
        if self.entries.len() == MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry {
            time: time.to_owned(),
            day: None,
            kind,
        });
    }

    /// Puts what an earlier run kept before everything of this run, oldest first (within the
    /// bound on lines kept).
    pub(super) fn prepend_history(&mut self, history: Vec<Entry>) {
        let room = MAX_ENTRIES.saturating_sub(self.entries.len());
        let skip = history.len().saturating_sub(room);
        for entry in history.into_iter().skip(skip).rev() {
            self.entries.push_front(entry);
        }
    }

    /// Sets the delivery of our message picked by `matches`, searching newest first (the one
    /// looked for is almost always recent). Returns whether one matched.
    pub(super) fn update_mine(
        &mut self,
        matches: impl Fn(SendTicket, &Delivery) -> bool,
        delivery: Delivery,
    ) -> bool {
        for entry in self.entries.iter_mut().rev() {
            if let EntryKind::Mine {
                delivery: current,
                ticket,
                ..
            } = &mut entry.kind
            {
                if matches(*ticket, current) {
                    *current = delivery;
                    return true;
                }
            }
        }
        false
    }
}
