//! Any sequence of records gives, after a reopen, the `Restored` that a plain in-memory model of
//! the same rules gives.

use std::collections::{BTreeMap, BTreeSet};

use feige_core::client::{FailReason, Outcome, Restored, SavedStream};
use feige_core::wire::SessionId;
use proptest::prelude::*;

use super::super::record::STREAMS_PER_PEER;
use super::*;
use crate::store::Database;

/// The rules of `apply` and `restored`, on plain collections.
#[derive(Default)]
struct Model {
    /// Ours by id: the message, and whether it is still queued.
    outgoing: BTreeMap<u64, (SavedMessage, bool)>,
    /// The peers of the messages shown.
    shown_from: BTreeSet<Name>,
    /// (peer, sid) → (last shown, when last updated).
    streams: BTreeMap<(Name, u64), (u64, u64)>,
    /// Updates so far, for the order of the streams' updates.
    clock: u64,
}

impl Model {
    /// Applies `record`; false when the database must refuse it (a message id used already).
    fn apply(&mut self, record: &Record) -> bool {
        self.clock += 1;
        match record {
            Record::Queued(message) => {
                if self.outgoing.contains_key(&message.id.0) {
                    return false;
                }
                self.outgoing.insert(message.id.0, (message.clone(), true));
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
                    self.streams.insert(key, (last, self.clock));
                    self.prune(from);
                }
            }
        }
        true
    }

    fn prune(&mut self, peer: &Name) {
        let mut theirs: Vec<(u64, u64)> = self
            .streams
            .iter()
            .filter(|((from, _), _)| from == peer)
            .map(|((_, sid), &(_, updated))| (updated, *sid))
            .collect();
        theirs.sort_unstable_by(|a, b| b.cmp(a));
        let keep = usize::try_from(STREAMS_PER_PEER).unwrap();
        for (_, sid) in theirs.into_iter().skip(keep) {
            self.streams.remove(&(peer.clone(), sid));
        }
    }

    fn restored(&self) -> Restored {
        let mut outbox: Vec<SavedMessage> = self
            .outgoing
            .values()
            .filter(|(_, queued)| *queued)
            .map(|(message, _)| message.clone())
            .collect();
        outbox.sort_by_key(|message| message.id);
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
        let mut contacts: BTreeSet<Name> = self.shown_from.clone();
        contacts.extend(
            self.outgoing
                .values()
                .map(|(message, _)| message.to.clone()),
        );
        let next_message_id = self
            .outgoing
            .keys()
            .next_back()
            .map_or(1, |id| id.saturating_add(1).max(1));
        Restored {
            outbox,
            streams: streams.into_iter().map(|(_, _, stream)| stream).collect(),
            contacts: contacts.into_iter().collect(),
            next_message_id,
        }
    }
}

/// A u64 from a small pool (so that ids and sids repeat), the extremes, or anything.
fn number() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0u64..24,
        1 => Just(u64::MAX),
        1 => Just(1u64 << 63),
        1 => any::<u64>(),
    ]
}

fn peer() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("bob"), Just("carol"), Just("小明")]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Delivered),
        Just(Outcome::Failed(FailReason::Timeout)),
        Just(Outcome::Failed(FailReason::LoggedOut)),
        Just(Outcome::Failed(FailReason::Expired)),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    prop_oneof![
        (number(), peer(), number(), number(), ".{0,8}", number())
            .prop_map(|(id, to, sid, seq, text, at)| queued(id, to, sid, seq, &text, at)),
        (number(), outcome(), number()).prop_map(|(id, outcome, at_ms)| Record::Resolved {
            id: MessageId(id),
            outcome,
            at_ms,
        }),
        (
            peer(),
            number(),
            number(),
            ".{0,8}",
            any::<bool>(),
            number()
        )
            .prop_map(|(from, sid, seq, text, encrypted, at)| shown(
                from, sid, seq, &text, encrypted, at
            )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn restored_is_what_the_model_gives(records in proptest::collection::vec(record(), 0..150)) {
        let scratch = Scratch::new("model");
        let mut model = Model::default();
        let mut in_memory = Database::open(&Storage::Ephemeral, &alice()).unwrap();
        {
            let mut on_disk = Database::open(&scratch.storage(), &alice()).unwrap();
            for record in &records {
                let accepted = model.apply(record);
                prop_assert_eq!(on_disk.apply(record).is_ok(), accepted, "{:?}", record);
                prop_assert_eq!(in_memory.apply(record).is_ok(), accepted, "{:?}", record);
            }
        }
        let expected = model.restored();
        prop_assert_eq!(&in_memory.restored().unwrap(), &expected);
        let reopened = Database::open(&scratch.storage(), &alice()).unwrap();
        prop_assert_eq!(&reopened.restored().unwrap(), &expected);
    }
}
