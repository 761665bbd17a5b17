//! Any sequence of records gives, after a reopen, the `Restored` that the core's reference fold
//! of the same records ([`ReferenceStore`]) gives.

use feige_core::client::{FailReason, Outcome, ReferenceStore};
use proptest::prelude::*;

use super::*;
use crate::store::Database;

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
        (number(), peer(), ".{0,8}", number())
            .prop_map(|(id, to, text, at)| talked(id, to, &text, at)),
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

/// The shows of one sender over many sessions: more than a store keeps, updated in any order,
/// so its pruning of the least recently updated is exercised on every case.
fn busy_sender_show() -> impl Strategy<Value = Record> {
    (0u64..24, 1u64..6).prop_map(|(sid, seq)| shown("bob", sid, seq, "", true, 0))
}

/// Applies `records` to the model, an in-memory and an on-disk database; what each restores,
/// the on-disk one after a reopen, must be the model's.
fn agrees(records: &[Record]) -> Result<(), TestCaseError> {
    let scratch = Scratch::new("model");
    let mut model = ReferenceStore::default();
    let mut in_memory = Database::open(&Storage::Ephemeral, &alice()).unwrap();
    {
        let mut on_disk = Database::open(&scratch.storage(), &alice()).unwrap();
        for record in records {
            let accepted = model.apply(record);
            prop_assert_eq!(on_disk.apply(record).is_ok(), accepted, "{:?}", record);
            prop_assert_eq!(in_memory.apply(record).is_ok(), accepted, "{:?}", record);
        }
    }
    let expected = model.restored();
    prop_assert_eq!(&in_memory.restored().unwrap(), &expected);
    let reopened = Database::open(&scratch.storage(), &alice()).unwrap();
    prop_assert_eq!(&reopened.restored().unwrap(), &expected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn restored_is_what_the_model_gives(records in proptest::collection::vec(record(), 0..150)) {
        agrees(&records)?;
    }

    #[test]
    fn a_busy_sender_is_pruned_as_the_model_prunes(
        records in proptest::collection::vec(busy_sender_show(), 0..120),
    ) {
        agrees(&records)?;
    }
}
