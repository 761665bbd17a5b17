//! Helping peers find each other across NATs (protocol.md 8.2): introductions, which make both
//! sides probe each other at once, and the relay, which carries their sealed datagrams over the
//! two TCP sessions when no direct path works. The server reads neither: a payload is opaque.
//! In a cluster, a member of another coordinator is reached through it (mail by the store).

use std::time::Instant;

use bytes::Bytes;

use crate::wire::{Name, RelayPayload, ServerLine, UserEntry};

use super::cluster::{Mail, NodeId};
use super::state::Epoch;
use super::{ConnId, Server, ServerTransmit};

/// Where a native member is reached: on one of our connections, or through its coordinator.
enum Reach {
    Here(ConnId),
    Node(NodeId),
}

impl Server {
    /// `intro,<target>` from the session `epoch`: each side is told the other's endpoint, in the
    /// same turn, so their probes cross. Dropped (and counted) past the session's budget, or for
    /// a target that is not a native session online, or itself.
    pub(super) fn introduce(&mut self, now: Instant, epoch: Epoch, target: &Name) {
        let Some((asker, to_asker)) = self.native_session(epoch) else {
            return;
        };
        let found = self.reach(epoch, target);
        let within_budget = found.is_some()
            && self
                .sessions
                .get_mut(&epoch)
                .is_some_and(|s| s.intros.spend(now, 1));
        let (Some((target, reach)), true) = (found, within_budget) else {
            self.stats.introductions_refused += 1;
            return;
        };
        self.stats.introductions += 1;
        self.deliver_intro(to_asker, target.clone());
        match reach {
            Reach::Here(conn) => self.deliver_intro(conn, asker),
            Reach::Node(node) => self.send_mail(
                node,
                Mail::Intro {
                    from: asker,
                    to: target.name,
                },
            ),
        }
    }

    /// `relay,<to>,<payload>` from the session `epoch`: forwarded to `to` as coming from the
    /// sender's name. Dropped (and counted) when relaying is off, past the sender's byte budget,
    /// or when `to` is not a native session online.
    pub(super) fn relay(&mut self, now: Instant, epoch: Epoch, to: &Name, payload: &RelayPayload) {
        let target = self.reach(epoch, to).map(|(_, reach)| reach);
        let sender = self.sessions.get_mut(&epoch);
        let cost = u32::try_from(payload.as_str().len()).unwrap_or(u32::MAX);
        let (Some(reach), Some(sender), true) = (target, sender, self.config.relay) else {
            self.stats.relay_refused += 1;
            return;
        };
        if !sender.relayed.spend(now, cost) {
            self.stats.relay_refused += 1;
            return;
        }
        let from = sender.entry.name.clone();
        match reach {
            Reach::Here(conn) => self.deliver_relay(conn, from, payload.clone()),
            // Counted where it is delivered.
            Reach::Node(node) => self.send_mail(
                node,
                Mail::Relay {
                    from,
                    to: to.clone(),
                    payload: payload.clone(),
                },
            ),
        }
    }

    /// The native member `target`, other than the session `asker`: its entry, and where it is
    /// reached.
    fn reach(&self, asker: Epoch, target: &Name) -> Option<(UserEntry, Reach)> {
        match self.by_name.get(target).copied() {
            Some(e) => (e != asker)
                .then(|| self.native_session(e))
                .flatten()
                .map(|(entry, conn)| (entry, Reach::Here(conn))),
            None => self
                .remote_native(target)
                .map(|m| (m.entry, Reach::Node(m.node))),
        }
    }

    /// Tells our session on `conn` where `whom` is, for both to probe.
    pub(super) fn deliver_intro(&mut self, conn: ConnId, whom: UserEntry) {
        let data = Bytes::from(ServerLine::Intro(whom).to_vec());
        self.transmits
            .push_back(ServerTransmit::Send { conn, data });
    }

    /// Hands our session on `conn` a datagram relayed from `from` (counted here, where it is
    /// delivered).
    pub(super) fn deliver_relay(&mut self, conn: ConnId, from: Name, payload: RelayPayload) {
        let line = ServerLine::Relay { from, payload }.to_vec();
        self.stats.relayed += 1;
        self.stats.relayed_bytes += line.len() as u64;
        self.transmits.push_back(ServerTransmit::Send {
            conn,
            data: Bytes::from(line),
        });
    }

    /// The entry and connection of a native session online here.
    fn native_session(&self, epoch: Epoch) -> Option<(UserEntry, ConnId)> {
        let session = self.sessions.get(&epoch)?;
        Some((session.entry.clone(), session.conn?))
    }

    /// The connection of our native member `name`.
    pub(super) fn native_conn(&self, name: &Name) -> Option<ConnId> {
        let epoch = self.by_name.get(name)?;
        self.sessions.get(epoch)?.conn
    }
}
