//! Chat: exactly once, in order, unforgeable by name.
//!
//! Every message a client accepted is traced by its unique text: where it was shown, and what its
//! sender was told. A show must come from a datagram whose source is the true sender's endpoint;
//! a delivery from a datagram whose source is the recipient that really acked and showed it.

use std::collections::BTreeMap;

use feige_core::client::{ClientEvent, FailReason, MessageId};
use feige_core::wire::Name;

use super::super::agenda::SimTime;
use super::super::event::IncId;
use super::super::journal::{fmt_time, Chat, Via};
use super::super::world::World;
use super::Findings;

/// What became of one message.
#[derive(Default)]
struct Fate {
    sent: u32,
    delivered: Vec<(SimTime, Via)>,
    failed: Vec<(SimTime, FailReason)>,
    shown: Vec<(IncId, SimTime)>,
}

impl Fate {
    fn outcome_at(&self) -> Option<SimTime> {
        let d = self.delivered.iter().map(|(t, _)| *t);
        let f = self.failed.iter().map(|(t, _)| *t);
        d.chain(f).min()
    }
}

/// Checks every message and every show.
pub fn check(world: &World, out: &mut Findings) {
    let chats = &world.journal.chats;
    let mut fates: Vec<Fate> = chats.iter().map(|_| Fate::default()).collect();
    // Shown message indexes, per (receiver, sender), in show order.
    let mut streams: BTreeMap<(IncId, IncId), Vec<usize>> = BTreeMap::new();
    for node in &world.clients {
        let who = super::who(node);
        let log = world.journal.client_log.get(node.inc.0);
        for seen in log.into_iter().flatten() {
            let at = seen.at;
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
                        ClientEvent::Sent { .. } => fate.sent += 1,
                        ClientEvent::Delivered { .. } => fate.delivered.push((at, seen.via)),
                        ClientEvent::Failed { reason, .. } => fate.failed.push((at, *reason)),
                        _ => {}
                    }
                }
                ClientEvent::Message { from, text, .. } => {
                    let Via::Datagram(source) = seen.via else {
                        out.push(format!(
                            "{who}: showed {text:?} from {from} at {} outside a datagram input",
                            fmt_time(at)
                        ));
                        continue;
                    };
                    let Some(i) = world.journal.chat_by_text(text) else {
                        out.push(format!(
                            "{who}: showed {text:?} from {from} (source {source}) at {}: no one \
                             sent it (forged or corrupted)",
                            fmt_time(at)
                        ));
                        continue;
                    };
                    let (Some(chat), Some(fate)) = (chats.get(i), fates.get_mut(i)) else {
                        continue;
                    };
                    let Some(sender) = world.clients.get(chat.sender.0) else {
                        continue;
                    };
                    if sender.name != *from || sender.endpoint != source || chat.to != node.name {
                        out.push(format!(
                            "{who}: showed {text:?} as from {from} via {source} at {}, but {} sent \
                             it from {} to {}",
                            fmt_time(at),
                            sender.name,
                            sender.endpoint,
                            chat.to
                        ));
                    }
                    fate.shown.push((node.inc, at));
                    streams.entry((node.inc, chat.sender)).or_default().push(i);
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
    check_stop_and_wait(world, &fates, out);
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
    let found = world
        .journal
        .chat_by_id(sender, id)
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
    if outcomes > 1 || (outcomes == 0 && !sender.crashed()) {
        out.push(format!(
            "{}: {outcomes} outcomes (delivered {:?}, failed {:?})",
            what(),
            fate.delivered,
            fate.failed
        ));
    }
    if fate.sent > 1 {
        out.push(format!("{}: Sent {} times", what(), fate.sent));
    }
    let mut per_receiver: BTreeMap<IncId, u32> = BTreeMap::new();
    for (inc, _) in &fate.shown {
        *per_receiver.entry(*inc).or_default() += 1;
    }
    for (inc, n) in per_receiver {
        if n > 1 {
            out.push(format!("{}: shown {n} times by {inc:?}", what()));
        }
    }
    for (at, via) in &fate.delivered {
        check_delivery(world, chat, fate, *at, *via, &what, out);
    }
    for (at, reason) in &fate.failed {
        let plausible = match reason {
            FailReason::Timeout => !chat.must_deliver,
            FailReason::PeerOffline => world
                .journal
                .client_log
                .get(chat.sender.0)
                .into_iter()
                .flatten()
                .any(|s| {
                    s.at <= *at && matches!(&s.event, ClientEvent::Left(e) if e.name == chat.to)
                }),
            FailReason::LoggedOut => {
                sender.logout_at.is_some()
                    || world
                        .journal
                        .client_log
                        .get(chat.sender.0)
                        .into_iter()
                        .flatten()
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

/// A delivery must come from the recipient's endpoint, after that recipient acked and showed it.
fn check_delivery(
    world: &World,
    chat: &Chat,
    fate: &Fate,
    at: SimTime,
    via: Via,
    what: &dyn Fn() -> String,
    out: &mut Findings,
) {
    if fate.sent == 0 {
        out.push(format!("{}: Delivered without Sent", what()));
    }
    let Via::Datagram(source) = via else {
        out.push(format!(
            "{}: Delivered at {} outside a datagram input",
            what(),
            fmt_time(at)
        ));
        return;
    };
    let Some((sid, seq)) = chat.wire else {
        out.push(format!(
            "{}: Delivered at {}, never on the wire",
            what(),
            fmt_time(at)
        ));
        return;
    };
    let genuine = world.clients.iter().any(|r| {
        r.name == chat.to
            && r.endpoint == source
            && world.journal.acks.contains(&(r.inc, sid, seq))
            && fate.shown.iter().any(|(inc, t)| *inc == r.inc && *t <= at)
    });
    if !genuine {
        out.push(format!(
            "{}: Delivered at {} on an ack from {source} that no recipient who \
             showed it sent (forged ack believed?)",
            what(),
            fmt_time(at)
        ));
    }
}

/// One message in flight per (sender, recipient): the next goes on the wire only after the
/// previous one's outcome.
fn check_stop_and_wait(world: &World, fates: &[Fate], out: &mut Findings) {
    let mut lanes: BTreeMap<(IncId, &Name), Vec<usize>> = BTreeMap::new();
    for (i, chat) in world.journal.chats.iter().enumerate() {
        lanes.entry((chat.sender, &chat.to)).or_default().push(i);
    }
    for ((sender, to), lane) in lanes {
        for pair in lane.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (Some(next), Some(prev_fate)) = (world.journal.chats.get(b), fates.get(a)) else {
                continue;
            };
            let Some(tx) = next.first_tx else {
                continue;
            };
            let ok = prev_fate.outcome_at().is_some_and(|done| done <= tx);
            if !ok {
                out.push(format!(
                    "{sender:?} put its message #{b} to {to} on the wire at {} while #{a} had \
                     no outcome (outcome at {:?})",
                    fmt_time(tx),
                    prev_fate.outcome_at().map(fmt_time)
                ));
            }
        }
    }
}
