//! A model of one client's keyring, fed with what the client was told and did: the server's
//! lines and the user's `/trust`. It says which key events the client must report, and which key
//! it trusts for each name at any point, without reading the client.
//!
//! The rules, from `docs/protocol.md` (7.2, 10.6) and `client/keyring.rs`: a key line for a
//! listed user other than ourselves is believed if it is the pinned key; a name never pinned is
//! pinned to it (`key_pinned`); another key is reported (`key_changed`) once per listing — a
//! user listed anew (after leaving, or moving) is a new listing — and held until trusted. A key
//! is trusted while it is both listed and pinned.
//!
//! A lost link is not the end: the client stops reading that connection (after an `error` line,
//! an unreadable line or a second snapshot) and keeps what it believes; a new connection
//! (`Relink`) starts from its snapshot again, which unlists whoever is no longer listed there at
//! the same endpoint and keeps the rest. Only `error,replaced` ends it.

use std::collections::{BTreeMap, BTreeSet};

use feige_core::wire::{ErrorReason, Name, PublicKey, ServerLine, UserEntry};

use super::journal::Heard;

/// A key event the client must report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyEvent {
    /// `key_pinned`.
    Pinned {
        /// Whose.
        name: Name,
        /// The key.
        key: PublicKey,
    },
    /// `key_changed`.
    Changed {
        /// Whose.
        name: Name,
        /// The key pinned.
        old: PublicKey,
        /// The key listed now.
        new: PublicKey,
    },
}

/// What one client believes.
#[derive(Debug, Clone)]
pub struct KeyView {
    me: Name,
    /// The snapshot came: the client is online.
    online: bool,
    /// The first snapshot came: a lost link is logged in again from then on.
    logged_in: bool,
    /// The session is over: the client reads no more lines.
    ended: bool,
    /// The link is lost: the client reads no more lines of this connection.
    suspended: bool,
    /// Who is listed (the client ignores key lines for anyone else).
    roster: BTreeMap<Name, UserEntry>,
    listed: BTreeMap<Name, PublicKey>,
    pinned: BTreeMap<Name, PublicKey>,
}

impl KeyView {
    /// A client of `me` started with the keys `pinned` in earlier runs.
    pub fn new(me: Name, pinned: BTreeMap<Name, PublicKey>) -> Self {
        KeyView {
            me,
            online: false,
            ended: false,
            logged_in: false,
            suspended: false,
            roster: BTreeMap::new(),
            listed: BTreeMap::new(),
            pinned,
        }
    }

    /// The key `name` is trusted with now: listed and pinned alike.
    pub fn trusted(&self, name: &str) -> Option<PublicKey> {
        let listed = self.listed.get(name)?;
        (self.pinned.get(name) == Some(listed)).then_some(*listed)
    }

    /// Whether the directory lists a key for `name` (trusted or not): only then can the client
    /// chat with it.
    pub fn has_key(&self, name: &str) -> bool {
        self.listed.contains_key(name)
    }

    /// Whether `name` is listed.
    pub fn lists(&self, name: &str) -> bool {
        self.roster.contains_key(name)
    }

    /// The names listed with a key other than the pinned one.
    pub fn held(&self) -> BTreeSet<&Name> {
        self.listed
            .keys()
            .filter(|name| self.trusted(name).is_none())
            .collect()
    }

    /// A new connection, logging in again: its snapshot comes next.
    pub fn relink(&mut self) {
        if self.logged_in && !self.ended {
            self.suspended = false;
            self.online = false;
        }
    }

    /// One server line, read as the client reads it; appends the key events it must cause to
    /// `out`. `list` is what the snapshot said, as the client's `logged_in` (or, logging in
    /// again, `reconnected`) event reported it, if it did.
    pub fn heard(&mut self, heard: &Heard, list: Option<&[UserEntry]>, out: &mut Vec<KeyEvent>) {
        if self.ended || self.suspended {
            return;
        }
        match (heard, self.online) {
            (Heard::Snapshot, false) => match list {
                Some(users) => self.snapshot(users),
                // Refused (`bad-snapshot`): the first login ends, another is tried again.
                None if self.logged_in => self.suspended = true,
                None => self.ended = true,
            },
            (Heard::Line(ServerLine::Error(ErrorReason::Replaced)), true) => self.ended = true,
            (Heard::Line(line), true) => self.line(line, out),
            // Before the first snapshot anything else ends the login; after it, a second
            // snapshot or a line too long or unparsable loses the link.
            _ if self.logged_in => self.suspended = true,
            _ => self.ended = true,
        }
    }

    /// Whether the client reads the lines of a connection whose snapshot came.
    pub fn is_online(&self) -> bool {
        self.online
    }

    fn line(&mut self, line: &ServerLine, out: &mut Vec<KeyEvent>) {
        let lost = |view: &mut Self| view.suspended = true;
        match line {
            ServerLine::Login(entry) => {
                if entry.name == self.me {
                    lost(self);
                    return;
                }
                match self.roster.get(&entry.name) {
                    Some(listed) if listed.endpoint == entry.endpoint => return,
                    Some(_) => self.unlist(&entry.name),
                    None => {}
                }
                self.roster.insert(entry.name.clone(), entry.clone());
            }
            ServerLine::Logout(entry) => {
                if entry.name == self.me {
                    lost(self);
                    return;
                }
                self.unlist(&entry.name);
            }
            ServerLine::Key { name, key } => {
                if *name != self.me && self.roster.contains_key(name) {
                    self.listed_key(name, *key, out);
                }
            }
            ServerLine::Dialect { .. }
            | ServerLine::Pong
            | ServerLine::Intro(_)
            | ServerLine::Relay { .. } => {}
            ServerLine::Snapshot(_) | ServerLine::Error(_) => lost(self),
        }
    }

    /// The user trusts the key listed for `name`; appends the event it must cause to `out`.
    pub fn trust(&mut self, name: &Name, out: &mut Vec<KeyEvent>) {
        if !self.logged_in || self.ended || !self.roster.contains_key(name) {
            return;
        }
        let Some(&listed) = self.listed.get(name) else {
            return;
        };
        if self.pinned.get(name) != Some(&listed) {
            self.pin(name, listed, out);
        }
    }

    /// The client's login, with the list its `logged_in` (or `reconnected`) reported, which
    /// lists us, and no name twice, or it would have been refused. Logging in again, whoever is
    /// no longer listed at the same endpoint is unlisted; the others keep their keys.
    fn snapshot(&mut self, entries: &[UserEntry]) {
        let mut roster = BTreeMap::new();
        for entry in entries {
            if roster.insert(entry.name.clone(), entry.clone()).is_some() {
                self.suspended = true;
                return;
            }
        }
        if !roster.contains_key(&self.me) {
            self.suspended = true;
            return;
        }
        roster.remove(&self.me);
        let gone: Vec<Name> = self
            .roster
            .iter()
            .filter(|(name, entry)| roster.get(*name) != Some(*entry))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            self.unlist(&name);
        }
        self.roster = roster;
        self.online = true;
        self.logged_in = true;
    }

    fn listed_key(&mut self, name: &Name, key: PublicKey, out: &mut Vec<KeyEvent>) {
        let before = self.listed.insert(name.clone(), key);
        match self.pinned.get(name) {
            None => self.pin(name, key, out),
            Some(&pinned) if pinned == key => {}
            Some(&pinned) if before != Some(key) => out.push(KeyEvent::Changed {
                name: name.clone(),
                old: pinned,
                new: key,
            }),
            Some(_) => {}
        }
    }

    fn pin(&mut self, name: &Name, key: PublicKey, out: &mut Vec<KeyEvent>) {
        self.pinned.insert(name.clone(), key);
        out.push(KeyEvent::Pinned {
            name: name.clone(),
            key,
        });
    }

    /// The user left (or moved): no longer listed, its key no longer listed (still pinned).
    fn unlist(&mut self, name: &Name) {
        self.roster.remove(name);
        self.listed.remove(name);
    }
}
