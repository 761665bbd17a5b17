//! What a run observed, for the invariant checker, and a hash of the whole trace, for the
//! determinism check.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;

use feige_core::client::{ClientEvent, MessageId};
use feige_core::server::{ConnId, ServerEvent};
use feige_core::wire::{Name, ServerLine};

use super::agenda::SimTime;
use super::event::IncId;

/// The input during which a machine produced an output; shown messages and deliveries are only
/// legitimate during a datagram from the right source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A datagram from this source.
    Datagram(SocketAddr),
    /// Bytes, an open or a close on a TCP connection.
    Tcp(ConnId),
    /// A timeout.
    Timer,
    /// A user command (start, send, logout).
    Command,
}

/// A client event and when and how it came.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When.
    pub at: SimTime,
    /// What.
    pub event: ClientEvent,
    /// During which input.
    pub via: Via,
}

/// A server event and when and how it came.
#[derive(Debug, Clone)]
pub struct ServerSeen {
    /// When.
    pub at: SimTime,
    /// What.
    pub event: ServerEvent,
    /// During which input.
    pub via: Via,
    /// For a join: the connection that got the newcomer's snapshot, i.e. carries the session
    /// (or, for a classic user, got its one-shot list).
    pub session: Option<ConnId>,
    /// For a join: whether it was a classic user's (its list was the classic one).
    pub classic: bool,
}

/// A chat message a client accepted to send.
#[derive(Debug, Clone)]
pub struct Chat {
    /// The sending incarnation.
    pub sender: IncId,
    /// The recipient's name.
    pub to: Name,
    /// The handle `send_message` gave.
    pub id: MessageId,
    /// The text (unique in the run).
    pub text: String,
    /// When it was handed to the client.
    pub sent_at: SimTime,
    /// Sent on a calm network between settled peers: it must be delivered.
    pub must_deliver: bool,
}

/// An input that decides which keys a client believes. Chat is sealed, so the world cannot read
/// it on the wire; the checker instead replays these into a model of each client's keyring and
/// holds the client's events to it.
#[derive(Debug, Clone)]
pub enum KeyInput {
    /// Server lines, in order, cut as the client's own decoder cuts them.
    Lines(Vec<Heard>),
    /// The user trusted the key listed for this name.
    Trust(Name),
    /// `send_message` to this name said `NoKey`.
    NoKey(Name),
    /// The client, having lost its link, opens a new connection to log in again: what follows
    /// is that connection's lines, from its snapshot on.
    Relink,
}

/// One server line a client read.
#[derive(Debug, Clone)]
pub enum Heard {
    /// A snapshot. Not parsed here (a crowd's snapshots are long, and many): the client's own
    /// `logged_in` event lists it, and the presence checks hold that list to the server's.
    Snapshot,
    /// Any other line.
    Line(ServerLine),
    /// A line too long or that does not parse: either ends the session.
    Broken,
}

impl Heard {
    /// A line as the client's decoder cut it.
    pub fn of(line: &[u8]) -> Heard {
        // A line is a snapshot if it is exactly `end` or holds a `;` (protocol.md, 7.2).
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text == b"end" || text.contains(&b';') {
            return Heard::Snapshot;
        }
        match ServerLine::parse(line) {
            Ok(line) => Heard::Line(line),
            Err(_) => Heard::Broken,
        }
    }
}

/// A [`KeyInput`], and where it falls among its client's events: before the event at
/// `position` (and after those before it) in the client's log.
#[derive(Debug, Clone)]
pub struct Noted {
    /// When.
    pub at: SimTime,
    /// Index in the client's log of the first event this input may have caused.
    pub position: usize,
    /// The input.
    pub input: KeyInput,
}

/// Everything a run recorded.
#[derive(Debug, Default)]
pub struct Journal {
    trace: DefaultHasher,
    /// Each incarnation's events, in order.
    pub client_log: Vec<Vec<Seen>>,
    /// The server's events, in order.
    pub server_log: Vec<ServerSeen>,
    /// Where in `server_log` the server restarted (everything before was forgotten).
    pub server_restarts: Vec<usize>,
    /// Every message a client accepted.
    pub chats: Vec<Chat>,
    /// Message index by text.
    by_text: BTreeMap<String, usize>,
    /// Message index by (sender, id).
    by_id: BTreeMap<(IncId, MessageId), usize>,
    /// Messages recorded in a store, by (user, install, id): a later incarnation holding that
    /// store sends them on under the same id.
    by_stored_id: BTreeMap<(usize, u32, MessageId), usize>,
    /// Each incarnation's key inputs, in order.
    pub key_inputs: Vec<Vec<Noted>>,
    /// Violations noticed while running (the checker adds the rest).
    pub anomalies: Vec<String>,
    /// Datagrams, chunks and events processed (a size figure for reports).
    pub steps: u64,
    /// Sealed datagrams the clients sent: initiations, responses, transports.
    pub sealed: [u64; 3],
}

impl Journal {
    /// What incarnation `inc` reported, in order (nothing for one that never ran).
    pub fn events_of(&self, inc: IncId) -> &[Seen] {
        self.client_log
            .get(inc.0)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The keyring inputs of incarnation `inc`, in order.
    pub fn key_inputs_of(&self, inc: IncId) -> &[Noted] {
        self.key_inputs
            .get(inc.0)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Mixes one step into the trace hash.
    pub fn trace(&mut self, at: SimTime, tag: &str, payload: &[u8]) {
        self.trace_keyed(at, tag, &(), payload);
    }

    /// Mixes one step about `key` (an address, a connection) into the trace hash.
    pub fn trace_keyed<K: Hash + ?Sized>(
        &mut self,
        at: SimTime,
        tag: &str,
        key: &K,
        payload: &[u8],
    ) {
        self.steps += 1;
        at.hash(&mut self.trace);
        tag.hash(&mut self.trace);
        key.hash(&mut self.trace);
        payload.hash(&mut self.trace);
    }

    /// The trace hash so far.
    pub fn trace_hash(&self) -> u64 {
        self.trace.finish()
    }

    /// Counts a datagram a client sent, if sealed.
    pub fn count_sealed(&mut self, data: &[u8]) {
        let kind = match data.first() {
            Some(0xF5) => 0,
            Some(0xF6) => 1,
            Some(0xF7) => 2,
            _ => return,
        };
        if let Some(n) = self.sealed.get_mut(kind) {
            *n += 1;
        }
    }

    /// Records a client event.
    pub fn client_event(&mut self, at: SimTime, inc: IncId, event: ClientEvent, via: Via) {
        self.trace_keyed(at, "client-event", &inc, b"");
        hash_client_event(&event, &mut self.trace);
        if self.client_log.len() <= inc.0 {
            self.client_log.resize_with(inc.0 + 1, Vec::new);
        }
        if let Some(log) = self.client_log.get_mut(inc.0) {
            log.push(Seen { at, event, via });
        }
    }

    /// Records a key input of a client, before it is handed to the client.
    pub fn key_input(&mut self, at: SimTime, inc: IncId, input: KeyInput) {
        let position = self.client_log.get(inc.0).map_or(0, Vec::len);
        if self.key_inputs.len() <= inc.0 {
            self.key_inputs.resize_with(inc.0 + 1, Vec::new);
        }
        if let Some(noted) = self.key_inputs.get_mut(inc.0) {
            noted.push(Noted {
                at,
                position,
                input,
            });
        }
    }

    /// Notes that `send_message` from `inc` to `to` said `NoKey`.
    pub fn no_key(&mut self, at: SimTime, inc: IncId, to: Name) {
        self.key_input(at, inc, KeyInput::NoKey(to));
    }

    /// Records a server event.
    pub fn server_event(
        &mut self,
        at: SimTime,
        event: ServerEvent,
        via: Via,
        session: Option<ConnId>,
        classic: bool,
    ) {
        self.trace(at, "server-event", b"");
        hash_server_event(&event, &mut self.trace);
        self.server_log.push(ServerSeen {
            at,
            event,
            via,
            session,
            classic,
        });
    }

    /// The server restarted: what it held before is gone.
    pub fn server_restarted(&mut self, at: SimTime) {
        self.trace(at, "server-restart", b"");
        self.server_restarts.push(self.server_log.len());
    }

    /// Records a message a client accepted, into the outbox of `store` if it holds one.
    pub fn chat(&mut self, chat: Chat, store: Option<(usize, u32)>) {
        let index = self.chats.len();
        self.by_text.insert(chat.text.clone(), index);
        self.by_id.insert((chat.sender, chat.id), index);
        if let Some((user, install)) = store {
            self.by_stored_id.insert((user, install, chat.id), index);
        }
        self.chats.push(chat);
    }

    /// The message with this text.
    pub fn chat_by_text(&self, text: &str) -> Option<usize> {
        self.by_text.get(text).copied()
    }

    /// The message with this handle, sent by `sender` or by an earlier holder of its `store`.
    pub fn chat_by_id(
        &self,
        sender: IncId,
        store: Option<(usize, u32)>,
        id: MessageId,
    ) -> Option<usize> {
        self.by_id.get(&(sender, id)).copied().or_else(|| {
            let (user, install) = store?;
            self.by_stored_id.get(&(user, install, id)).copied()
        })
    }

    /// Notes a violation seen while running.
    pub fn anomaly(&mut self, at: SimTime, what: String) {
        self.anomalies.push(format!("[{}] {what}", fmt_time(at)));
    }
}

/// Mixes a client event into a hasher (the event types do not implement `Hash`; formatting them
/// with `Debug` would dominate the run time).
fn hash_client_event(event: &ClientEvent, h: &mut impl Hasher) {
    std::mem::discriminant(event).hash(h);
    match event {
        ClientEvent::LoggedIn { me, users } => {
            me.hash(h);
            users.hash(h);
        }
        ClientEvent::Joined(e) | ClientEvent::Left(e) => e.hash(h),
        ClientEvent::Message {
            from,
            text,
            encrypted,
        } => {
            from.as_str().hash(h);
            text.hash(h);
            encrypted.hash(h);
        }
        ClientEvent::KeyPinned { name, key } => {
            name.as_str().hash(h);
            key.hash(h);
        }
        ClientEvent::KeyChanged { name, old, new } => {
            name.as_str().hash(h);
            old.hash(h);
            new.hash(h);
        }
        ClientEvent::Sent { to, id } | ClientEvent::Delivered { to, id, .. } => {
            to.as_str().hash(h);
            id.hash(h);
        }
        ClientEvent::Failed { to, id, reason } => {
            to.as_str().hash(h);
            id.hash(h);
            reason.as_str().hash(h);
        }
        ClientEvent::Path {
            peer,
            via,
            endpoint,
        } => {
            peer.as_str().hash(h);
            via.as_str().hash(h);
            endpoint.hash(h);
        }
        ClientEvent::Queued { to, id } => {
            to.as_str().hash(h);
            id.hash(h);
        }
        ClientEvent::Reconnecting { attempt, in_ms } => {
            attempt.hash(h);
            in_ms.hash(h);
        }
        ClientEvent::Reconnected { me, users } => {
            me.hash(h);
            users.hash(h);
        }
        ClientEvent::LoginFailed(f) => f.as_str().hash(h),
        ClientEvent::Disconnected(r) => r.as_str().hash(h),
        ClientEvent::LoggedOut => {}
    }
}

/// Mixes a server event into a hasher.
fn hash_server_event(event: &ServerEvent, h: &mut impl Hasher) {
    std::mem::discriminant(event).hash(h);
    match event {
        ServerEvent::Accepted { name, from } => {
            name.as_str().hash(h);
            from.hash(h);
        }
        ServerEvent::Store { up } => up.hash(h),
        ServerEvent::Reaping { node } => node.hash(h),
        ServerEvent::Rejected { from, reason } => {
            from.hash(h);
            reason.hash(h);
        }
        ServerEvent::Joined { name, endpoint } => {
            name.as_str().hash(h);
            endpoint.hash(h);
        }
        ServerEvent::Left {
            name,
            endpoint,
            reason,
        } => {
            name.as_str().hash(h);
            endpoint.hash(h);
            reason.as_str().hash(h);
        }
        ServerEvent::ConnectionRefused { conn, reason } => {
            conn.hash(h);
            reason.hash(h);
        }
    }
}

/// Simulated time as seconds with milliseconds, for messages.
pub fn fmt_time(at: SimTime) -> String {
    format!("{}.{:03}s", at.as_secs(), at.subsec_millis())
}
