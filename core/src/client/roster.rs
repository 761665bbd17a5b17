//! The online list as the server tells it: server order for display, by-name lookup for chat.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use crate::wire::{Dialect, Name, UserEntry};

/// Everyone online, us included.
#[derive(Debug, Default)]
pub(crate) struct Roster {
    /// Entries in the order the server listed or announced them.
    in_order: BTreeMap<u64, UserEntry>,
    by_name: HashMap<Name, Listed>,
    next_position: u64,
    /// The dialect of everyone inserted: `Some(Classic)` on a textbook server, where all speak it.
    everyone: Option<Dialect>,
}

#[derive(Debug)]
struct Listed {
    position: u64,
    endpoint: SocketAddr,
    /// Set by a `dialect` line; `None` is feige's own dialect.
    dialect: Option<Dialect>,
}

impl Roster {
    /// The list from a snapshot, or `None` if it names someone twice.
    pub(crate) fn from_snapshot(entries: &[UserEntry]) -> Option<Self> {
        let mut roster = Roster::default();
        for entry in entries {
            if roster.contains(&entry.name) {
                return None;
            }
            roster.insert(entry.clone());
        }
        Some(roster)
    }

    /// The list from a textbook server's one-shot list, everyone classic. That server refuses no
    /// duplicate name, so a name listed twice keeps its last endpoint, and a namesake of ours at
    /// another endpoint than `me` is left out. `None` if `me` is not listed.
    pub(crate) fn from_classic_list(entries: &[UserEntry], me: &UserEntry) -> Option<Self> {
        let mut roster = Roster {
            everyone: Some(Dialect::Classic),
            ..Roster::default()
        };
        let mut found_me = false;
        for entry in entries {
            if entry.name == me.name {
                if entry.endpoint != me.endpoint || found_me {
                    continue;
                }
                found_me = true;
            }
            roster.remove(&entry.name);
            roster.insert(entry.clone());
        }
        found_me.then_some(roster)
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The listed entry's name (shared) and endpoint.
    pub(crate) fn get(&self, name: &str) -> Option<(&Name, SocketAddr)> {
        self.by_name
            .get_key_value(name)
            .map(|(name, listed)| (name, listed.endpoint))
    }

    /// Adds `entry` at the end of the list. The caller removes any entry of that name first.
    pub(crate) fn insert(&mut self, entry: UserEntry) {
        let position = self.next_position;
        self.next_position += 1;
        self.by_name.insert(
            entry.name.clone(),
            Listed {
                position,
                endpoint: entry.endpoint,
                dialect: self.everyone,
            },
        );
        self.in_order.insert(position, entry);
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<UserEntry> {
        let listed = self.by_name.remove(name)?;
        self.in_order.remove(&listed.position)
    }

    /// Records a user's dialect; unknown names are ignored.
    pub(crate) fn set_dialect(&mut self, name: &str, dialect: Dialect) {
        if let Some(listed) = self.by_name.get_mut(name) {
            listed.dialect = Some(dialect);
        }
    }

    pub(crate) fn dialect(&self, name: &str) -> Option<Dialect> {
        self.by_name.get(name).and_then(|listed| listed.dialect)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &UserEntry> + '_ {
        self.in_order.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, ep: &str) -> UserEntry {
        UserEntry::new(Name::new(name).unwrap(), ep.parse().unwrap())
    }

    #[test]
    fn keeps_server_order_across_removals_and_rejoins() {
        let mut r = Roster::from_snapshot(&[
            entry("a", "1.1.1.1:1"),
            entry("b", "1.1.1.1:2"),
            entry("c", "1.1.1.1:3"),
        ])
        .unwrap();
        assert_eq!(r.remove("b"), Some(entry("b", "1.1.1.1:2")));
        r.insert(entry("b", "1.1.1.1:4"));
        let names: Vec<&str> = r.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a", "c", "b"]);
        assert_eq!(r.get("b").map(|(_, ep)| ep), "1.1.1.1:4".parse().ok());
        assert!(r.remove("zed").is_none());
    }

    #[test]
    fn duplicate_names_in_a_snapshot_are_refused() {
        assert!(
            Roster::from_snapshot(&[entry("a", "1.1.1.1:1"), entry("a", "1.1.1.1:2")]).is_none()
        );
    }

    #[test]
    fn a_classic_list_keeps_one_entry_per_name_all_classic() {
        let me = entry("me", "1.1.1.1:9");
        let r = Roster::from_classic_list(
            &[
                entry("a", "1.1.1.1:1"),
                entry("me", "1.1.1.1:8"),
                me.clone(),
                entry("b", "1.1.1.1:2"),
                me.clone(),
                entry("a", "1.1.1.1:3"),
            ],
            &me,
        )
        .unwrap();
        let listed: Vec<&UserEntry> = r.iter().collect();
        assert_eq!(
            listed,
            [&me, &entry("b", "1.1.1.1:2"), &entry("a", "1.1.1.1:3")]
        );
        assert_eq!(r.dialect("a"), Some(Dialect::Classic));
        assert!(Roster::from_classic_list(&[entry("me", "1.1.1.1:8")], &me).is_none());
    }

    #[test]
    fn dialect_is_per_listed_user() {
        let mut r = Roster::from_snapshot(&[entry("老王", "1.1.1.1:1")]).unwrap();
        r.set_dialect("老王", Dialect::Classic);
        r.set_dialect("nobody", Dialect::Classic);
        assert_eq!(r.dialect("老王"), Some(Dialect::Classic));
        assert_eq!(r.dialect("nobody"), None);
    }
}
