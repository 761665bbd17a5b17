//! The core's records in, the `Restored`, the history and the pins out.

use feige_core::client::{FailReason, MessageId, Restored, SavedStream};
use feige_core::wire::{PublicKey, SessionId};

use super::super::record::STREAMS_PER_PEER;
use super::*;
use crate::store::{Database, HistoryEntry, HistoryStatus};

fn apply_all(db: &mut Database, records: &[Record]) {
    for record in records {
        db.apply(record).expect("applied");
    }
}

fn stream(from: &str, sid: u64, last_shown: u64) -> SavedStream {
    SavedStream {
        from: name(from),
        sid: SessionId::new(sid),
        last_shown,
    }
}

#[test]
fn a_new_database_restores_nothing_and_ids_start_at_1() {
    for storage in [Storage::Ephemeral, Scratch::new("empty").storage()] {
        let db = Database::open(&storage, &alice()).unwrap();
        let expected = Restored {
            next_message_id: 1,
            ..Restored::default()
        };
        assert_eq!(db.restored().unwrap(), expected);
        assert_eq!(db.history(&name("bob"), 10).unwrap(), []);
        assert_eq!(db.conversations().unwrap(), Vec::<Name>::new());
    }
}

#[test]
fn every_record_kind_survives_a_reopen() {
    let scratch = Scratch::new("round-trip");
    {
        let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
        apply_all(
            &mut db,
            &[
                queued(1, "bob", 7, 1, "hi", 1_000),
                queued(2, "bob", 7, 2, "still there?", 1_001),
                queued(3, "carol", 7, 1, "yo", 1_002),
                delivered(1, 1_100),
                failed(3, FailReason::Expired, 1_200),
                shown("bob", 9, 5, "back", true, 1_300),
                // A lower seq of the same stream (say, a copy) never lowers `last_shown`.
                shown("bob", 9, 3, "late", true, 1_301),
                shown("bob", 10, 1, "new session", true, 1_302),
                shown("dave", 0, 0, "plain talk", false, 1_400),
            ],
        );
        db.pin(&name("erin"), PublicKey::from_bytes([5; 32]))
            .unwrap();
    }
    let db = Database::open(&scratch.storage(), &alice()).unwrap();
    let restored = db.restored().unwrap();
    assert_eq!(
        restored.outbox,
        [saved(2, "bob", 7, 2, "still there?", 1_001)]
    );
    assert_eq!(
        restored.streams,
        [stream("bob", 9, 5), stream("bob", 10, 1)]
    );
    let contacts = ["bob", "carol", "dave", "erin"].map(name);
    assert_eq!(restored.contacts, contacts);
    assert_eq!(restored.next_message_id, 4);
}

#[test]
fn a_message_resolves_once_and_an_unknown_one_changes_nothing() {
    let mut db = Database::open(&Storage::Ephemeral, &alice()).unwrap();
    apply_all(
        &mut db,
        &[
            queued(1, "bob", 7, 1, "hi", 1_000),
            failed(1, FailReason::Timeout, 1_100),
            delivered(1, 1_200),
            delivered(42, 1_300),
        ],
    );
    let history = db.history(&name("bob"), 10).unwrap();
    assert_eq!(history[0].status, HistoryStatus::Failed("timeout".into()));
    assert_eq!(db.restored().unwrap().outbox, []);
}

#[test]
fn a_second_message_with_the_same_id_is_refused_and_nothing_of_it_is_kept() {
    let mut db = Database::open(&Storage::Ephemeral, &alice()).unwrap();
    db.apply(&queued(1, "bob", 7, 1, "first", 1_000)).unwrap();
    let error = db
        .apply(&queued(1, "carol", 7, 1, "second", 1_001))
        .unwrap_err();
    assert!(
        error.to_string().contains("record a message as queued"),
        "{error}"
    );
    assert_eq!(db.history(&name("carol"), 10).unwrap(), []);
    assert_eq!(db.restored().unwrap().contacts, [name("bob")]);
}

#[test]
fn history_is_both_directions_oldest_first_with_statuses_as_they_were() {
    let scratch = Scratch::new("history");
    {
        let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
        apply_all(
            &mut db,
            &[
                shown("bob", 9, 1, "hello alice", true, 1_000),
                queued(1, "bob", 7, 1, "hi bob", 1_005),
                queued(2, "carol", 7, 1, "not bob's", 1_006),
                queued(3, "bob", 7, 2, "delivered one", 1_010),
                // The same millisecond as ours: recording order decides.
                shown("bob", 9, 2, "same ms, after", true, 1_010),
                queued(4, "bob", 7, 3, "failed one", 1_020),
                shown("bob", 0, 0, "plain", false, 1_030),
                delivered(3, 1_040),
                failed(4, FailReason::Expired, 1_050),
                // Shown later but stamped earlier (a clock step back): time order wins.
                shown("bob", 9, 3, "stamped early", true, 999),
            ],
        );
    }
    let db = Database::open(&scratch.storage(), &alice()).unwrap();
    let bob = name("bob");
    let ours = |id: u64, text: &str, at_ms: u64, status: HistoryStatus| HistoryEntry {
        from: alice(),
        to: bob.clone(),
        text: text.into(),
        at_ms,
        status,
        id: Some(MessageId(id)),
    };
    let theirs = |text: &str, at_ms: u64, encrypted: bool| HistoryEntry {
        from: bob.clone(),
        to: alice(),
        text: text.into(),
        at_ms,
        status: HistoryStatus::Received { encrypted },
        id: None,
    };
    let all = vec![
        theirs("stamped early", 999, true),
        theirs("hello alice", 1_000, true),
        ours(1, "hi bob", 1_005, HistoryStatus::Queued),
        ours(3, "delivered one", 1_010, HistoryStatus::Delivered),
        theirs("same ms, after", 1_010, true),
        ours(
            4,
            "failed one",
            1_020,
            HistoryStatus::Failed("expired".into()),
        ),
        theirs("plain", 1_030, false),
    ];
    assert_eq!(db.history(&bob, 100).unwrap(), all);
    assert_eq!(db.history(&bob, 3).unwrap(), all[4..]);
    assert_eq!(db.history(&bob, 0).unwrap(), []);
    assert_eq!(db.history(&name("dave"), 10).unwrap(), []);
    assert_eq!(db.conversations().unwrap(), [name("bob"), name("carol")]);
}

#[test]
fn talks_to_a_textbook_peer_are_history_only_and_share_the_message_ids() {
    let scratch = Scratch::new("talks");
    {
        let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
        apply_all(
            &mut db,
            &[
                queued(1, "bob", 7, 1, "to bob", 1_000),
                shown("老王", 0, 0, "plain hello", false, 1_010),
                talked(2, "老王", "hi 老王", 1_020),
                talked(3, "老王", "same ms, after", 1_020),
            ],
        );
        for taken in [
            talked(1, "老王", "x", 1_030),
            queued(3, "bob", 7, 2, "x", 1_030),
        ] {
            let error = db.apply(&taken).unwrap_err();
            assert!(error.to_string().contains("recorded already"), "{error}");
        }
    }
    let db = Database::open(&scratch.storage(), &alice()).unwrap();
    let wang = name("老王");
    let ours = |id: u64, text: &str, at_ms: u64| HistoryEntry {
        from: alice(),
        to: wang.clone(),
        text: text.into(),
        at_ms,
        status: HistoryStatus::Sent,
        id: Some(MessageId(id)),
    };
    let theirs = HistoryEntry {
        from: wang.clone(),
        to: alice(),
        text: "plain hello".into(),
        at_ms: 1_010,
        status: HistoryStatus::Received { encrypted: false },
        id: None,
    };
    assert_eq!(
        db.history(&wang, 10).unwrap(),
        [
            theirs,
            ours(2, "hi 老王", 1_020),
            ours(3, "same ms, after", 1_020)
        ]
    );
    assert_eq!(db.conversations().unwrap(), [wang.clone(), name("bob")]);
    let restored = db.restored().unwrap();
    assert_eq!(restored.next_message_id, 4, "above the talks");
    assert_eq!(
        restored.outbox.iter().map(|m| m.id.0).collect::<Vec<_>>(),
        [1],
        "a talk never waits in the outbox"
    );
    assert_eq!(restored.contacts, [name("bob"), wang]);
}

#[test]
fn conversations_are_the_most_recent_first() {
    let mut db = Database::open(&Storage::Ephemeral, &alice()).unwrap();
    apply_all(
        &mut db,
        &[
            queued(1, "bob", 7, 1, "1", 1_000),
            shown("carol", 9, 1, "2", true, 2_000),
            queued(2, "dave", 7, 1, "3", 3_000),
            shown("bob", 0, 0, "4", false, 4_000),
        ],
    );
    db.pin(&name("erin"), PublicKey::from_bytes([5; 32]))
        .unwrap();
    let order = ["bob", "dave", "carol"].map(name);
    assert_eq!(db.conversations().unwrap(), order);
}

#[test]
fn streams_are_pruned_to_the_most_recently_updated_per_peer() {
    let scratch = Scratch::new("prune");
    let limit = u64::try_from(STREAMS_PER_PEER).unwrap();
    {
        let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
        for sid in 0..limit + 4 {
            db.apply(&shown("bob", sid, 1, "hi", true, 1_000)).unwrap();
            if sid == 2 {
                db.apply(&shown("carol", 50, 1, "carol's", true, 1_000))
                    .unwrap();
            }
            // Stream 1 is kept fresh; 0, 2, 3 and 4 fall out.
            db.apply(&shown("bob", 1, sid + 1, "hi", true, 1_000))
                .unwrap();
        }
    }
    let db = Database::open(&scratch.storage(), &alice()).unwrap();
    let streams = db.restored().unwrap().streams;
    let mut expected: Vec<SavedStream> = (5..limit + 4).map(|sid| stream("bob", sid, 1)).collect();
    expected.push(stream("bob", 1, limit + 4));
    expected.push(stream("carol", 50, 1));
    assert_eq!(streams, expected);
    let shown_to_bob = usize::try_from(2 * (limit + 4)).unwrap();
    assert_eq!(db.history(&name("bob"), 1_000).unwrap().len(), shown_to_bob);
}

#[test]
fn the_whole_u64_range_round_trips_in_u64_order() {
    let scratch = Scratch::new("extremes");
    let (top, half) = (u64::MAX, 1u64 << 63);
    {
        let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
        apply_all(
            &mut db,
            &[
                queued(top - 1, "bob", top, top, "top", top),
                queued(1, "bob", 0, 0, "bottom", 0),
                queued(half, "bob", half, half, "half", half),
                shown("bob", top, top, "highest seq", true, 5),
                // 1 is above u64::MAX in i64 order: still not the maximum.
                shown("bob", top, 1, "lower", true, 6),
            ],
        );
    }
    let db = Database::open(&scratch.storage(), &alice()).unwrap();
    let restored = db.restored().unwrap();
    assert_eq!(
        restored.outbox,
        [
            saved(1, "bob", 0, 0, "bottom", 0),
            saved(half, "bob", half, half, "half", half),
            saved(top - 1, "bob", top, top, "top", top),
        ]
    );
    assert_eq!(restored.streams, [stream("bob", top, top)]);
    assert_eq!(restored.next_message_id, top);
    let times: Vec<u64> = db
        .history(&name("bob"), 10)
        .unwrap()
        .iter()
        .map(|entry| entry.at_ms)
        .collect();
    assert_eq!(times, [0, 5, 6, half, top]);
}

#[test]
fn pins_are_kept_and_replaced() {
    let scratch = Scratch::new("pins");
    let (bob, xm) = (name("bob smith"), name("小明"));
    {
        let mut db = Database::open(&scratch.storage(), &alice()).unwrap();
        db.pin(&bob, PublicKey::from_bytes([1; 32])).unwrap();
        db.pin(&xm, PublicKey::from_bytes([2; 32])).unwrap();
        db.pin(&bob, PublicKey::from_bytes([3; 32])).unwrap();
    }
    let db = Database::open(&scratch.storage(), &alice()).unwrap();
    let pins = db.pins().unwrap();
    assert_eq!(pins.len(), 2);
    assert_eq!(pins[&bob], PublicKey::from_bytes([3; 32]));
    assert_eq!(pins[&xm], PublicKey::from_bytes([2; 32]));
}

#[test]
fn in_memory_the_history_lasts_the_run_and_is_each_run_s_own() {
    let mut db = Database::open(&Storage::Ephemeral, &alice()).unwrap();
    apply_all(
        &mut db,
        &[
            queued(1, "bob", 7, 1, "hi", 1_000),
            shown("bob", 9, 1, "hello", true, 1_001),
        ],
    );
    db.pin(&name("bob"), PublicKey::from_bytes([1; 32]))
        .unwrap();
    assert_eq!(db.history(&name("bob"), 10).unwrap().len(), 2);
    assert_eq!(db.restored().unwrap().streams, [stream("bob", 9, 1)]);
    assert_eq!(db.pins().unwrap().len(), 1);
    let other = Database::open(&Storage::Ephemeral, &alice()).unwrap();
    assert_eq!(other.history(&name("bob"), 10).unwrap(), []);
    assert_eq!(other.pins().unwrap().len(), 0);
}
