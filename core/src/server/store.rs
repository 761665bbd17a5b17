//! The server's side of a cluster (see [`super::cluster`]): what it asks of the store when its
//! own members come and go, and what it does with what the store says about everyone else's.

use std::time::Instant;

use crate::wire::{ErrorReason, Name, RejectReason};

use super::cluster::{Mail, Member, NodeId, StoreCommand, StoreEvent};
use super::state::{Epoch, Timer};
use super::{LeaveReason, Presence, Server, ServerEvent, ServerTransmit};

impl Server {
    /// What the store says (only for a server configured with a cluster; ignored otherwise).
    pub fn handle_store(&mut self, now: Instant, event: StoreEvent) {
        if self.cluster.is_none() {
            return;
        }
        match event {
            StoreEvent::Up => self.store_up(now),
            StoreEvent::Down => self.store_down(),
            StoreEvent::Synced(members) => self.synced(now, members),
            StoreEvent::Joined(member) => self.remote_joined(member),
            StoreEvent::Left { node, name } => self.remote_left(node, &name),
            StoreEvent::Claimed {
                name,
                ticket,
                granted,
            } => self.claimed(now, &name, ticket, granted),
            StoreEvent::Checked { dead } => self.checked(now, &dead),
            StoreEvent::Mail { mail, .. } => self.mail(mail),
        }
    }

    fn store(&mut self, command: StoreCommand) {
        self.transmits.push_back(ServerTransmit::Store(command));
    }

    /// This coordinator, if it belongs to a cluster.
    fn node(&self) -> Option<NodeId> {
        self.cluster.as_ref().map(|c| c.config.node)
    }

    /// Why a login of `name` cannot be taken now, in a cluster: the store is away, or another
    /// coordinator lists the name.
    pub(super) fn cluster_refuses(&self, name: &Name) -> Option<RejectReason> {
        let cluster = self.cluster.as_ref()?;
        if !cluster.up {
            return Some(RejectReason::Unavailable);
        }
        cluster
            .remote
            .get(name)
            .is_some()
            .then_some(RejectReason::NameTaken)
    }

    /// Asks the store for `name` on behalf of the login `epoch`; true if there is a store to ask
    /// (the login is then accepted only once it answers).
    pub(super) fn claim_in_store(&mut self, name: &Name, epoch: Epoch) -> bool {
        if self.cluster.is_none() {
            return false;
        }
        self.store(StoreCommand::Claim {
            name: name.clone(),
            ticket: epoch,
        });
        true
    }

    /// A login that held `name` in the store will not become a session.
    pub(super) fn unclaim(&mut self, name: &Name) {
        if self.cluster.is_some() && !self.by_name.contains_key(name) {
            self.store(StoreCommand::Release { name: name.clone() });
        }
    }

    /// Our session `epoch` is listed: the cluster is told.
    pub(super) fn publish_join(&mut self, epoch: Epoch) {
        let Some(node) = self.node() else {
            return;
        };
        let Some(session) = self.sessions.get(&epoch) else {
            return;
        };
        let member = Member {
            node,
            entry: session.entry.clone(),
            key: session.key,
            classic: session.is_classic(),
        };
        self.store(StoreCommand::Join(member));
    }

    /// Our member `name` left.
    pub(super) fn publish_leave(&mut self, name: &Name) {
        if self.cluster.is_some() {
            self.store(StoreCommand::Leave { name: name.clone() });
        }
    }

    fn store_up(&mut self, now: Instant) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        cluster.up = true;
        let check_interval = cluster.config.check_interval;
        self.events.push_back(ServerEvent::Store { up: true });
        self.on_heartbeat(now);
        // Everything the store may have lost or kept wrongly: our names (what we no longer want
        // is given up, what we want claimed again), then our members (once their names are
        // granted again), then everyone else's.
        self.store(StoreCommand::Forget);
        let mut claims: Vec<(Name, Epoch)> = self
            .sessions
            .iter()
            .map(|(epoch, s)| (s.entry.name.clone(), epoch))
            .collect();
        // A login accepted before is not ours again until the store says so: no session is made
        // of it meanwhile (a store that restarted may have given the name to another
        // coordinator).
        for (name, pending) in self.pending.iter_mut().filter(|(_, p)| p.granted) {
            pending.granted = false;
            claims.push((name.clone(), pending.epoch));
        }
        for (name, ticket) in claims {
            self.store(StoreCommand::Claim { name, ticket });
        }
        self.store(StoreCommand::Sync);
        self.timers.set(now + check_interval, Timer::CheckNodes);
    }

    /// The store is away: the logins waiting for it are refused, the sessions stay, and so does
    /// what we know of the other coordinators until the store says otherwise.
    fn store_down(&mut self) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        if !cluster.up {
            return;
        }
        cluster.up = false;
        self.events.push_back(ServerEvent::Store { up: false });
        self.timers.cancel(&Timer::Heartbeat);
        self.timers.cancel(&Timer::CheckNodes);
        let waiting: Vec<Name> = self
            .pending
            .iter()
            .filter(|(_, p)| !p.granted)
            .map(|(name, _)| name.clone())
            .collect();
        for name in waiting {
            if let Some(origin) = self.drop_pending(&name) {
                self.reject(origin, RejectReason::Unavailable);
            }
        }
    }

    /// The whole registry: what we did not know joins, what changed moves, and what is missing is
    /// kept a while for its coordinator to publish it again (a store that restarted lost it).
    fn synced(&mut self, now: Instant, members: Vec<Member>) {
        let Some(node) = self.node() else {
            return;
        };
        let listed: std::collections::HashSet<Name> = members
            .iter()
            .filter(|m| m.node != node)
            .map(|m| m.entry.name.clone())
            .collect();
        // Ours in the store but no more here: their leaves were lost while it was away.
        let gone: Vec<Name> = members
            .iter()
            .filter(|m| m.node == node && !self.by_name.contains_key(&m.entry.name))
            .map(|m| m.entry.name.clone())
            .collect();
        for name in gone {
            self.publish_leave(&name);
        }
        for member in members {
            self.remote_joined(member);
        }
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let deadline = now + cluster.config.lease + cluster.config.confirm_after;
        let missing: Vec<Name> = cluster
            .remote
            .members()
            .map(|m| m.entry.name.clone())
            .filter(|name| !listed.contains(name))
            .collect();
        for name in missing {
            cluster.remote.unconfirmed.entry(name).or_insert(deadline);
        }
        if !cluster.remote.unconfirmed.is_empty() {
            self.timers.set(deadline, Timer::ConfirmRemote);
        }
    }

    /// A member of another coordinator is listed (or listed again: the same member changes
    /// nothing, another endpoint or key moves it).
    fn remote_joined(&mut self, member: Member) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        if member.node == cluster.config.node {
            return;
        }
        let name = member.entry.name.clone();
        cluster.remote.unconfirmed.remove(&name);
        if cluster.remote.get(&name) == Some(&member) {
            return;
        }
        // Ours too: a race the claims settle (one of the two is refused its name and leaves).
        if self.by_name.contains_key(&name) {
            return;
        }
        self.remote_left_any(&name);
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        cluster.remote.insert(member.clone());
        self.broadcast_presence(Presence::Join, &member.entry, member.classic, member.key);
    }

    fn remote_left(&mut self, node: NodeId, name: &Name) {
        let ours = self
            .cluster
            .as_ref()
            .and_then(|c| c.remote.get(name))
            .is_some_and(|m| m.node == node);
        if ours {
            self.remote_left_any(name);
        }
    }

    /// Unlists a member of another coordinator, telling our sessions.
    fn remote_left_any(&mut self, name: &Name) {
        let Some(member) = self.cluster.as_mut().and_then(|c| c.remote.remove(name)) else {
            return;
        };
        self.broadcast_presence(Presence::Leave, &member.entry, member.classic, None);
    }

    fn claimed(&mut self, now: Instant, name: &Name, ticket: Epoch, granted: bool) {
        if let Some(pending) = self.pending.get_mut(name).filter(|p| p.epoch == ticket) {
            let held = pending.held.take();
            if !granted {
                if let Some((conn, _)) = held {
                    self.refuse(conn, ErrorReason::NameTaken);
                }
                if let Some(origin) = self.drop_pending(name) {
                    self.reject(origin, RejectReason::NameTaken);
                }
                return;
            }
            if !pending.granted {
                pending.granted = true;
                let origin = pending.origin;
                self.accept(name.clone(), origin);
            }
            if let Some((conn, key)) = held {
                self.bind(now, conn, name, key);
            }
            return;
        }
        if self.by_name.get(name) == Some(&ticket) {
            // Our member, claimed again after the store was away.
            if granted {
                self.publish_join(ticket);
            } else {
                self.drop_session(ticket, LeaveReason::Replaced, ErrorReason::NameTaken);
            }
            return;
        }
        if granted && !self.pending.contains_key(name) {
            self.unclaim(name);
        }
    }

    /// Coordinators found without a lease: reaped on the second finding `confirm_after` apart.
    fn checked(&mut self, now: Instant, dead: &[NodeId]) {
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let confirm_after = cluster.config.confirm_after;
        let suspects = &mut cluster.remote.suspects;
        suspects.retain(|node, _| dead.contains(node));
        let mut reap = Vec::new();
        for &node in dead {
            let since = *suspects.entry(node).or_insert(now);
            if now.saturating_duration_since(since) >= confirm_after {
                suspects.remove(&node);
                reap.push(node);
            }
        }
        for node in reap {
            self.events.push_back(ServerEvent::Reaping { node });
            self.store(StoreCommand::Reap(node));
        }
    }

    fn mail(&mut self, mail: Mail) {
        match mail {
            Mail::Relay { from, to, payload } => match self.native_conn(&to) {
                Some(conn) => self.deliver_relay(conn, from, payload),
                None => self.stats.relay_refused += 1,
            },
            Mail::Intro { from, to } => {
                if let Some(conn) = self.native_conn(&to) {
                    self.deliver_intro(conn, from);
                }
            }
        }
    }

    /// A native member of another coordinator, for a relay or an introduction.
    pub(super) fn remote_native(&self, name: &Name) -> Option<Member> {
        let member = self.cluster.as_ref()?.remote.get(name)?;
        (!member.classic).then(|| member.clone())
    }

    /// Sends mail to the coordinator of `to`.
    pub(super) fn send_mail(&mut self, to: NodeId, mail: Mail) {
        self.store(StoreCommand::Mail { to, mail });
    }

    pub(super) fn on_heartbeat(&mut self, now: Instant) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        if cluster.up {
            let lease = cluster.config.lease;
            self.store(StoreCommand::Heartbeat { lease });
            self.timers.set(now + lease / 3, Timer::Heartbeat);
        }
    }

    pub(super) fn on_check_nodes(&mut self, now: Instant) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        if !cluster.up {
            return;
        }
        let nodes = cluster.remote.nodes();
        let next = now + cluster.config.check_interval;
        if !nodes.is_empty() {
            self.store(StoreCommand::CheckNodes(nodes));
        }
        self.timers.set(next, Timer::CheckNodes);
    }

    /// Members the store did not list again in time are gone.
    pub(super) fn on_confirm_remote(&mut self, now: Instant) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        let due: Vec<Name> = cluster
            .remote
            .unconfirmed
            .iter()
            .filter(|(_, &at)| at <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            self.remote_left_any(&name);
        }
        let next = self
            .cluster
            .as_ref()
            .and_then(|c| c.remote.unconfirmed.values().min().copied());
        if let Some(at) = next {
            self.timers.set(at, Timer::ConfirmRemote);
        }
    }
}
