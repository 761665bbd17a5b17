//! Chat: exactly once, in order, never from an impersonator — told from the events alone.
//!
//! Chat is sealed end to end, so nothing of it can be read on the wire; every message a client
//! accepted is traced by its unique text through the clients' events instead: who showed it,
//! and what its sender was told. A show must name the user who was given the text for that very
//! recipient, and follow its `sent`; a delivery must follow a show by an incarnation of the
//! recipient. Which key a message came with is checked in [`keys`](super::keys).
//!
//! A client that holds its user's store carries its messages across restarts: a later
//! incarnation holding the same store sends on what the earlier one left in the outbox, under
//! the same id, and remembers what the earlier one showed. So a message is resolved at most once
//! in all, an incarnation reports `sent` for it at most once, a recipient's store shows it at
//! most once, and a message whose store lives on in a running client at the end must have been
//! resolved.

use std::collections::BTreeMap;

use feige_core::client::{ClientEvent, FailReason, MessageId};
use feige_core::wire::Name;

use super::super::agenda::SimTime;
use super::super::event::IncId;
use super::super::journal::{fmt_time, Chat, Seen, Via};
use super::super::node::ClientNode;
use super::super::world::World;
use super::Findings;

/// What became of one message.
#[derive(Default)]
struct Fate {
    sent: Vec<(IncId, SimTime)>,
    delivered: Vec<(SimTime, Via)>,
    failed: Vec<(SimTime, FailReason)>,
    shown: Vec<(IncId, SimTime)>,
}

/// What keeps a recipient from showing a message twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Memory {
    /// A user's store, whichever of its incarnations holds it.
    Store { user: usize, install: u32 },
    /// An incarnation without a store.
    Incarnation(IncId),
}

/// Checks every message and every show.
pub fn check(world: &World, out: &mut Findings) {
    let chats = &world.journal.chats;
    let mut fates: Vec<Fate> = chats.iter().map(|_| Fate::default()).collect();
    // Shown message indexes, per (receiver, sender), in show order.
    let mut streams: BTreeMap<(IncId, IncId), Vec<usize>> = BTreeMap::new();
    for node in &world.clients {
        let log = world.journal.events_of(node.inc);
        check_lanes(node, log, out);
        for seen in log {
            match &seen.event {
                ClientEvent::Sent { to, id }
                | ClientEvent::Delivered { to, id, .. }
                | ClientEvent::Failed { to, id, .. } => {
                    let Some(i) = lookup(world, node.inc, to, *id, &seen.event, out) else {
                        continue;
                    };
                    let Some(fate) = fates.get_mut(i) else {
                        continue;
                    };
                    match &seen.event {
                        ClientEvent::Sent { .. } => fate.sent.push((node.inc, seen.at)),
                        ClientEvent::Delivered { encrypted, .. } => {
                            if !encrypted {
                                out.push(format!(
                                    "{}: Delivered {id} to {to} at {}, not sealed",
                                    super::who(node),
                                    fmt_time(seen.at)
                                ));
                            }
                            fate.delivered.push((seen.at, seen.via));
                        }
                        ClientEvent::Failed { reason, .. } => fate.failed.push((seen.at, *reason)),
                        _ => {}
                    }
                }
                ClientEvent::Message { .. } => {
                    if let Some(i) = check_show(world, node, seen, out) {
                        if let (Some(fate), Some(chat)) = (fates.get_mut(i), chats.get(i)) {
                            fate.shown.push((node.inc, seen.at));
                            streams.entry((node.inc, chat.sender)).or_default().push(i);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for (chat, fate) in chats.iter().zip(&fates) {
        check_message(world, chat, fate, out);
    }
    for ((receiver, sender), shown) in &streams {
        let ids: Vec<MessageId> = shown
            .iter()
            .filter_map(|&i| chats.get(i).map(|c| c.id))
            .collect();
        if ids.windows(2).any(|w| w[0] >= w[1]) {
            out.push(format!(
                "{receiver:?} showed {sender:?}'s messages out of send order: ids {ids:?}"
            ));
        }
    }
}

/// A shown message must be one its sender was given for this very recipient: the message's
/// index, if it is one.
fn check_show(world: &World, node: &ClientNode, seen: &Seen, out: &mut Findings) -> Option<usize> {
    let ClientEvent::Message {
        from,
        text,
        encrypted,
    } = &seen.event
    else {
        return None;
    };
    let who = super::who(node);
    let at = fmt_time(seen.at);
    // Chat arrives in a datagram, or relayed by the server on the TCP session.
    let source = match seen.via {
        Via::Datagram(source) => source.to_string(),
        Via::Tcp(conn) => format!("relay on tcp {}", conn.0),
        Via::Timer | Via::Command => {
            out.push(format!(
                "{who}: showed {text:?} from {from} at {at} outside a datagram or relay input"
            ));
            return None;
        }
    };
    if !encrypted {
        out.push(format!(
            "{who}: showed {text:?} from {from} (source {source}) at {at} unsealed"
        ));
    }
    let Some(i) = world.journal.chat_by_text(text) else {
        out.push(format!(
            "{who}: showed {text:?} from {from} (source {source}) at {at}: no one sent it \
             (forged or corrupted)"
        ));
        return None;
    };
    let chat = world.journal.chats.get(i)?;
    let sender = world.clients.get(chat.sender.0)?;
    if sender.name != *from || chat.to != node.name {
        out.push(format!(
            "{who}: showed {text:?} as from {from} at {at}, but {} wrote it to {} \
             (an impersonator?)",
            super::who(sender),
            chat.to
        ));
    }
    Some(i)
}

/// One message in flight per (sender, recipient), sent in the order given: from the sender's
/// own events, a `sent` only once the previous one to that recipient was delivered or failed,
/// and a `delivered` only for the one in flight.
fn check_lanes(node: &ClientNode, log: &[Seen], out: &mut Findings) {
    #[derive(Default)]
    struct Lane {
        in_flight: Option<MessageId>,
        last_sent: Option<MessageId>,
    }
    let mut lanes: BTreeMap<&Name, Lane> = BTreeMap::new();
    for seen in log {
        match &seen.event {
            ClientEvent::Sent { to, id } => {
                let lane = lanes.entry(to).or_default();
                if let Some(busy) = lane.in_flight {
                    out.push(format!(
                        "{}: sent {id} to {to} at {} while {busy} was in flight",
                        super::who(node),
                        fmt_time(seen.at)
                    ));
                }
                if lane.last_sent.is_some_and(|last| last >= *id) {
                    out.push(format!(
                        "{}: sent {id} to {to} at {} after {:?}: out of order",
                        super::who(node),
                        fmt_time(seen.at),
                        lane.last_sent
                    ));
                }
                lane.in_flight = Some(*id);
                lane.last_sent = Some(*id);
            }
            ClientEvent::Delivered { to, id, .. } => {
                let lane = lanes.entry(to).or_default();
                if lane.in_flight != Some(*id) {
                    out.push(format!(
                        "{}: delivered {id} to {to} at {}, not the one in flight ({:?})",
                        super::who(node),
                        fmt_time(seen.at),
                        lane.in_flight
                    ));
                }
                lane.in_flight = None;
            }
            ClientEvent::Failed { to, id, .. } => {
                let lane = lanes.entry(to).or_default();
                if lane.in_flight == Some(*id) {
                    lane.in_flight = None;
                }
            }
            _ => {}
        }
    }
}

/// The message a `Sent`/`Delivered`/`Failed` event names.
fn lookup(
    world: &World,
    sender: IncId,
    to: &Name,
    id: MessageId,
    event: &ClientEvent,
    out: &mut Findings,
) -> Option<usize> {
    let store = world.clients.get(sender.0).and_then(|n| n.store());
    let found = world
        .journal
        .chat_by_id(sender, store, id)
        .filter(|&i| world.journal.chats.get(i).is_some_and(|c| c.to == *to));
    if found.is_none() {
        out.push(format!("{sender:?}: {event:?} for no message it sent"));
    }
    found
}

fn check_message(world: &World, chat: &Chat, fate: &Fate, out: &mut Findings) {
    let Some(sender) = world.clients.get(chat.sender.0) else {
        return;
    };
    // Formatted only when something is wrong: this runs for every message of every seed.
    let what = || {
        format!(
            "message {} of {} to {} ({:?}, sent {})",
            chat.id,
            super::who(sender),
            chat.to,
            chat.text,
            fmt_time(chat.sent_at)
        )
    };
    let outcomes = fate.delivered.len() + fate.failed.len();
    if outcomes > 1 || (outcomes == 0 && owed(world, sender)) {
        out.push(format!(
            "{}: {outcomes} outcomes (delivered {:?}, failed {:?})",
            what(),
            fate.delivered,
            fate.failed
        ));
    }
    let mut senders: Vec<IncId> = fate.sent.iter().map(|(inc, _)| *inc).collect();
    senders.sort_unstable();
    if senders.windows(2).any(|w| w[0] == w[1]) {
        out.push(format!(
            "{}: Sent twice by one incarnation: {:?}",
            what(),
            fate.sent
        ));
    }
    let first_sent = fate.sent.iter().map(|(_, at)| *at).min();
    // What remembers the shows: the recipient's store, or the incarnation itself without one.
    let mut per_receiver: BTreeMap<Memory, u32> = BTreeMap::new();
    for (inc, at) in &fate.shown {
        let memory = match world.clients.get(inc.0).and_then(|n| n.store()) {
            Some((user, install)) => Memory::Store { user, install },
            None => Memory::Incarnation(*inc),
        };
        *per_receiver.entry(memory).or_default() += 1;
        if first_sent.is_none_or(|sent| sent > *at) {
            out.push(format!(
                "{}: shown by {inc:?} at {} before it was sent ({first_sent:?})",
                what(),
                fmt_time(*at)
            ));
        }
    }
    for (memory, n) in per_receiver {
        if n > 1 {
            out.push(format!("{}: shown {n} times by {memory:?}", what()));
        }
    }
    for (at, via) in &fate.delivered {
        check_delivery(world, chat, fate, *at, *via, &what, out);
    }
    for (at, reason) in &fate.failed {
        let plausible = match reason {
            FailReason::Timeout => !chat.must_deliver,
            // A peer leaving no longer fails anything (it waits in the outbox), nor does a week pass.
            FailReason::Expired => false,
            FailReason::LoggedOut => {
                sender.logout_at.is_some()
                    || world
                        .journal
                        .events_of(chat.sender)
                        .iter()
                        .any(|s| matches!(s.event, ClientEvent::Disconnected(_)))
            }
        };
        if !plausible {
            out.push(format!(
                "{}: failed ({reason}) at {}",
                what(),
                fmt_time(*at)
            ));
        }
    }
    if chat.must_deliver && (fate.delivered.is_empty() || fate.shown.len() != 1) {
        out.push(format!(
            "{}: sent on a calm, settled network, yet delivered {:?}, failed {:?}, shown {:?}",
            what(),
            fate.delivered,
            fate.failed,
            fate.shown
        ));
    }
}

/// Whether the message of `sender` must have been resolved by the end: its sender still runs, or
/// the store it was recorded in is held by a client that still runs (which sent it on).
fn owed(world: &World, sender: &ClientNode) -> bool {
    if sender.is_running() {
        return true;
    }
    let Some(store) = sender.store() else {
        return false;
    };
    world
        .clients
        .iter()
        .any(|n| n.is_running() && n.store() == Some(store))
}

/// A delivery must come during a datagram (or a relayed one), after the message was sent, and
/// after an incarnation of the recipient showed it: only the recipient can seal the ack.
fn check_delivery(
    world: &World,
    chat: &Chat,
    fate: &Fate,
    at: SimTime,
    via: Via,
    what: &dyn Fn() -> String,
    out: &mut Findings,
) {
    if fate.sent.iter().all(|(_, sent)| *sent > at) {
        out.push(format!("{}: Delivered without Sent before", what()));
    }
    if !matches!(via, Via::Datagram(_) | Via::Tcp(_)) {
        out.push(format!(
            "{}: Delivered at {} outside a datagram or relay input",
            what(),
            fmt_time(at)
        ));
        return;
    }
    let genuine = fate
        .shown
        .iter()
        .any(|(inc, t)| *t <= at && world.clients.get(inc.0).is_some_and(|r| r.name == chat.to));
    if !genuine {
        out.push(format!(
            "{}: Delivered at {} though no incarnation of {} showed it (forged ack believed?)",
            what(),
            fmt_time(at),
            chat.to
        ));
    }
}
