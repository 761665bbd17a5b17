//! Everyone online here, in registration order, with their part of the native snapshot kept
//! encoded (see [`super::listing`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::listing::{Listed, Listing, Sections};
use super::state::{Epoch, Session};

/// The sessions, by epoch (so in registration order), and their snapshot sections.
#[derive(Debug, Default)]
pub(crate) struct Online {
    sessions: Listing<Epoch, Session>,
    /// Of `sessions`, the classic ones and where they are reached: a broadcast sends each its
    /// datagram without looking through everyone else.
    classic: BTreeMap<Epoch, SocketAddr>,
}

impl Online {
    /// Registers `session` under `epoch`, which must be above every epoch registered so far (the
    /// snapshot lists in registration order).
    pub(crate) fn insert(&mut self, epoch: Epoch, session: Session) {
        let entry = &session.entry;
        let listed = Listed::new(
            &entry.name,
            entry.endpoint,
            session.is_classic(),
            session.key,
        );
        if session.is_classic() {
            self.classic.insert(epoch, entry.endpoint);
        }
        self.sessions.insert(epoch, session, listed);
    }

    pub(crate) fn remove(&mut self, epoch: Epoch) -> Option<Session> {
        let session = self.sessions.remove(&epoch)?;
        self.classic.remove(&epoch);
        Some(session)
    }

    /// Every session, in registration order, leaving none.
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = Session> {
        let Online { sessions, classic } = self;
        classic.clear();
        sessions.take_all()
    }

    pub(crate) fn get(&self, epoch: &Epoch) -> Option<&Session> {
        self.sessions.get(epoch)
    }

    /// For what a session may change in place: never its entry, dialect or key, which the
    /// snapshot holds encoded.
    pub(crate) fn get_mut(&mut self, epoch: &Epoch) -> Option<&mut Session> {
        self.sessions.get_mut(epoch)
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// How many are native (reached by a broadcast on their TCP sessions).
    pub(crate) fn native_count(&self) -> usize {
        self.sessions.len() - self.classic.len()
    }

    /// Where each classic user is reached, in registration order.
    pub(crate) fn classic_endpoints(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.classic.values().copied()
    }

    /// In registration order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Session> + '_ {
        self.sessions.values()
    }

    /// With their epochs, in registration order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Epoch, &Session)> + '_ {
        self.sessions.iter()
    }

    /// The sections, up to date.
    pub(crate) fn sections(&mut self) -> &Sections {
        self.sessions.sections()
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Instant;

    use proptest::prelude::*;

    use super::*;
    use crate::server::config::ServerConfig;
    use crate::server::output::ConnId;
    use crate::wire::{encode_snapshot, Dialect, Name, PublicKey, ServerLine, UserEntry};

    fn session(i: u16, classic: bool, keyed: bool) -> Session {
        let name = Name::new(&format!("user{i}")).expect("a valid name");
        let endpoint = SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 1000 + i));
        let conn = (!classic).then_some(ConnId(u64::from(i)));
        let key = keyed.then(|| PublicKey::from_bytes([i as u8; 32]));
        let entry = UserEntry { name, endpoint };
        Session::new(entry, conn, key, Instant::now(), &ServerConfig::default())
    }

    fn snapshot(online: &mut Online) -> Vec<u8> {
        Sections::snapshot(&[online.sections()])
    }

    /// The snapshot formatted from scratch, as the server did before it kept one encoded.
    fn formatted(online: &Online) -> Vec<u8> {
        let mut out = Vec::new();
        encode_snapshot(
            &mut out,
            online.values().map(|s| (&s.entry.name, s.entry.endpoint)),
        );
        for s in online.values().filter(|s| s.is_classic()) {
            ServerLine::Dialect {
                name: s.entry.name.clone(),
                dialect: Dialect::Classic,
            }
            .encode(&mut out);
        }
        for s in online.values() {
            if let Some(key) = s.key {
                ServerLine::Key {
                    name: s.entry.name.clone(),
                    key,
                }
                .encode(&mut out);
            }
        }
        out
    }

    proptest! {
        /// Whatever joins and leaves, in whatever order, and whenever snapshots are taken, each
        /// snapshot is byte for byte the one formatted from the sessions online.
        #[test]
        fn every_snapshot_is_the_formatted_one(
            ops in proptest::collection::vec((0u8..4, any::<bool>(), any::<bool>(), any::<u16>()), 0..80),
        ) {
            let mut online = Online::default();
            let mut next_epoch: Epoch = 1;
            for (i, (op, classic, keyed, pick)) in ops.into_iter().enumerate() {
                match op {
                    0 | 1 => {
                        online.insert(next_epoch, session(i as u16, classic, keyed));
                        next_epoch += 1;
                    }
                    2 => {
                        let epochs: Vec<Epoch> = online.iter().map(|(epoch, _)| epoch).collect();
                        if !epochs.is_empty() {
                            let epoch = epochs[usize::from(pick) % epochs.len()];
                            prop_assert!(online.remove(epoch).is_some());
                            prop_assert!(online.remove(epoch).is_none());
                            let classic: Vec<SocketAddr> = online
                                .values()
                                .filter(|s| s.is_classic())
                                .map(|s| s.entry.endpoint)
                                .collect();
                            prop_assert_eq!(online.classic_endpoints().collect::<Vec<_>>(), classic);
                            let native = online.values().filter(|s| !s.is_classic()).count();
                            prop_assert_eq!(online.native_count(), native);
                        }
                    }
                    _ => {
                        let expected = formatted(&online);
                        prop_assert_eq!(snapshot(&mut online), expected);
                    }
                }
            }
            let expected = formatted(&online);
            prop_assert_eq!(snapshot(&mut online), expected);
        }
    }
}
