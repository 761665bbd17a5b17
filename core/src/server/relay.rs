//! Helping peers find each other across NATs (protocol.md 8.2): introductions, which make both
//! sides probe each other at once, and the relay, which carries their sealed datagrams over the
//! two TCP sessions when no direct path works. The server reads neither: a payload is opaque.

use std::time::Instant;

use bytes::Bytes;

use crate::wire::{Name, RelayPayload, ServerLine};

use super::state::Epoch;
use super::{Server, ServerTransmit};

impl Server {
    /// `intro,<target>` from the session `epoch`: each side is told the other's endpoint, in the
    /// same turn, so their probes cross. Dropped (and counted) past the session's budget, or for
    /// a target that is not a native session online, or itself.
    pub(super) fn introduce(&mut self, now: Instant, epoch: Epoch, target: &Name) {
        let Some((asker, to_asker)) = self.native_session(epoch) else {
            return;
        };
        let target_epoch = self.by_name.get(target).copied();
        let found = target_epoch
            .filter(|&e| e != epoch)
            .and_then(|e| self.native_session(e));
        let within_budget = found.is_some()
            && self
                .sessions
                .get_mut(&epoch)
                .is_some_and(|s| s.intros.spend(now, 1));
        let (Some((target, to_target)), true) = (found, within_budget) else {
            self.stats.introductions_refused += 1;
            return;
        };
        self.stats.introductions += 1;
        for (conn, about) in [(to_asker, target), (to_target, asker)] {
            let data = Bytes::from(ServerLine::Intro(about).to_vec());
            self.transmits
                .push_back(ServerTransmit::Send { conn, data });
        }
    }

    /// `relay,<to>,<payload>` from the session `epoch`: forwarded to `to` as coming from the
    /// sender's name. Dropped (and counted) when relaying is off, past the sender's byte budget,
    /// or when `to` is not a native session online.
    pub(super) fn relay(&mut self, now: Instant, epoch: Epoch, to: &Name, payload: &RelayPayload) {
        let target = self
            .by_name
            .get(to)
            .copied()
            .filter(|&e| e != epoch)
            .and_then(|e| self.native_session(e));
        let sender = self.sessions.get_mut(&epoch);
        let cost = u32::try_from(payload.as_str().len()).unwrap_or(u32::MAX);
        let (Some((_, conn)), Some(sender), true) = (target, sender, self.config.relay) else {
            self.stats.relay_refused += 1;
            return;
        };
        if !sender.relayed.spend(now, cost) {
            self.stats.relay_refused += 1;
            return;
        }
        let line = ServerLine::Relay {
            from: sender.entry.name.clone(),
            payload: payload.clone(),
        }
        .to_vec();
        self.stats.relayed += 1;
        self.stats.relayed_bytes += line.len() as u64;
        self.transmits.push_back(ServerTransmit::Send {
            conn,
            data: Bytes::from(line),
        });
    }

    /// The entry and connection of a native session online.
    fn native_session(&self, epoch: Epoch) -> Option<(crate::wire::UserEntry, super::ConnId)> {
        let session = self.sessions.get(&epoch)?;
        Some((session.entry.clone(), session.conn?))
    }
}
