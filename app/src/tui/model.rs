//! What the chat UI shows and how keys change it, without a terminal: client events and key
//! presses go in, the state to draw and the [`Action`]s for the driver come out. Time is passed
//! in (an `Instant` for the join highlight, the time of day as text for conversation lines), so
//! every test is exact.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Instant;

use feige_core::client::{parse_command, ClientEvent, Command, MessageId, SendError, Via};
use feige_core::wire::{Name, UserEntry};

use super::contact::{Contact, Delivery, Entry, EntryKind, Presence, SendTicket};
use super::input::InputLine;
use super::keys::Key;
use crate::chat::local_at;
use crate::store::{HistoryEntry, HistoryStatus};

/// Most contacts kept after they left; beyond it the one gone longest is forgotten, so churn on
/// a busy server cannot grow memory.
const MAX_GONE: usize = 256;

/// What the driver must do for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Call `send_message(to, text)` and report the result with
    /// [`Model::on_send_result`] for this ticket.
    Send {
        /// Links the result to the line shown as pending.
        ticket: SendTicket,
        /// The recipient, online when the user sent.
        to: Name,
        /// The text, verbatim.
        text: String,
    },
    /// Log out properly; the UI ends with the `LoggedOut` event.
    Quit,
    /// Run this command line as plain mode does; its answers come back as events.
    Run(String),
}

/// Which part of the screen the keys act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Typing; Up / Down browse the history.
    Input,
    /// Picking a contact with Up / Down.
    Contacts,
}

/// Where the session with the server stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Not online yet.
    LoggingIn,
    /// Online.
    Online,
    /// The server is away: the client is logging in again (chat goes on).
    Reconnecting {
        /// The attempt under way or next.
        attempt: u32,
    },
    /// Our logout is under way.
    LoggingOut,
    /// Ended; the text says how.
    Ended(String),
}

/// The whole UI state.
#[derive(Debug)]
pub struct Model {
    server: SocketAddr,
    me: Option<UserEntry>,
    connection: Connection,
    /// In the server's order, then in order of arrival; gone ones stay in place.
    contacts: Vec<Contact>,
    /// Names of gone contacts, the one gone longest first.
    gone: Vec<Name>,
    selected: Option<Name>,
    focus: Focus,
    input: InputLine,
    /// Conversation lines scrolled back from the newest.
    scroll: usize,
    /// Conversation lines the view showed last time: one PgUp / PgDn.
    page: usize,
    /// The answer to the last command, or why it could not be done.
    notice: Option<String>,
    next_ticket: u64,
    /// Messages waiting for the driver's answer, and to whom.
    awaiting: HashMap<SendTicket, Name>,
    /// Contacts whose key changed and is not trusted yet: chat with them is held.
    held: HashSet<Name>,
}

impl Model {
    /// An empty UI for a client logging in to `server`.
    pub fn new(server: SocketAddr) -> Self {
        Model {
            server,
            me: None,
            connection: Connection::LoggingIn,
            contacts: Vec::new(),
            gone: Vec::new(),
            selected: None,
            focus: Focus::Input,
            input: InputLine::default(),
            scroll: 0,
            page: 1,
            notice: None,
            next_ticket: 1,
            awaiting: HashMap::new(),
            held: HashSet::new(),
        }
    }

    /// The server's address, as given on the command line.
    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// Ourselves as the server observed us, once logged in.
    pub fn me(&self) -> Option<&UserEntry> {
        self.me.as_ref()
    }

    /// Where the session stands.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Everyone listed: online, us, and gone.
    pub fn contacts(&self) -> &[Contact] {
        &self.contacts
    }

    /// How many are online, us included.
    pub fn online_count(&self) -> usize {
        self.contacts
            .iter()
            .filter(|c| c.presence() == Presence::Online)
            .count()
    }

    /// The contact whose conversation is shown.
    pub fn selected(&self) -> Option<&Contact> {
        let name = self.selected.as_ref()?;
        self.contact(name)
    }

    /// Where the keys go.
    pub fn focus(&self) -> Focus {
        self.focus
    }

    /// The line being typed.
    pub fn input(&self) -> &InputLine {
        &self.input
    }

    /// Lines scrolled back from the newest.
    pub fn scroll(&self) -> usize {
        self.scroll
    }

    /// The answer to the last command or why it failed, until the next Enter.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// When the screen changes without input (a join highlight ends), so the driver wakes to
    /// draw it.
    pub fn next_change(&self, now: Instant) -> Option<Instant> {
        self.contacts
            .iter()
            .filter_map(Contact::highlight_ends)
            .filter(|&end| end > now)
            .min()
    }

    /// The view reports how many conversation lines fit and how far back one can scroll.
    pub fn set_viewport(&mut self, page: usize, max_scroll: usize) {
        self.page = page.max(1);
        self.scroll = self.scroll.min(max_scroll);
    }

    /// Takes in one event of the client. `time` is the time of day to show with it.
    pub fn on_event(&mut self, event: &ClientEvent, now: Instant, time: &str) {
        match event {
            ClientEvent::LoggedIn { me, users } => {
                self.me = Some(me.clone());
                self.connection = Connection::Online;
                for user in users {
                    self.list_online(user, None);
                }
                self.select_someone();
            }
            ClientEvent::Joined(user) => {
                let contact = self.list_online(user, Some(now));
                contact.push(time, EntryKind::Notice(format!("{} joined", user.name)));
                self.select_someone();
            }
            ClientEvent::Left(user) => self.left(user, time),
            ClientEvent::Message {
                from,
                text,
                encrypted,
            } => {
                let viewing = self.selected.as_ref() == Some(from);
                let contact = self.contact_or_gone(from);
                let text = if *encrypted {
                    text.clone()
                } else {
                    format!("(unencrypted) {text}")
                };
                contact.push(time, EntryKind::Theirs(text));
                if !viewing {
                    contact.count_unread();
                }
                self.select_someone();
            }
            ClientEvent::Queued { to, id } => self.settle(to, *id, Delivery::Queued(*id)),
            ClientEvent::Sent { to, id } => self.settle(to, *id, Delivery::Sent(*id)),
            ClientEvent::Delivered { to, id, .. } => self.settle(to, *id, Delivery::Delivered),
            // A first key is pinned silently; the user hears of it when trusting a new one.
            ClientEvent::KeyPinned { name, key } if self.held.remove(name) => {
                let contact = self.contact_or_gone(name);
                let fingerprint = key.fingerprint();
                contact.push(
                    time,
                    EntryKind::Notice(format!("key trusted: {fingerprint}")),
                );
            }
            ClientEvent::KeyPinned { .. } => {}
            ClientEvent::KeyChanged { name, new, .. } => {
                self.held.insert(name.clone());
                let fingerprint = new.fingerprint();
                let contact = self.contact_or_gone(name);
                contact.push(
                    time,
                    EntryKind::Notice(format!(
                        "KEY CHANGED (now {fingerprint}): chat held; /verify {name}, then /trust {name}"
                    )),
                );
            }
            ClientEvent::Failed { to, id, reason } => {
                self.settle(to, *id, Delivery::Failed(reason.to_string()));
            }
            ClientEvent::Path {
                peer,
                via,
                endpoint,
            } => {
                let Some(contact) = self.contact_mut(peer) else {
                    return;
                };
                contact.set_path(*via);
                let notice = match via {
                    Via::Direct => format!("chat goes direct ({endpoint})"),
                    Via::Relay => "no direct path: chat goes through the server's relay".into(),
                };
                contact.push(time, EntryKind::Notice(notice));
            }
            ClientEvent::Reconnecting { attempt, .. } => {
                self.connection = Connection::Reconnecting { attempt: *attempt };
            }
            ClientEvent::Reconnected { me, users } => {
                self.me = Some(me.clone());
                self.connection = Connection::Online;
                for user in users {
                    self.list_online(user, None);
                }
            }
            ClientEvent::LoginFailed(reason) => {
                self.connection = Connection::Ended(format!("login failed: {reason}"));
            }
            ClientEvent::Disconnected(reason) => {
                self.connection = Connection::Ended(format!("disconnected: {reason}"));
            }
            ClientEvent::LoggedOut => self.connection = Connection::Ended("logged out".into()),
        }
    }

    /// What an earlier run kept of the conversation with `with`, oldest first: shown before
    /// this run's lines, each as it stood (ours with its delivery mark; one still queued is
    /// settled by the events of this run that name its id).
    pub fn load_history(&mut self, with: &Name, history: &[HistoryEntry]) {
        if history.is_empty() || self.me.as_ref().is_some_and(|me| me.name == *with) {
            return;
        }
        let mut entries = Vec::with_capacity(history.len());
        for item in history {
            let (day, time) = local_day_and_time(item.at_ms);
            let kind = match &item.status {
                HistoryStatus::Received { encrypted } => EntryKind::Theirs(if *encrypted {
                    item.text.clone()
                } else {
                    format!("(unencrypted) {}", item.text)
                }),
                status => {
                    let delivery = match (status, item.id) {
                        (HistoryStatus::Queued, Some(id)) => Delivery::Queued(id),
                        (HistoryStatus::Sent, Some(id)) => Delivery::Sent(id),
                        (HistoryStatus::Delivered, _) => Delivery::Delivered,
                        (HistoryStatus::Failed(why), _) => Delivery::Failed(why.clone()),
                        _ => Delivery::Failed("not recorded".into()),
                    };
                    let ticket = SendTicket(self.next_ticket);
                    self.next_ticket += 1;
                    EntryKind::Mine {
                        text: item.text.clone(),
                        delivery,
                        ticket,
                    }
                }
            };
            entries.push(Entry {
                time,
                day: Some(day),
                kind,
            });
        }
        self.contact_or_gone(with).prepend_history(entries);
        self.select_someone();
    }

    /// Something the driver has to say (an error outside the client's events).
    pub fn on_notice(&mut self, notice: String) {
        self.notice = Some(notice);
    }

    /// The driver's answer to [`Action::Send`]: the id `send_message` returned, or its refusal.
    /// Must come before that message's `Delivered` / `Failed` event, as it does when the driver
    /// answers right after calling `send_message`.
    pub fn on_send_result(&mut self, ticket: SendTicket, result: Result<MessageId, SendError>) {
        let Some(to) = self.awaiting.remove(&ticket) else {
            return;
        };
        let delivery = match result {
            Ok(id) => Delivery::Pending(Some(id)),
            Err(e) => Delivery::Failed(e.to_string()),
        };
        if let Some(contact) = self.contact_mut(&to) {
            contact.update_mine(|t, _| t == ticket, delivery);
        }
    }

    /// Takes in one key; what the driver must do, if anything.
    pub fn on_key(&mut self, key: Key, time: &str) -> Option<Action> {
        match (self.focus, key) {
            (_, Key::Quit) => return Some(self.quit()),
            // Redrawing is the driver's business; the state does not change.
            (_, Key::Redraw) => {}
            (_, Key::PageUp) => self.scroll = self.scroll.saturating_add(self.page),
            (_, Key::PageDown) => self.scroll = self.scroll.saturating_sub(self.page),
            (Focus::Input, Key::Tab | Key::BackTab) => self.focus = Focus::Contacts,
            (Focus::Contacts, Key::Tab | Key::BackTab | Key::Enter) => self.focus = Focus::Input,
            (Focus::Contacts, Key::Up) => self.step_selection(false),
            (Focus::Contacts, Key::Down) => self.step_selection(true),
            (Focus::Contacts, Key::Home) => self.select_edge(false),
            (Focus::Contacts, Key::End) => self.select_edge(true),
            (Focus::Contacts, typed @ (Key::Char(_) | Key::Paste(_))) => {
                self.focus = Focus::Input;
                return self.on_key(typed, time);
            }
            (Focus::Contacts, _) => {}
            (Focus::Input, Key::Char(c)) => self.input.insert(c.encode_utf8(&mut [0; 4])),
            (Focus::Input, Key::Paste(text)) => self.input.insert(&text),
            (Focus::Input, Key::Enter) => return self.submit(time),
            (Focus::Input, Key::Backspace) => self.input.backspace(),
            (Focus::Input, Key::Delete) => self.input.delete(),
            (Focus::Input, Key::Left) => self.input.left(),
            (Focus::Input, Key::Right) => self.input.right(),
            (Focus::Input, Key::Home) => self.input.home(),
            (Focus::Input, Key::End) => self.input.end(),
            (Focus::Input, Key::Up) => self.input.older(),
            (Focus::Input, Key::Down) => self.input.newer(),
        }
        None
    }

    fn quit(&mut self) -> Action {
        if !matches!(self.connection, Connection::Ended(_)) {
            self.connection = Connection::LoggingOut;
        }
        Action::Quit
    }

    /// Enter on the input: a command, or a message to the selected contact. A line that cannot
    /// be sent stays in the input, with the reason in the notice.
    fn submit(&mut self, time: &str) -> Option<Action> {
        let line = self.input.text().to_owned();
        if line.trim().is_empty() {
            return None;
        }
        self.notice = None;
        if line.trim_start().starts_with('/') {
            return self.command(&line, time);
        }
        let Some(to) = self.selected.clone() else {
            self.notice =
                Some("nobody to write to: Tab to pick a contact, or /msg NAME TEXT".into());
            return None;
        };
        if let Err(why) = self.can_send_to(&to) {
            self.notice = Some(why);
            return None;
        }
        self.input.take();
        Some(self.send(to, line, time))
    }

    fn command(&mut self, line: &str, time: &str) -> Option<Action> {
        // Offline contacts too: a message to one waits in the outbox.
        let known = self.contacts.iter().map(|c| c.name().as_str());
        let action = match parse_command(line, known) {
            Ok(Command::Msg { to, text }) => {
                let (to, text) = (to.to_owned(), text.to_owned());
                let to = self.contact(&to).map(|c| c.name().clone())?;
                if let Err(why) = self.can_send_to(&to) {
                    self.notice = Some(why);
                    return None;
                }
                self.select(to.clone());
                Some(self.send(to, text, time))
            }
            Ok(Command::List) => {
                self.notice = Some(self.online_list());
                None
            }
            Ok(Command::Quit) => Some(self.quit()),
            // The conversation holds its history already: show it.
            Ok(Command::History { name, .. }) => {
                let name = self.contact(name).map(|c| c.name().clone())?;
                self.select(name);
                None
            }
            // The client answers these itself (the safety number, or why not; a pinned key).
            Ok(Command::Trust { .. } | Command::Verify { .. }) => {
                Some(Action::Run(line.to_owned()))
            }
            Err(e) => {
                self.notice = Some(e.to_string());
                return None;
            }
        };
        self.input.take();
        action
    }

    /// Anyone in the list but us: to someone offline the message waits in the outbox (the
    /// client refuses someone it cannot queue for, and the line says why).
    fn can_send_to(&self, to: &Name) -> Result<(), String> {
        match self.contact(to) {
            Some(c) if c.is_me() => Err("that is you: pick someone else".into()),
            Some(_) => Ok(()),
            None => Err(format!("{to} is not a contact")),
        }
    }

    fn send(&mut self, to: Name, text: String, time: &str) -> Action {
        let ticket = SendTicket(self.next_ticket);
        self.next_ticket += 1;
        if let Some(contact) = self.contact_mut(&to) {
            contact.push(
                time,
                EntryKind::Mine {
                    text: text.clone(),
                    delivery: Delivery::Pending(None),
                    ticket,
                },
            );
        }
        self.awaiting.insert(ticket, to.clone());
        self.scroll = 0;
        Action::Send { ticket, to, text }
    }

    fn online_list(&self) -> String {
        let names: Vec<String> = self
            .contacts
            .iter()
            .filter(|c| c.presence() == Presence::Online)
            .map(|c| {
                if c.is_me() {
                    format!("{} (you)", c.name())
                } else {
                    c.name().to_string()
                }
            })
            .collect();
        format!("online ({}): {}", names.len(), names.join(", "))
    }

    fn settle(&mut self, to: &Name, id: MessageId, delivery: Delivery) {
        if let Some(contact) = self.contact_mut(to) {
            contact.update_mine(|_, d| d.unsettled_id() == Some(id), delivery);
        }
    }

    /// Lists `user` as online (again), returning their contact.
    fn list_online(&mut self, user: &UserEntry, joined_at: Option<Instant>) -> &mut Contact {
        self.gone.retain(|name| *name != user.name);
        let is_me = self.me.as_ref().is_some_and(|me| me.name == user.name);
        let index = match self.contacts.iter().position(|c| *c.name() == user.name) {
            Some(index) => {
                if let Some(at) = joined_at {
                    self.contacts[index].come_online(user.endpoint, at);
                }
                index
            }
            None => {
                let contact = Contact::online(user.name.clone(), user.endpoint, is_me, joined_at);
                self.contacts.push(contact);
                self.contacts.len() - 1
            }
        };
        &mut self.contacts[index]
    }

    fn left(&mut self, user: &UserEntry, time: &str) {
        let Some(contact) = self.contact_mut(&user.name) else {
            return;
        };
        contact.go();
        contact.push(time, EntryKind::Notice(format!("{} left", user.name)));
        self.gone.push(user.name.clone());
        if self.gone.len() > MAX_GONE {
            let forgotten = self.gone.remove(0);
            self.contacts.retain(|c| *c.name() != forgotten);
            if self.selected.as_ref() == Some(&forgotten) {
                self.selected = None;
                self.select_someone();
            }
        }
    }

    /// The contact for a message's sender; someone unknown (a message overtaking their join)
    /// is listed as gone until their join arrives.
    fn contact_or_gone(&mut self, name: &Name) -> &mut Contact {
        let index = match self.contacts.iter().position(|c| c.name() == name) {
            Some(index) => index,
            None => {
                let unknown = SocketAddr::from(([0, 0, 0, 0], 0));
                let mut contact = Contact::online(name.clone(), unknown, false, None);
                contact.go();
                self.contacts.push(contact);
                self.gone.push(name.clone());
                self.contacts.len() - 1
            }
        };
        &mut self.contacts[index]
    }

    /// With nobody selected, shows the first contact that is not us (online ones first).
    fn select_someone(&mut self) {
        if self.selected.is_some() {
            return;
        }
        let first = self
            .contacts
            .iter()
            .filter(|c| !c.is_me())
            .min_by_key(|c| c.presence() != Presence::Online)
            .map(|c| c.name().clone());
        if let Some(name) = first {
            self.select(name);
        }
    }

    fn select(&mut self, name: Name) {
        if self.selected.as_ref() != Some(&name) {
            self.scroll = 0;
        }
        if let Some(contact) = self.contact_mut(&name) {
            contact.mark_read();
        }
        self.selected = Some(name);
    }

    /// Up / Down in the list: the previous or next contact that is not us, wrapping around.
    fn step_selection(&mut self, forward: bool) {
        let pickable: Vec<&Name> = self
            .contacts
            .iter()
            .filter(|c| !c.is_me())
            .map(Contact::name)
            .collect();
        if pickable.is_empty() {
            return;
        }
        let current = self
            .selected
            .as_ref()
            .and_then(|s| pickable.iter().position(|n| *n == s));
        let count = pickable.len();
        let next = match (current, forward) {
            (None, true) => 0,
            (None, false) => count - 1,
            (Some(i), true) => (i + 1) % count,
            (Some(i), false) => (i + count - 1) % count,
        };
        let name = pickable[next].clone();
        self.select(name);
    }

    fn select_edge(&mut self, last: bool) {
        let mut pickable = self.contacts.iter().filter(|c| !c.is_me());
        let edge = if last {
            pickable.next_back()
        } else {
            pickable.next()
        };
        if let Some(name) = edge.map(|c| c.name().clone()) {
            self.select(name);
        }
    }

    fn contact(&self, name: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.name().as_str() == name)
    }

    fn contact_mut(&mut self, name: &str) -> Option<&mut Contact> {
        self.contacts.iter_mut().find(|c| c.name().as_str() == name)
    }
}

/// Unix milliseconds as the local day (`2026-12-06`) and time of day (`21:05`).
fn local_day_and_time(ms: u64) -> (String, String) {
    let at = local_at(ms);
    (
        at.format("%Y-%m-%d").to_string(),
        at.format("%H:%M").to_string(),
    )
}

#[cfg(test)]
mod tests;
