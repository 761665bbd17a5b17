//! What a [`Run`] shows: whether every message was shown once, in order, and delivered (the
//! verdict), and what the clients said about their paths and how long delivery took (the
//! measurements).
//!
//! Paths come from the `path` event the clients print when they set or change the way to a
//! contact: `{"event":"path","peer":NAME,"via":"direct"|"relay","endpoint":ADDR}`.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::exchange::{texts, Run, MESSAGES};
use super::program::Record;

/// Everything wrong with a run; empty when it passed.
pub fn problems(run: &Run) -> Vec<String> {
    let mut problems = run.stalls.clone();
    problems.extend(direction(
        &run.alice,
        &run.bob,
        &texts("alice", run.exchange.lone),
    ));
    problems.extend(direction(&run.bob, &run.alice, &texts("bob", false)));
    problems
}

/// What is wrong with the messages `sender` wrote to `receiver` (`texts`, in order): each must be
/// sent, delivered once, never failed, and shown exactly once in order.
fn direction(sender: &Record, receiver: &Record, texts: &[String]) -> Vec<String> {
    let (from, to) = (sender.name.as_str(), receiver.name.as_str());
    if from.is_empty() || to.is_empty() {
        // A client that never logged in: the run's stall says so.
        return Vec::new();
    }
    let mut problems = Vec::new();
    let ids = sent_ids(sender, to);
    if ids.len() != texts.len() {
        problems.push(format!(
            "{from}→{to}: {} of {} messages sent",
            ids.len(),
            texts.len()
        ));
    }
    for (i, id) in ids.iter().enumerate() {
        let number = i + 1;
        let failed = sender
            .events
            .iter()
            .find(|e| is_about(&e.event, "failed", to, *id));
        let delivered = sender.count(|e| is_about(e, "delivered", to, *id));
        if let Some(failed) = failed {
            let reason = failed.event["reason"].as_str().unwrap_or("no reason");
            problems.push(format!("{from}→{to} #{number} failed ({reason})"));
        } else if delivered == 0 {
            problems.push(format!(
                "{from}→{to} #{number} neither delivered nor failed"
            ));
        }
        if delivered > 1 {
            problems.push(format!("{from}→{to} #{number} delivered {delivered} times"));
        }
    }
    let shown: Vec<&str> = receiver
        .events
        .iter()
        .filter(|e| e.event["event"] == "message" && e.event["from"] == from)
        .filter_map(|e| e.event["text"].as_str())
        .collect();
    if shown != texts {
        let in_order_once = shown
            .iter()
            .try_fold(0, |next, text| {
                let at = texts.iter().skip(next).position(|t| t == text)?;
                Some(next + at + 1)
            })
            .is_some();
        problems.push(if in_order_once {
            format!(
                "{to} showed {} of {}'s {} messages",
                shown.len(),
                from,
                texts.len()
            )
        } else {
            format!("{to} showed {from}'s messages out of order or more than once: {shown:?}")
        });
    }
    problems
}

/// Whether `e` is the event `event` about message `id` to `to`.
fn is_about(e: &Value, event: &str, to: &str, id: u64) -> bool {
    e["event"] == event && e["to"] == to && e["id"].as_u64() == Some(id)
}

/// The ids of the messages `sender` sent to `to`, in the order they were written.
fn sent_ids(sender: &Record, to: &str) -> Vec<u64> {
    sender
        .events
        .iter()
        .filter(|e| e.event["event"] == "sent" && e.event["to"] == to)
        .filter_map(|e| e.event["id"].as_u64())
        .collect()
}

/// The `via` of the last `path` event `record` printed about `peer`.
pub fn last_via(record: &Record, peer: &str) -> Option<String> {
    via_before(record, peer, None)
}

/// The `via` of the last `path` event about `peer` printed before `before` (or at all).
fn via_before(record: &Record, peer: &str, before: Option<Instant>) -> Option<String> {
    record
        .events
        .iter()
        .take_while(|e| before.is_none_or(|before| e.at <= before))
        .filter(|e| e.event["event"] == "path" && e.event["peer"] == peer)
        .filter_map(|e| e.event["via"].as_str())
        .last()
        .map(str::to_owned)
}

/// Messages delivered while their sender's latest path to the receiver was `relay`, and all
/// messages delivered, both directions together.
pub fn relay_share(run: &Run) -> (usize, usize) {
    [(&run.alice, &run.bob), (&run.bob, &run.alice)]
        .into_iter()
        .flat_map(|(sender, receiver)| {
            let to = receiver.name.as_str();
            sender
                .events
                .iter()
                .filter(move |e| e.event["event"] == "delivered" && e.event["to"] == to)
                .map(move |e| via_before(sender, to, Some(e.at)).as_deref() == Some("relay"))
        })
        .fold((0, 0), |(relayed, all), relay| {
            (relayed + usize::from(relay), all + 1)
        })
}

/// From alice's first `/msg` to its `delivered`: the first contact, handshake and any NAT
/// traversal included.
pub fn first_delivery(run: &Run) -> Option<Duration> {
    time_to_deliver(&run.alice, "bob", 0)
}

/// From alice's lone `/msg` (the last, written when nothing else was in flight) to its
/// `delivered`: one round trip on the settled path.
pub fn lone_round_trip(run: &Run) -> Option<Duration> {
    run.exchange
        .lone
        .then(|| time_to_deliver(&run.alice, "bob", MESSAGES))
        .flatten()
}

/// From the `index`th line typed to `sender` to the `delivered` of the message it sent (every
/// line typed in a run is a `/msg` to the same peer, so the nth line is the nth `sent`).
fn time_to_deliver(sender: &Record, to: &str, index: usize) -> Option<Duration> {
    let (typed_at, _) = sender.typed.get(index)?;
    let id = *sent_ids(sender, to).get(index)?;
    let delivered = sender
        .events
        .iter()
        .find(|e| is_about(&e.event, "delivered", to, id))?;
    Some(delivered.at.saturating_duration_since(*typed_at))
}
