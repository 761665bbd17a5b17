//! Everyone online, in registration order, with the native snapshot kept encoded. Each session's
//! part of the snapshot (its `name,endpoint;` entry, its `dialect` line if classic, its `key`
//! line) is formatted once, when it registers, and appended to three running buffers; a snapshot
//! is then three copies. A departure leaves a hole: the buffers are rebuilt from the sessions'
//! own encoded parts (copies again, no formatting) before the next snapshot. In a login storm,
//! where every login sends an O(N) snapshot, this is the difference between formatting N
//! endpoints per login and copying N·25 bytes.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::state::{Epoch, Session};
use crate::wire::{encode_snapshot_entry, Dialect, ServerLine};

/// A session's part of the snapshot, encoded.
#[derive(Debug)]
pub(crate) struct Listed {
    entry: Box<[u8]>,
    /// `dialect,<name>,classic\n` for a classic user.
    dialect: Option<Box<[u8]>>,
    /// `key,<name>,<hex>\n` for a user that announced a key.
    key: Option<Box<[u8]>>,
}

impl Listed {
    fn of(session: &Session) -> Self {
        let name = &session.entry.name;
        let line = |line: ServerLine| Some(line.to_vec().into_boxed_slice());
        Listed {
            entry: encode_snapshot_entry(name, session.entry.endpoint).into_boxed_slice(),
            dialect: session
                .is_classic()
                .then(|| {
                    line(ServerLine::Dialect {
                        name: name.clone(),
                        dialect: Dialect::Classic,
                    })
                })
                .flatten(),
            key: session.key.and_then(|key| {
                line(ServerLine::Key {
                    name: name.clone(),
                    key,
                })
            }),
        }
    }
}

/// The sessions, by epoch (so in registration order), and the snapshot's three sections.
#[derive(Debug, Default)]
pub(crate) struct Online {
    sessions: BTreeMap<Epoch, (Session, Listed)>,
    entries: Vec<u8>,
    dialects: Vec<u8>,
    keys: Vec<u8>,
    /// A session left since the sections were built: they hold it still.
    stale: bool,
}

impl Online {
    /// Registers `session` under `epoch`, which must be above every epoch registered so far (the
    /// snapshot lists in registration order).
    pub(crate) fn insert(&mut self, epoch: Epoch, session: Session) {
        debug_assert!(self
            .sessions
            .keys()
            .next_back()
            .is_none_or(|&last| last < epoch));
        let listed = Listed::of(&session);
        if !self.stale {
            append(
                &listed,
                &mut self.entries,
                &mut self.dialects,
                &mut self.keys,
            );
        }
        self.sessions.insert(epoch, (session, listed));
    }

    pub(crate) fn remove(&mut self, epoch: Epoch) -> Option<Session> {
        let (session, _) = self.sessions.remove(&epoch)?;
        self.stale = true;
        Some(session)
    }

    /// Every session, in registration order, leaving none.
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = Session> {
        let sessions = std::mem::take(self);
        sessions.sessions.into_values().map(|(session, _)| session)
    }

    pub(crate) fn get(&self, epoch: &Epoch) -> Option<&Session> {
        self.sessions.get(epoch).map(|(session, _)| session)
    }

    /// For what a session may change in place: never its entry, dialect or key, which the
    /// snapshot holds encoded.
    pub(crate) fn get_mut(&mut self, epoch: &Epoch) -> Option<&mut Session> {
        self.sessions.get_mut(epoch).map(|(session, _)| session)
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// In registration order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Session> + '_ {
        self.sessions.values().map(|(session, _)| session)
    }

    /// The native snapshot: every entry, `end`, then the classic users' `dialect` lines and the
    /// `key` lines, each section in registration order.
    pub(crate) fn snapshot(&mut self) -> Bytes {
        if self.stale {
            self.entries.clear();
            self.dialects.clear();
            self.keys.clear();
            for (_, listed) in self.sessions.values() {
                append(
                    listed,
                    &mut self.entries,
                    &mut self.dialects,
                    &mut self.keys,
                );
            }
            self.stale = false;
        }
        const END: &[u8] = b"end\n";
        let mut out = Vec::with_capacity(
            self.entries.len() + END.len() + self.dialects.len() + self.keys.len(),
        );
        out.extend_from_slice(&self.entries);
        out.extend_from_slice(END);
        out.extend_from_slice(&self.dialects);
        out.extend_from_slice(&self.keys);
        Bytes::from(out)
    }
}

fn append(listed: &Listed, entries: &mut Vec<u8>, dialects: &mut Vec<u8>, keys: &mut Vec<u8>) {
    entries.extend_from_slice(&listed.entry);
    if let Some(line) = &listed.dialect {
        dialects.extend_from_slice(line);
    }
    if let Some(line) = &listed.key {
        keys.extend_from_slice(line);
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
    use crate::wire::{encode_snapshot, Name, PublicKey, UserEntry};

    fn session(i: u16, classic: bool, keyed: bool) -> Session {
        let name = Name::new(&format!("user{i}")).expect("a valid name");
        let endpoint = SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 1000 + i));
        let conn = (!classic).then_some(ConnId(u64::from(i)));
        let key = keyed.then(|| PublicKey::from_bytes([i as u8; 32]));
        let entry = UserEntry { name, endpoint };
        Session::new(entry, conn, key, Instant::now(), &ServerConfig::default())
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
                        let epochs: Vec<Epoch> = online.sessions.keys().copied().collect();
                        if !epochs.is_empty() {
                            let epoch = epochs[usize::from(pick) % epochs.len()];
                            prop_assert!(online.remove(epoch).is_some());
                            prop_assert!(online.remove(epoch).is_none());
                        }
                    }
                    _ => {
                        let expected = formatted(&online);
                        prop_assert_eq!(&online.snapshot()[..], &expected[..]);
                    }
                }
            }
            let expected = formatted(&online);
            prop_assert_eq!(&online.snapshot()[..], &expected[..]);
        }
    }
}
