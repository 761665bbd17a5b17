//! The members of the other coordinators, as this one knows them from the store's log, in the
//! order it learned of them, with their part of the snapshot kept encoded.

use std::collections::HashMap;
use std::time::Instant;

use crate::server::listing::{Listed, Listing, Sections};
use crate::wire::Name;

use super::{Member, NodeId};

#[derive(Debug, Default)]
pub(crate) struct Remote {
    /// By the order they were learned of.
    members: Listing<u64, Member>,
    by_name: HashMap<Name, u64>,
    next: u64,
    /// Members per coordinator: the coordinators to check.
    per_node: HashMap<NodeId, usize>,
    /// Coordinators found without a lease, and when first.
    pub(crate) suspects: HashMap<NodeId, Instant>,
    /// Members listed before the store went away and not listed by it since it came back: they
    /// go at the deadline unless their coordinator publishes them again by then.
    pub(crate) unconfirmed: HashMap<Name, Instant>,
}

impl Remote {
    pub(crate) fn get(&self, name: &Name) -> Option<&Member> {
        self.members.get(self.by_name.get(name)?)
    }

    /// Lists `member` after everyone; a member of that name must not be listed.
    pub(crate) fn insert(&mut self, member: Member) {
        debug_assert!(!self.by_name.contains_key(&member.entry.name));
        let entry = &member.entry;
        let listed = Listed::new(&entry.name, entry.endpoint, member.classic, member.key);
        *self.per_node.entry(member.node).or_default() += 1;
        self.by_name.insert(member.entry.name.clone(), self.next);
        self.members.insert(self.next, member, listed);
        self.next += 1;
    }

    pub(crate) fn remove(&mut self, name: &Name) -> Option<Member> {
        let order = self.by_name.remove(name)?;
        let member = self.members.remove(&order)?;
        self.unconfirmed.remove(name);
        if let Some(count) = self.per_node.get_mut(&member.node) {
            *count -= 1;
            if *count == 0 {
                self.per_node.remove(&member.node);
                self.suspects.remove(&member.node);
            }
        }
        Some(member)
    }

    /// The coordinators with members listed here.
    pub(crate) fn nodes(&self) -> Vec<NodeId> {
        let mut nodes: Vec<NodeId> = self.per_node.keys().copied().collect();
        nodes.sort_unstable();
        nodes
    }

    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    /// In the order they were learned of.
    pub(crate) fn members(&self) -> impl Iterator<Item = &Member> + '_ {
        self.members.values()
    }

    /// The sections, up to date.
    pub(crate) fn sections(&mut self) -> &Sections {
        self.members.sections()
    }
}
