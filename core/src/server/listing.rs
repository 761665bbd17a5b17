//! The native snapshot's three sections — every `name,endpoint;` entry, the classic users'
//! `dialect` lines, the `key` lines — kept encoded. Each member's part is formatted once, when it
//! is listed, and appended; a snapshot is then a few copies. A departure leaves a hole: the
//! sections are rebuilt from the members' own encoded parts (copies again, no formatting) before
//! the next snapshot. In a login storm, where every login sends an O(N) snapshot, this is the
//! difference between formatting N endpoints per login and copying N·25 bytes.
//!
//! [`Listing`] holds a set of members with their parts and sections: the users online here
//! (`Online`), and in a cluster those of the other coordinators (`cluster::Remote`).

use std::collections::BTreeMap;
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

/// Members by a key that grows with each one listed (so in the order they were listed), each
/// with its part of the snapshot, and the sections made of those parts.
#[derive(Debug)]
pub(crate) struct Listing<K, V> {
    members: BTreeMap<K, (V, Listed)>,
    sections: Sections,
}

impl<K, V> Default for Listing<K, V> {
    fn default() -> Self {
        Listing {
            members: BTreeMap::new(),
            sections: Sections::default(),
        }
    }
}

impl<K: Ord + Copy, V> Listing<K, V> {
    /// Lists `member` after everyone; `key` must be above every key listed so far.
    pub(crate) fn insert(&mut self, key: K, member: V, listed: Listed) {
        debug_assert!(self
            .members
            .keys()
            .next_back()
            .is_none_or(|&last| last < key));
        self.sections.append(&listed);
        self.members.insert(key, (member, listed));
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let (member, _) = self.members.remove(key)?;
        self.sections.stale = true;
        Some(member)
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.members.get(key).map(|(member, _)| member)
    }

    /// For what a member may change in place: never what its listed part holds encoded.
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.members.get_mut(key).map(|(member, _)| member)
    }

    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    /// With their keys, in the order listed.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (K, &V)> + '_ {
        self.members.iter().map(|(&key, (member, _))| (key, member))
    }

    /// In the order listed.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.members.values().map(|(member, _)| member)
    }

    /// Every member, in the order listed, leaving none.
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = V> {
        std::mem::take(self)
            .members
            .into_values()
            .map(|(member, _)| member)
    }

    /// The sections, up to date.
    pub(crate) fn sections(&mut self) -> &Sections {
        self.sections
            .refresh(self.members.values().map(|(_, listed)| listed));
        &self.sections
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
    fn append(&mut self, listed: &Listed) {
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

    /// Brought up to date with the members now listed, in order, if one left.
    fn refresh<'a>(&mut self, members: impl Iterator<Item = &'a Listed>) {
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
