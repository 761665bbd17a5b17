//! What every NAT run must show, whatever the routers and the loss: both users online to the
//! end, and every message of each shown once to the other, in order, sealed, and delivered
//! (never failed). On a loss-free network also: the first message is delivered within a second
//! wherever the routers allow a direct path, and each side ends on the path the routers allow —
//! direct, or the relay.

use std::time::Duration;

use feige_core::client::{ClientEvent, Via};

use super::router::NatKind;
use super::world::{Run, MESSAGES, NAMES};

/// The first message's budget on a direct path, loss-free: an introduction and a handshake.
const FIRST_DELIVERY: Duration = Duration::from_secs(1);

/// Every broken rule of `run`, in words.
pub fn check(run: &Run, loss_free: bool) -> Vec<String> {
    let mut out = Vec::new();
    let [a, b] = run.kinds;
    let pair = format!("{a}↔{b}");
    for (i, events) in run.events.iter().enumerate() {
        let who = NAMES[i];
        for (at, event) in events {
            if matches!(
                event,
                ClientEvent::LoginFailed(_) | ClientEvent::Disconnected(_) | ClientEvent::LoggedOut
            ) {
                out.push(format!("{pair}: {who} ended at {at:?}: {event:?}"));
            }
        }
        let other = &run.events[1 - i];
        let expected: Vec<String> = (1..=MESSAGES).map(|n| format!("{who} #{n}")).collect();
        let shown: Vec<&str> = other
            .iter()
            .filter_map(|(_, e)| match e {
                ClientEvent::Message {
                    from,
                    text,
                    encrypted,
                } if from.as_str() == who => {
                    if !encrypted {
                        out.push(format!("{pair}: {text:?} shown unencrypted"));
                    }
                    Some(text.as_str())
                }
                _ => None,
            })
            .collect();
        if shown != expected {
            out.push(format!(
                "{pair}: {} showed {shown:?} from {who}, not {expected:?}",
                NAMES[1 - i]
            ));
        }
        let delivered = events
            .iter()
            .filter(|(_, e)| matches!(e, ClientEvent::Delivered { .. }))
            .count();
        let failed: Vec<&ClientEvent> = events
            .iter()
            .map(|(_, e)| e)
            .filter(|e| matches!(e, ClientEvent::Failed { .. }))
            .collect();
        if delivered != MESSAGES || !failed.is_empty() {
            out.push(format!(
                "{pair}: {who} had {delivered} of {MESSAGES} delivered, failed {failed:?}"
            ));
        }
        if loss_free {
            check_path(run, i, &pair, &mut out);
        }
    }
    if loss_free && NatKind::direct_possible(a, b) {
        let first = run.sent_at[0].first().copied();
        let delivered = run.events[0]
            .iter()
            .find(|(_, e)| matches!(e, ClientEvent::Delivered { .. }))
            .map(|(at, _)| *at);
        if let (Some(sent), Some(delivered)) = (first, delivered) {
            if delivered - sent > FIRST_DELIVERY {
                out.push(format!(
                    "{pair}: the first message took {:?} on a direct path",
                    delivered - sent
                ));
            }
        }
    }
    out
}

/// Side `i` ends on the path its routers allow.
fn check_path(run: &Run, i: usize, pair: &str, out: &mut Vec<String>) {
    let [a, b] = run.kinds;
    let want = if NatKind::direct_possible(a, b) {
        Via::Direct
    } else {
        Via::Relay
    };
    let last = run.events[i].iter().rev().find_map(|(_, e)| match e {
        ClientEvent::Path { via, .. } => Some(*via),
        _ => None,
    });
    if last != Some(want) {
        out.push(format!(
            "{pair}: {} ended on {last:?}, not {want:?}",
            NAMES[i]
        ));
    }
}
