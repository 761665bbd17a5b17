//! What a store gives back from the records it was given: the reference any store is measured
//! against (the application's SQLite store in its tests, the simulator's in-memory one).

use std::collections::{BTreeMap, BTreeSet};

use super::chat::SESSIONS_KEPT_PER_PEER;
use super::persist::{Record, Restored, SavedMessage, SavedStream};
use crate::wire::{Name, SessionId};

/// The records applied so far, folded into what a new run restores. A store keeps:
/// - every message queued, once per id (a second message with a used id is refused); the outbox
///   is those not resolved, by id;
/// - every message talked to a textbook peer, once per id, sharing the ids of the queued ones
///   (never in the outbox);
/// - per (sender, session) the highest seq shown sealed, for the [`SESSIONS_KEPT_PER_PEER`]
///   streams of each sender updated last;
/// - as contacts, everyone a message went to or came from;
/// - the next message id: above every id recorded (at least 1).
#[derive(Debug, Clone, Default)]
pub struct ReferenceStore {
    /// Ours by id: the message, and whether it is still queued.
    outgoing: BTreeMap<u64, (SavedMessage, bool)>,
    /// Ours to textbook peers by id: the recipient.
    talked: BTreeMap<u64, Name>,
    /// Senders of the messages shown.
    shown_from: BTreeSet<Name>,
    /// (sender, sid) → (last shown, when last updated).
    streams: BTreeMap<(Name, u64), (u64, u64)>,
    /// Records applied, which orders the streams' updates.
    applied: u64,
}

impl ReferenceStore {
    /// Applies `record`; false when a store must refuse it (a message id used already).
    pub fn apply(&mut self, record: &Record) -> bool {
        self.applied += 1;
        match record {
            Record::Queued(message) => {
                if self.is_used(message.id.0) {
                    return false;
                }
                self.outgoing.insert(message.id.0, (message.clone(), true));
            }
            Record::Talked { id, to, .. } => {
                if self.is_used(id.0) {
                    return false;
                }
                self.talked.insert(id.0, to.clone());
            }
            Record::Resolved { id, .. } => {
                if let Some((_, queued)) = self.outgoing.get_mut(&id.0) {
                    *queued = false;
                }
            }
            Record::Shown {
                from,
                sid,
                seq,
                encrypted,
                ..
            } => {
                self.shown_from.insert(from.clone());
                if *encrypted {
                    let key = (from.clone(), sid.value());
                    let last = self
                        .streams
                        .get(&key)
                        .map_or(*seq, |&(last, _)| last.max(*seq));
                    self.streams.insert(key, (last, self.applied));
                    self.prune(from);
                }
            }
        }
        true
    }

    fn is_used(&self, id: u64) -> bool {
        self.outgoing.contains_key(&id) || self.talked.contains_key(&id)
    }

    /// Keeps the sender's streams updated last.
    fn prune(&mut self, from: &Name) {
        let theirs = (from.clone(), 0)..=(from.clone(), u64::MAX);
        let mut theirs: Vec<(u64, u64)> = self
            .streams
            .range(theirs)
            .map(|((_, sid), &(_, updated))| (updated, *sid))
            .collect();
        theirs.sort_unstable_by(|a, b| b.cmp(a));
        for (_, sid) in theirs.into_iter().skip(SESSIONS_KEPT_PER_PEER) {
            self.streams.remove(&(from.clone(), sid));
        }
    }

    /// What a new run restores: the outbox by id, the streams by sender then by update, the
    /// contacts by name.
    pub fn restored(&self) -> Restored {
        let outbox = self
            .outgoing
            .values()
            .filter(|(_, queued)| *queued)
            .map(|(message, _)| message.clone())
            .collect();
        let mut streams: Vec<(&Name, u64, SavedStream)> = self
            .streams
            .iter()
            .map(|((from, sid), &(last_shown, updated))| {
                let saved = SavedStream {
                    from: from.clone(),
                    sid: SessionId::new(*sid),
                    last_shown,
                };
                (from, updated, saved)
            })
            .collect();
        streams.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut contacts = self.shown_from.clone();
        contacts.extend(
            self.outgoing
                .values()
                .map(|(message, _)| message.to.clone()),
        );
        contacts.extend(self.talked.values().cloned());
        let highest = self
            .outgoing
            .keys()
            .next_back()
            .max(self.talked.keys().next_back());
        let next_message_id = highest.map_or(1, |id| id.saturating_add(1).max(1));
        Restored {
            outbox,
            streams: streams.into_iter().map(|(_, _, stream)| stream).collect(),
            contacts: contacts.into_iter().collect(),
            next_message_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{MessageId, Outcome};

    fn name(s: &str) -> Name {
        Name::new(s).expect("a valid name")
    }

    fn queued(id: u64, to: &str) -> Record {
        Record::Queued(SavedMessage {
            id: MessageId(id),
            to: name(to),
            sid: SessionId::new(7),
            seq: id,
            text: format!("m{id}"),
            written_ms: 0,
        })
    }

    fn shown(from: &str, sid: u64, seq: u64, encrypted: bool) -> Record {
        Record::Shown {
            from: name(from),
            sid: SessionId::new(sid),
            seq,
            text: String::new(),
            encrypted,
            at_ms: 0,
        }
    }

    #[test]
    fn the_outbox_is_what_was_queued_and_not_resolved_and_ids_are_never_reused() {
        let mut store = ReferenceStore::default();
        assert!(store.apply(&queued(3, "bob")));
        assert!(store.apply(&queued(1, "carol")));
        assert!(!store.apply(&queued(3, "dave")), "id 3 is taken");
        store.apply(&Record::Resolved {
            id: MessageId(3),
            outcome: Outcome::Delivered,
            at_ms: 0,
        });
        let restored = store.restored();
        assert_eq!(
            restored.outbox.iter().map(|m| m.id.0).collect::<Vec<_>>(),
            [1]
        );
        assert_eq!(restored.next_message_id, 4, "above the resolved one too");
        assert_eq!(restored.contacts, [name("bob"), name("carol")]);
    }

    fn talked(id: u64, to: &str) -> Record {
        Record::Talked {
            id: MessageId(id),
            to: name(to),
            text: format!("t{id}"),
            at_ms: 0,
        }
    }

    #[test]
    fn a_talk_uses_its_id_names_a_contact_and_never_enters_the_outbox() {
        let mut store = ReferenceStore::default();
        assert!(store.apply(&talked(5, "tom")));
        assert!(!store.apply(&queued(5, "bob")), "id 5 is taken by the talk");
        assert!(store.apply(&queued(2, "bob")));
        assert!(
            !store.apply(&talked(2, "tom")),
            "id 2 is taken by the message"
        );
        let restored = store.restored();
        assert_eq!(
            restored.outbox.iter().map(|m| m.id.0).collect::<Vec<_>>(),
            [2]
        );
        assert_eq!(restored.next_message_id, 6, "above the talk");
        assert_eq!(restored.contacts, [name("bob"), name("tom")]);
    }

    #[test]
    fn a_sender_keeps_its_streams_updated_last_with_their_highest_seq() {
        let mut store = ReferenceStore::default();
        store.apply(&shown("bob", 0, 5, true));
        store.apply(&shown("bob", 0, 2, true));
        store.apply(&shown("carol", 9, 1, false));
        for sid in 1..=SESSIONS_KEPT_PER_PEER as u64 {
            store.apply(&shown("bob", sid, 1, true));
        }
        let restored = store.restored();
        let bob: Vec<(u64, u64)> = restored
            .streams
            .iter()
            .map(|s| (s.sid.value(), s.last_shown))
            .collect();
        let expected: Vec<(u64, u64)> = (1..=SESSIONS_KEPT_PER_PEER as u64)
            .map(|sid| (sid, 1))
            .collect();
        assert_eq!(bob, expected, "session 0, updated first, pruned");
        assert_eq!(restored.contacts, [name("bob"), name("carol")]);
        let mut again = ReferenceStore::default();
        again.apply(&shown("bob", 0, 5, true));
        again.apply(&shown("bob", 0, 2, true));
        assert_eq!(
            again.restored().streams[0].last_shown,
            5,
            "the highest seq shown"
        );
    }
}
