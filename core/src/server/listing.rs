//! The native snapshot's three sections — every `name,endpoint;` entry, the classic users'
//! `dialect` lines, the `key` lines — kept encoded. Each member's part is formatted once, when it
//! is listed, and appended; a snapshot is then a few copies. A departure leaves a hole: the
//! sections are rebuilt from the members' own encoded parts (copies again, no formatting) before
//! the next snapshot. In a login storm, where every login sends an O(N) snapshot, this is the
//! difference between formatting N endpoints per login and copying N·25 bytes.

use std::net::SocketAddr;

use crate::wire::{encode_snapshot_entry, Dialect, Name, PublicKey, ServerLine};

/// One member's part of the snapshot, encoded.
#[derive(Debug)]
pub(crate) struct Listed {
    entry: Box<[u8]>,
    /// `dialect,<name>,classic\n` for a classic user.
    dialect: Option<Box<[u8]>>,
    /// `key,<name>,<hex>\n` for a user that announced a key.
    key: Option<Box<[u8]>>,
}

impl Listed {
    pub(crate) fn new(
        name: &Name,
        endpoint: SocketAddr,
        classic: bool,
        key: Option<PublicKey>,
    ) -> Self {
        let line = |line: ServerLine| line.to_vec().into_boxed_slice();
        Listed {
            entry: encode_snapshot_entry(name, endpoint).into_boxed_slice(),
            dialect: classic.then(|| {
                line(ServerLine::Dialect {
                    name: name.clone(),
                    dialect: Dialect::Classic,
                })
            }),
            key: key.map(|key| {
                line(ServerLine::Key {
                    name: name.clone(),
                    key,
                })
            }),
        }
    }
}

/// The three sections for a set of members, in the order they were listed.
#[derive(Debug, Default)]
pub(crate) struct Sections {
    entries: Vec<u8>,
    dialects: Vec<u8>,
    keys: Vec<u8>,
    /// A member left since the sections were built: they hold it still.
    stale: bool,
}

impl Sections {
    /// A member was listed after every other.
    pub(crate) fn append(&mut self, listed: &Listed) {
        if self.stale {
            return;
        }
        self.entries.extend_from_slice(&listed.entry);
        if let Some(line) = &listed.dialect {
            self.dialects.extend_from_slice(line);
        }
        if let Some(line) = &listed.key {
            self.keys.extend_from_slice(line);
        }
    }

    /// A member left.
    pub(crate) fn remove(&mut self) {
        self.stale = true;
    }

    /// Brought up to date with the members now listed, in order, if one left.
    pub(crate) fn refresh<'a>(&mut self, members: impl Iterator<Item = &'a Listed>) {
        if !self.stale {
            return;
        }
        self.entries.clear();
        self.dialects.clear();
        self.keys.clear();
        self.stale = false;
        for listed in members {
            self.append(listed);
        }
    }

    /// The snapshot of several sets of members, each up to date: every entry, `end`, then the
    /// `dialect` lines and the `key` lines, each section in the order of `parts`.
    pub(crate) fn snapshot(parts: &[&Sections]) -> Vec<u8> {
        const END: &[u8] = b"end\n";
        let len = parts
            .iter()
            .map(|p| p.entries.len() + p.dialects.len() + p.keys.len())
            .sum::<usize>()
            + END.len();
        let mut out = Vec::with_capacity(len);
        for part in parts {
            debug_assert!(!part.stale, "refresh the sections first");
            out.extend_from_slice(&part.entries);
        }
        out.extend_from_slice(END);
        for part in parts {
            out.extend_from_slice(&part.dialects);
        }
        for part in parts {
            out.extend_from_slice(&part.keys);
        }
        out
    }
}
