//! The shared store, as a model: what the Redis scripts of `platform/src/cluster` do, command by
//! command, on plain maps, with a log of joins and leaves. It can go away (nothing is answered)
//! and restart (everything is lost), as Redis without persistence does.

use std::collections::{BTreeMap, HashMap};

use feige_core::server::cluster::{Member, NodeId, StoreCommand, StoreEvent};
use feige_core::wire::Name;

use crate::sim::agenda::SimTime;

/// The store's state.
#[derive(Debug, Default)]
pub struct Store {
    /// It answers.
    pub up: bool,
    names: HashMap<Name, NodeId>,
    users: BTreeMap<Name, Member>,
    leases: HashMap<NodeId, SimTime>,
    /// Every join and leave since it last started.
    pub log: Vec<StoreEvent>,
}

impl Store {
    /// Up and empty.
    pub fn new() -> Self {
        Store {
            up: true,
            ..Store::default()
        }
    }

    /// Everything is lost, as a restart of a Redis without persistence loses it.
    pub fn wipe(&mut self) {
        *self = Store {
            up: self.up,
            ..Store::default()
        };
    }

    /// The names held, and by which node.
    pub fn held(&self) -> impl Iterator<Item = (&Name, NodeId)> + '_ {
        self.names.iter().map(|(name, &node)| (name, node))
    }

    /// The members listed.
    pub fn listed(&self) -> impl Iterator<Item = &Member> + '_ {
        self.users.values()
    }

    fn alive(&self, node: NodeId, now: SimTime) -> bool {
        self.leases.get(&node).is_some_and(|&until| until > now)
    }

    /// Runs `command` from `node` at `now`; the answers for `node`, in order (log entries are
    /// appended to [`log`](Self::log) and reach every follower separately).
    pub fn run(&mut self, node: NodeId, command: StoreCommand, now: SimTime) -> Vec<StoreEvent> {
        match command {
            StoreCommand::Claim { name, ticket } => {
                let granted = match self.names.get(&name).copied() {
                    Some(owner) if owner != node && self.alive(owner, now) => false,
                    Some(owner) if owner != node => {
                        if self.users.get(&name).is_some_and(|m| m.node == owner) {
                            self.unlist(&name, owner);
                        }
                        true
                    }
                    _ => true,
                };
                if granted {
                    self.names.insert(name.clone(), node);
                }
                vec![StoreEvent::Claimed {
                    name,
                    ticket,
                    granted,
                }]
            }
            StoreCommand::Release { name } => {
                let listed = self.users.get(&name).is_some_and(|m| m.node == node);
                if self.names.get(&name) == Some(&node) && !listed {
                    self.names.remove(&name);
                }
                Vec::new()
            }
            StoreCommand::Forget => {
                let users = &self.users;
                self.names.retain(|name, owner| {
                    *owner != node || users.get(name).is_some_and(|m| m.node == node)
                });
                Vec::new()
            }
            StoreCommand::Join(member) => {
                let name = member.entry.name.clone();
                self.names.insert(name.clone(), node);
                let member = Member { node, ..member };
                self.users.insert(name, member.clone());
                self.log.push(StoreEvent::Joined(member));
                Vec::new()
            }
            StoreCommand::Leave { name } => {
                if self.users.get(&name).is_some_and(|m| m.node == node) {
                    self.unlist(&name, node);
                }
                if self.names.get(&name) == Some(&node) {
                    self.names.remove(&name);
                }
                Vec::new()
            }
            StoreCommand::Heartbeat { lease } => {
                self.leases.insert(node, now + lease);
                Vec::new()
            }
            StoreCommand::CheckNodes(nodes) => {
                let dead = nodes.into_iter().filter(|&n| !self.alive(n, now)).collect();
                vec![StoreEvent::Checked { dead }]
            }
            StoreCommand::Reap(dead) => {
                if !self.alive(dead, now) {
                    let theirs: Vec<Name> = self
                        .users
                        .values()
                        .filter(|m| m.node == dead)
                        .map(|m| m.entry.name.clone())
                        .collect();
                    for name in theirs {
                        self.unlist(&name, dead);
                    }
                    self.names.retain(|_, owner| *owner != dead);
                }
                Vec::new()
            }
            // The cluster simulator does not chat.
            StoreCommand::Mail { .. } => Vec::new(),
            StoreCommand::Sync => vec![StoreEvent::Synced(self.users.values().cloned().collect())],
        }
    }

    fn unlist(&mut self, name: &Name, node: NodeId) {
        self.users.remove(name);
        self.log.push(StoreEvent::Left {
            node,
            name: name.clone(),
        });
    }
}
