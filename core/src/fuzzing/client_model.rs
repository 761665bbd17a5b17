//! What the client's outputs imply, rebuilt independently and compared with the client itself.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;

use crate::client::{
    Client, ClientConfig, ClientEvent, ClientState, ClientStats, ClientTransmit, MessageId,
    Outcome, Record, SendError, TrustError,
};
use crate::wire::{
    canonical, decode_utf16le, is_classic_datagram, is_sealed, max_text_len, ClassicDatagram,
    ClientDatagram, ClientLine, Name, PeerDatagram, PublicKey, SealedDatagram, ServerDatagram,
    UserEntry, MAX_CLASSIC_DATAGRAM,
};

use super::client_keys::KeyModel;

/// The invariants, checked after every drained operation:
/// - at most one terminal event (`login_failed`, `disconnected`, `logged_out`), and neither an
///   event nor a transmit after it; by then every message was resolved;
/// - the list equals the one `logged_in`/`joined`/`left` describe, in order, with no name twice
///   and us in it; a `message` comes only from someone listed, never from us;
/// - every `MessageId` was returned by `send_message` and gets at most one `sent` and exactly one
///   of `delivered` (only after `sent`) or `failed`, except a `talk` to a classic peer, which is
///   best effort: `sent` and nothing more;
/// - `send_message` refuses exactly when it must (not online, to ourselves, to someone unlisted,
///   empty text, no key for a native peer, text over the room its seq leaves);
/// - keys: `key_pinned` pins the key listed, `key_changed` reports a listed key other than the
///   pinned one, `/trust` answers as it must; a native `sent` goes only to a trusted key, a
///   native `message` was sealed in its sender's name by the key trusted for it, and `delivered`
///   follows an ack of that seq sealed by the recipient's trusted key (see [`KeyModel`]);
/// - datagrams go only to the server (our login until accepted; a textbook server also gets our
///   logout), to an endpoint that was listed (our sealed chat, or a `talk`), or to one a sealed
///   datagram came from (a peer's path); no `msg` or `ack` ever leaves plain; TCP is used as a
///   transport allows: one connect, to the server's IP at an announced port, lines only while
///   open (none at all to a textbook server), the claim first, one close; after it only `ping`,
///   our `logout`, an `intro` for someone listed, or a `relay` of a sealed datagram to someone
///   listed;
/// - a `path` event names someone listed;
/// - the drop counters never go down, and a live client always has a deadline, but for one
///   online with a textbook server, which has no keepalive to time;
/// - records come before what depends on them: a message is `Queued` in the outbox before it is
///   `sent` or `queued` (one to a textbook peer `Talked` before it is `sent`), `Resolved` as
///   delivered (or failed, for the same reason) before it is said so, and `Shown` before its
///   `message` event; each message is recorded once and resolved once (a talk never);
/// - a lost link is not the end: `reconnecting` keeps the list, chat goes on, a new connection
///   claims again, and `reconnected` comes after the `left`/`joined` of every difference; a
///   message to a contact who left is `queued`, never failed for it.
pub(super) struct ClientModel {
    config: ClientConfig,
    tcp: Tcp,
    /// Lines written on the TCP session so far.
    lines_sent: usize,
    /// Ports the server announced in an `Accept`.
    announced: HashSet<u16>,
    /// The list as the events tell it; `None` before `logged_in`.
    list: Option<Vec<UserEntry>>,
    /// Every endpoint ever listed: the only peers we may send to, with the sources sealed
    /// datagrams came from (where a peer's NAT may have mapped it).
    listed_ever: HashSet<SocketAddr>,
    /// Every name ever listed: the only peers we may ask an introduction to, or relay to, and
    /// the contacts a message may be queued for while they are offline.
    names_ever: HashSet<Name>,
    /// Message ids recorded in the outbox, and how the ones resolved were recorded.
    recorded: HashSet<MessageId>,
    /// Message ids recorded as talked to a textbook peer (history only).
    talked: HashSet<MessageId>,
    /// `talk` datagrams sent: never more than the talks recorded.
    talks_sent: usize,
    resolutions: HashMap<MessageId, Outcome>,
    /// `Shown` records whose `message` event has not come yet: (from, text, encrypted).
    shown: VecDeque<(Name, String, bool)>,
    terminal: Option<ClientEvent>,
    /// The terminal event was drained: nothing may come out any more.
    ended: bool,
    /// Message ids handed out, with their recipient.
    issued: HashMap<MessageId, String>,
    sent: HashSet<MessageId>,
    resolved: HashSet<MessageId>,
    /// `talk`s to classic peers: never acknowledged, so never resolved.
    best_effort: HashSet<MessageId>,
    /// The seq of every native message, and the next one per peer (never reused in a login).
    seq_of: HashMap<MessageId, u64>,
    next_seq: HashMap<String, u64>,
    keys: KeyModel,
    /// The `key` line of the current operation, with what was listed before it: if the link is
    /// lost in the same operation, the line completed a bad one (or came after it) and was never
    /// read, so it is undone.
    key_read: Option<(Name, Option<PublicKey>)>,
    stats: ClientStats,
}

/// What the client knew of a recipient when asked to send to it.
pub(super) struct Recipient {
    pub(super) listed: bool,
    pub(super) classic: bool,
}

/// The TCP session as the transport sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tcp {
    NotAsked,
    /// `Connect` was transmitted; the transport has not reported it open.
    Connecting,
    Open,
    Gone,
}

impl ClientModel {
    pub(super) fn new(config: ClientConfig) -> Self {
        ClientModel {
            tcp: Tcp::NotAsked,
            key_read: None,
            lines_sent: 0,
            announced: HashSet::new(),
            list: None,
            listed_ever: HashSet::new(),
            names_ever: HashSet::new(),
            recorded: HashSet::new(),
            talked: HashSet::new(),
            talks_sent: 0,
            resolutions: HashMap::new(),
            shown: VecDeque::new(),
            terminal: None,
            ended: false,
            issued: HashMap::new(),
            sent: HashSet::new(),
            resolved: HashSet::new(),
            best_effort: HashSet::new(),
            seq_of: HashMap::new(),
            next_seq: HashMap::new(),
            keys: KeyModel::new(&config.pinned),
            stats: ClientStats::default(),
            config,
        }
    }

    pub(super) fn tcp_connecting(&self) -> bool {
        self.tcp == Tcp::Connecting
    }

    pub(super) fn tcp_open(&self) -> bool {
        self.tcp == Tcp::Open
    }

    pub(super) fn tcp_alive(&self) -> bool {
        matches!(self.tcp, Tcp::Connecting | Tcp::Open)
    }

    pub(super) fn connected(&mut self) {
        self.tcp = Tcp::Open;
    }

    pub(super) fn tcp_closed(&mut self) {
        self.tcp = Tcp::Gone;
    }

    pub(super) fn server_said(&mut self, data: &[u8]) {
        let native = ServerDatagram::parse(data);
        if let Ok(ServerDatagram::Accept { tcp_port }) = native {
            self.announced.insert(tcp_port);
        }
        if let Ok(ClassicDatagram::Accept { tcp_port }) = ClassicDatagram::parse(data) {
            self.announced.insert(tcp_port);
        }
    }

    fn classic(&self) -> bool {
        self.config.dialect.is_some()
    }

    /// Online and not ended: lines and peer datagrams are read.
    pub(super) fn online(&self) -> bool {
        self.list.is_some() && self.terminal.is_none()
    }

    /// A sealed datagram reaches the client from `source`: if authentic, the client may answer
    /// there.
    pub(super) fn sealed_from(&mut self, source: SocketAddr) {
        self.listed_ever.insert(canonical(source));
    }

    /// A `key` line the client is about to read.
    pub(super) fn key_line(&mut self, name: Name, key: PublicKey) {
        let listed = self
            .list
            .as_ref()
            .is_some_and(|l| l.iter().any(|e| e.name == name));
        if self.online() && listed && name != self.config.name {
            let before = self.keys.key_line(name.clone(), key);
            self.key_read = Some((name, before));
        }
    }

    /// A fuzzed peer sealed a `msg` in its own name with `key`.
    pub(super) fn sealed_msg(&mut self, key: PublicKey, from: Name, text: String) {
        self.keys.sealed_msg(key, from, text);
    }

    /// A fuzzed peer sealed an `ack` of our session in its own name with `key`.
    pub(super) fn sealed_ack(&mut self, key: PublicKey, from: Name, seq: u64) {
        self.keys.sealed_ack(key, from, seq);
    }

    /// The answer of `/trust name`.
    pub(super) fn trusted(&mut self, name: &str, result: Result<(), TrustError>) {
        let listed = self.online()
            && self
                .list
                .as_ref()
                .is_some_and(|l| l.iter().any(|e| e.name == name));
        assert_eq!(
            result,
            self.keys.trust_answer(name, listed),
            "/trust {name}"
        );
    }

    /// A peer opened a plaintext the client sealed: chat in our name, of our session.
    pub(super) fn peer_opened(&self, plaintext: &[u8]) {
        match PeerDatagram::parse(plaintext) {
            Ok(PeerDatagram::Msg { from, sid, .. }) => {
                assert_eq!(from, self.config.name, "msg in another's name");
                assert_eq!(sid, self.config.session_id, "msg of another session");
            }
            Ok(PeerDatagram::Ack { from, .. }) => {
                assert_eq!(from, self.config.name, "ack in another's name");
            }
            Err(e) => panic!("sealed a malformed peer datagram {plaintext:?}: {e}"),
        }
    }

    fn declared(&self) -> UserEntry {
        UserEntry::new(self.config.name.clone(), self.config.local_endpoint)
    }

    /// The answer of `send_message(to, text)`.
    pub(super) fn sent(
        &mut self,
        to: &str,
        text: &str,
        recipient: Recipient,
        state: ClientState,
        result: Result<MessageId, SendError>,
    ) {
        // A `talk` is measured in UTF-16 code units, a `msg` in bytes, exactly for its seq.
        let seq = self.next_seq.get(to).copied().unwrap_or(1);
        let (size, room) = if recipient.classic {
            (text.encode_utf16().count(), MAX_CLASSIC_DATAGRAM / 2)
        } else {
            (text.len(), max_text_len(&self.config.name, seq) + 1)
        };
        let known = recipient.listed || self.names_ever.iter().any(|n| n.as_str() == to);
        let keyed = if recipient.listed {
            self.keys.has_listed_key(to)
        } else {
            self.keys.has_pinned_key(to)
        };
        let keyless = self.config.identity.is_none() || !keyed;
        let alive = matches!(state, ClientState::Online | ClientState::Reconnecting);
        let expected = if !alive {
            Some(SendError::NotLoggedIn)
        } else if to == self.config.name.as_str() {
            Some(SendError::ToSelf)
        } else if !known {
            Some(SendError::NoSuchUser)
        } else if text.is_empty() {
            Some(SendError::EmptyText)
        } else if !recipient.classic && keyless {
            Some(SendError::NoKey)
        } else {
            None
        };
        match (expected, result) {
            (Some(expected), result) => assert_eq!(result, Err(expected), "send to {to:?}"),
            (None, Ok(id)) => {
                assert!(size < room, "accepted an oversized text");
                let newest = self.issued.keys().max().copied();
                assert!(newest.is_none_or(|n| n < id), "{id} reused or out of order");
                self.issued.insert(id, to.to_owned());
                if recipient.classic {
                    self.best_effort.insert(id);
                } else {
                    self.seq_of.insert(id, seq);
                    self.next_seq.insert(to.to_owned(), seq + 1);
                }
            }
            (None, Err(SendError::TooLong { max })) => {
                assert!(size > max, "refused {size} as over {max}");
                if !recipient.classic {
                    assert_eq!(max + 1, room, "the room for seq {seq}");
                }
            }
            (None, Err(SendError::QueueFull)) => {}
            (None, Err(e)) => panic!("send to known {to:?} refused: {e}"),
        }
    }

    pub(super) fn transmit(&mut self, transmit: ClientTransmit) {
        assert!(!self.ended, "{transmit:?} after the end");
        match transmit {
            ClientTransmit::Datagram { to, data } if to == self.config.server => {
                if self.classic() {
                    match ClassicDatagram::parse(&data) {
                        Ok(ClassicDatagram::Login(e)) if e == self.declared() => {
                            assert_eq!(self.tcp, Tcp::NotAsked, "login datagram once accepted")
                        }
                        Ok(ClassicDatagram::Logout(e)) if e == self.declared() => {}
                        other => panic!("to a textbook server: {other:?}"),
                    }
                } else {
                    assert_eq!(self.tcp, Tcp::NotAsked, "login datagram once accepted");
                    let login = ClientDatagram::parse(&data);
                    assert_eq!(login, Ok(ClientDatagram::Login(self.declared())));
                }
            }
            // Sealed first: a sealed datagram's byte 1 may be zero, like a classic one's.
            ClientTransmit::Datagram { to, data } if is_sealed(&data) => {
                assert!(self.listed_ever.contains(&to), "datagram to unlisted {to}");
                assert!(self.config.identity.is_some(), "sealed without an identity");
                if let Err(e) = SealedDatagram::parse(&data) {
                    panic!("malformed sealed datagram {data:?}: {e}");
                }
            }
            ClientTransmit::Datagram { to, data } if is_classic_datagram(&data) => {
                assert!(self.listed_ever.contains(&to), "talk to unlisted {to}");
                self.talks_sent += 1;
                assert!(
                    self.talks_sent <= self.talked.len(),
                    "a talk went out before its record"
                );
                match ClassicDatagram::parse(&data) {
                    Ok(ClassicDatagram::Talk { from, .. }) => {
                        assert_eq!(from, self.config.name, "talk in another's name")
                    }
                    other => panic!(
                        "to a classic peer: {other:?} from {:?}",
                        decode_utf16le(&data)
                    ),
                }
            }
            ClientTransmit::Datagram { data, .. } => {
                panic!("native chat left plain: {data:?}")
            }
            ClientTransmit::Connect { to } => {
                assert_eq!(self.tcp, Tcp::NotAsked, "second connect");
                assert_eq!(to.ip(), self.config.server.ip(), "connect elsewhere");
                assert!(self.announced.contains(&to.port()), "unannounced port");
                self.tcp = Tcp::Connecting;
            }
            ClientTransmit::Send { data } => {
                assert!(!self.classic(), "a line to a textbook server: {data:?}");
                assert_eq!(self.tcp, Tcp::Open, "send without an open connection");
                let Some(body) = data.strip_suffix(b"\n") else {
                    panic!("partial line {data:?}");
                };
                for raw in body.split(|&b| b == b'\n') {
                    let line = ClientLine::parse(raw);
                    if self.lines_sent == 0 {
                        let claim = ClientLine::Login {
                            entry: self.declared(),
                            key: self.config.identity.as_ref().map(|k| k.public()),
                        };
                        assert_eq!(line, Ok(claim), "claim first");
                    } else {
                        let ok = match &line {
                            Ok(ClientLine::Ping) => true,
                            Ok(ClientLine::Logout(entry)) => *entry == self.declared(),
                            Ok(ClientLine::Intro(name)) => self.names_ever.contains(name),
                            Ok(ClientLine::Relay { to, payload }) => {
                                self.names_ever.contains(to)
                                    && SealedDatagram::parse(&payload.decode()).is_ok()
                            }
                            _ => false,
                        };
                        assert!(ok, "unexpected line {raw:?}");
                    }
                    self.lines_sent += 1;
                }
            }
            ClientTransmit::Persist(record) => self.record(record),
            ClientTransmit::Close => {
                assert!(
                    matches!(self.tcp, Tcp::Connecting | Tcp::Open),
                    "close of {:?}",
                    self.tcp
                );
                self.tcp = Tcp::Gone;
            }
        }
    }

    /// A durable write: what it records must be in order with the rest.
    fn record(&mut self, record: Record) {
        match record {
            Record::Queued(message) => {
                let id = message.id;
                self.check_recipient(id, message.to.as_str());
                assert!(self.recorded.insert(id), "{id} recorded twice");
                assert_eq!(
                    message.sid, self.config.session_id,
                    "{id} of another session"
                );
                assert_eq!(
                    self.seq_of.get(&id),
                    Some(&message.seq),
                    "{id} with another seq"
                );
            }
            Record::Talked { id, to, .. } => {
                self.check_recipient(id, to.as_str());
                assert!(
                    self.best_effort.contains(&id),
                    "{id} talked, not to a textbook peer"
                );
                assert!(self.talked.insert(id), "{id} talked twice");
            }
            Record::Resolved { id, outcome, .. } => {
                assert!(self.recorded.contains(&id), "{id} resolved unrecorded");
                let before = self.resolutions.insert(id, outcome);
                assert!(before.is_none(), "{id} resolved twice in the records");
            }
            Record::Shown {
                from,
                text,
                encrypted,
                ..
            } => self.shown.push_back((from, text, encrypted)),
        }
    }

    pub(super) fn event(&mut self, event: ClientEvent) {
        assert!(
            self.terminal.is_none(),
            "{event:?} after {:?}",
            self.terminal
        );
        match event {
            ClientEvent::LoggedIn { me, users } => {
                assert!(self.list.is_none(), "logged in twice");
                assert_eq!(me.name, self.config.name, "logged in as another");
                assert!(users.contains(&me), "not in our own list");
                assert_unique(&users);
                self.listed_ever.extend(users.iter().map(|e| e.endpoint));
                self.names_ever.extend(users.iter().map(|e| e.name.clone()));
                self.list = Some(users);
            }
            ClientEvent::Joined(entry) => {
                self.listed_ever.insert(entry.endpoint);
                self.names_ever.insert(entry.name.clone());
                let list = self.online_list("joined");
                assert!(
                    list.iter().all(|e| e.name != entry.name),
                    "{entry:?} joined while listed"
                );
                list.push(entry);
            }
            ClientEvent::Left(entry) => {
                assert_ne!(entry.name, self.config.name, "we left by a presence line");
                self.keys.unlisted(&entry.name);
                let list = self.online_list("left");
                let before = list.len();
                list.retain(|e| *e != entry);
                assert_eq!(list.len() + 1, before, "{entry:?} left unlisted");
            }
            ClientEvent::Message {
                from,
                text,
                encrypted,
            } => {
                assert_ne!(from, self.config.name, "a message from ourselves");
                assert!(!text.is_empty(), "an empty message");
                let recorded = self.shown.pop_front();
                assert_eq!(
                    recorded,
                    Some((from.clone(), text.clone(), encrypted)),
                    "a message shown without its record first"
                );
                let list = self.online_list("message");
                assert!(
                    list.iter().any(|e| e.name == from),
                    "message from unlisted {from}"
                );
                if encrypted {
                    self.keys.shown(&from, &text);
                }
            }
            ClientEvent::Queued { to, id } => {
                self.check_recipient(id, &to);
                assert!(self.recorded.contains(&id), "{id} queued unrecorded");
                assert!(!self.resolved.contains(&id), "{id} queued after resolution");
                let listed = self.online_list("queued").iter().any(|e| e.name == to);
                assert!(!listed, "{id} queued for {to}, who is listed");
            }
            ClientEvent::Sent { to, id } => {
                self.check_recipient(id, &to);
                assert!(
                    self.talked.contains(&id) || self.recorded.contains(&id),
                    "{id} sent unrecorded"
                );
                assert!(!self.resolved.contains(&id), "{id} sent after resolution");
                assert!(self.sent.insert(id), "{id} sent twice");
                if !self.best_effort.contains(&id) {
                    assert!(
                        self.keys.trusted(&to).is_some(),
                        "{id} sent to untrusted {to}"
                    );
                }
            }
            ClientEvent::Delivered { to, id, .. } => {
                self.check_recipient(id, &to);
                assert!(
                    !self.best_effort.contains(&id),
                    "{id} to a classic peer delivered"
                );
                assert!(self.sent.contains(&id), "{id} delivered unsent");
                assert!(self.resolved.insert(id), "{id} resolved twice");
                assert_eq!(
                    self.resolutions.get(&id),
                    Some(&Outcome::Delivered),
                    "{id} delivered unrecorded"
                );
                let seq = self.seq_of.get(&id).copied();
                self.keys.delivered(&to, seq.unwrap_or_default());
            }
            ClientEvent::Failed { to, id, reason } => {
                self.check_recipient(id, &to);
                assert!(
                    !self.best_effort.contains(&id),
                    "{id} to a classic peer failed"
                );
                assert!(self.resolved.insert(id), "{id} resolved twice");
                assert_eq!(
                    self.resolutions.get(&id),
                    Some(&Outcome::Failed(reason)),
                    "{id} failed unrecorded"
                );
            }
            ClientEvent::KeyPinned { name, key } => {
                self.check_key_event(&name);
                self.keys.pinned(&name, key);
            }
            ClientEvent::KeyChanged { name, old, new } => {
                self.check_key_event(&name);
                self.keys.changed(&name, old, new);
            }
            ClientEvent::Path { peer, .. } => {
                assert_ne!(peer, self.config.name, "a path to ourselves");
                let list = self.online_list("path");
                assert!(
                    list.iter().any(|e| e.name == peer),
                    "path to unlisted {peer}"
                );
            }
            ClientEvent::Reconnecting { attempt, .. } => {
                assert!(attempt >= 1, "attempt {attempt}");
                if let Some((name, before)) = self.key_read.take() {
                    self.keys.unread(name, before);
                }
                self.online_list("reconnecting");
                assert!(!self.classic(), "a textbook session reconnecting");
                // The next connection is a new one, claimed again.
                self.tcp = Tcp::NotAsked;
                self.lines_sent = 0;
            }
            ClientEvent::Reconnected { me, users } => {
                assert_eq!(me.name, self.config.name, "reconnected as another");
                assert!(users.contains(&me), "reconnected, but not on our own list");
                assert_unique(&users);
                self.listed_ever.insert(me.endpoint);
                let list = self.online_list("reconnected");
                let mut told: Vec<&UserEntry> = list.iter().filter(|e| e.name != me.name).collect();
                let mut now: Vec<&UserEntry> = users.iter().filter(|e| e.name != me.name).collect();
                told.sort_by(|a, b| a.name.cmp(&b.name));
                now.sort_by(|a, b| a.name.cmp(&b.name));
                assert_eq!(told, now, "joined/left did not tell every difference");
                self.list = Some(users);
            }
            ClientEvent::LoginFailed(_) => {
                assert!(self.list.is_none(), "login failed once online");
                self.terminal = Some(event);
            }
            ClientEvent::Disconnected(_) => {
                assert!(self.list.is_some(), "disconnected before online");
                self.terminal = Some(event);
            }
            ClientEvent::LoggedOut => self.terminal = Some(event),
        }
        if self.terminal.is_some() {
            self.keys.clear_listed();
            self.assert_all_resolved();
        }
    }

    fn online_list(&mut self, what: &str) -> &mut Vec<UserEntry> {
        match &mut self.list {
            Some(list) => list,
            None => panic!("{what} before logged_in"),
        }
    }

    /// A key event names a listed user other than us.
    fn check_key_event(&mut self, name: &Name) {
        assert_ne!(*name, self.config.name, "a key of ours reported");
        let list = self.online_list("key");
        assert!(
            list.iter().any(|e| e.name == *name),
            "key of unlisted {name}"
        );
    }

    fn check_recipient(&self, id: MessageId, to: &str) {
        assert_eq!(
            self.issued.get(&id).map(String::as_str),
            Some(to),
            "{id} unknown or to another"
        );
    }

    fn assert_all_resolved(&self) {
        let unresolved: Vec<&MessageId> = self
            .issued
            .keys()
            .filter(|id| !self.resolved.contains(id) && !self.best_effort.contains(id))
            .collect();
        assert!(
            unresolved.is_empty(),
            "unresolved at the end: {unresolved:?}"
        );
    }

    /// The invariants that must hold once every output is drained.
    pub(super) fn check(&mut self, client: &Client) {
        // The operation's events are in: its key line, if any, was read.
        self.key_read = None;
        let users: Vec<UserEntry> = client.users().cloned().collect();
        assert_unique(&users);
        let state = client.state();
        match (&self.terminal, &self.list) {
            (Some(_), _) => {
                assert_eq!(state, ClientState::Closed, "ended but {state:?}");
                assert!(
                    users.is_empty() && client.me().is_none(),
                    "a list once ended"
                );
                self.ended = true;
            }
            (None, Some(list)) => {
                let live = matches!(state, ClientState::Online | ClientState::Reconnecting);
                assert!(live, "listed but {state:?}");
                assert_eq!(&users, list, "the list and the events disagree");
                let me = list.iter().find(|e| e.name == self.config.name);
                assert_eq!(client.me(), me, "me() is not our listed entry");
            }
            (None, None) => {
                let live = matches!(state, ClientState::LoggingIn | ClientState::Connecting);
                assert!(live, "{state:?} without logged_in or an end");
                assert!(users.is_empty(), "a list before logged_in");
            }
        }
        let deadline = client.poll_timeout();
        if state == ClientState::Closed {
            assert_eq!(deadline, None, "an ended client has no deadline");
        } else if !(self.classic() && state == ClientState::Online) {
            assert!(
                deadline.is_some(),
                "a live {state:?} client has no deadline"
            );
        }
        let (old, new) = (self.stats, client.stats());
        let grew = [
            (old.malformed, new.malformed),
            (old.unknown_sender, new.unknown_sender),
            (old.wrong_source, new.wrong_source),
            (old.duplicates, new.duplicates),
            (old.stray_acks, new.stray_acks),
            (old.unsealed, new.unsealed),
            (old.unauthenticated, new.unauthenticated),
            (old.replayed, new.replayed),
            (old.untrusted, new.untrusted),
            (old.stale, new.stale),
            (old.wrong_sender, new.wrong_sender),
        ];
        assert!(grew.iter().all(|(o, n)| o <= n), "a counter went down");
        self.stats = new;
    }

    /// After a long silence the client has ended with every message resolved; or, online with a
    /// textbook server (which sends nothing when all is well), it may stay; or, its session lost,
    /// it is still logging in again, and what it has not resolved waits for a recipient that is
    /// not listed, or whose key is held.
    pub(super) fn check_ended(&self, client: &Client) {
        let classic_online = self.classic() && self.terminal.is_none() && self.list.is_some();
        let reconnecting = client.state() == ClientState::Reconnecting;
        assert!(
            self.ended || classic_online || reconnecting,
            "still {:?} after a long silence",
            client.state()
        );
        if self.ended {
            self.assert_all_resolved();
        }
        if reconnecting {
            let listed: HashSet<&str> = client.users().map(|e| e.name.as_str()).collect();
            for (id, to) in &self.issued {
                let waits = self.resolved.contains(id)
                    || self.best_effort.contains(id)
                    || !listed.contains(to.as_str())
                    || self.keys.trusted(to).is_none();
                assert!(
                    waits,
                    "{id} to listed, trusted {to} unresolved after a long silence"
                );
            }
        }
    }
}

fn assert_unique(users: &[UserEntry]) {
    let names: HashSet<&str> = users.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names.len(), users.len(), "a name twice: {users:?}");
}
