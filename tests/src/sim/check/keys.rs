//! Keys: what each client was told decides what it must report and whom it may chat with.
//!
//! The server lines each client read and the user's `/trust` commands are replayed into a
//! [`KeyView`] of its keyring, beside the client's own events:
//! - the client reports exactly the key events the view calls for, in order: a key first seen
//!   is pinned, and a key other than the pinned one is reported once per listing — so no key
//!   change goes unreported, and none is reported twice while the user stays listed with it;
//! - a message goes on the wire (`sent`) or is `delivered` only while the recipient's key is
//!   trusted, and a message is shown only while the sender's key is trusted, and only if it is
//!   the key of the incarnation that wrote it: chat with a held key is frozen;
//! - the server lists, for a user, only keys that user's clients announced;
//! - at the end, no running client still holds a key back: the users trusted every change.

use std::collections::{BTreeMap, BTreeSet};

use feige_core::client::ClientEvent;
use feige_core::wire::{Name, PublicKey, ServerLine};

use super::super::journal::{fmt_time, Heard, KeyInput, Noted, Seen};
use super::super::keyview::{KeyEvent, KeyView};
use super::super::node::ClientNode;
use super::super::world::World;
use super::Findings;

/// Checks every incarnation against its replayed keyring.
pub fn check(world: &World, out: &mut Findings) {
    let mut announced: BTreeMap<&Name, BTreeSet<PublicKey>> = BTreeMap::new();
    for node in &world.clients {
        announced.entry(&node.name).or_default().insert(node.key);
    }
    for node in &world.clients {
        let log = world.journal.events_of(node.inc);
        let inputs = world.journal.key_inputs_of(node.inc);
        let view = replay(world, node, log, inputs, &announced, out);
        let held = view.held();
        if node.is_running() && !held.is_empty() {
            out.push(format!(
                "{}: still holds the keys of {held:?} at the end",
                super::who(node)
            ));
        }
    }
}

/// Walks the client's log, input by input; returns the view at the end.
fn replay(
    world: &World,
    node: &ClientNode,
    log: &[Seen],
    inputs: &[Noted],
    announced: &BTreeMap<&Name, BTreeSet<PublicKey>>,
    out: &mut Findings,
) -> KeyView {
    let mut view = KeyView::new(node.name.clone(), node.pinned.clone());
    // What each snapshot said, in order: the first login's, then every login again.
    let mut lists = log.iter().filter_map(|seen| match &seen.event {
        ClientEvent::LoggedIn { users, .. } | ClientEvent::Reconnected { users, .. } => {
            Some(users.as_slice())
        }
        _ => None,
    });
    let first = inputs.first().map_or(log.len(), |n| n.position);
    let before = log.get(..first).unwrap_or_default();
    if let Err(reported) = check_segment(world, node, &view, &[], before, out) {
        out.push(format!(
            "{}: reported key events {reported:?} before the server told it anything",
            super::who(node)
        ));
    }
    for (k, noted) in inputs.iter().enumerate() {
        let mut expected = Vec::new();
        match &noted.input {
            KeyInput::Lines(lines) => {
                for heard in lines {
                    if let Heard::Line(ServerLine::Key { name, key }) = heard {
                        let known = announced.get(name).is_none_or(|keys| keys.contains(key));
                        if !known && world.scenario.names.contains(name) {
                            out.push(format!(
                                "{}: the server listed {key} for {name}, which none of its \
                                 clients announced",
                                super::who(node)
                            ));
                        }
                    }
                    let list = match heard {
                        Heard::Snapshot if !view.is_online() => lists.next(),
                        _ => None,
                    };
                    view.heard(heard, list, &mut expected);
                }
            }
            KeyInput::Trust(name) => view.trust(name, &mut expected),
            KeyInput::Relink => view.relink(),
            KeyInput::NoKey(name) => {
                let wrong = if !view.lists(name) {
                    Some("it is not listed")
                } else if view.has_key(name) {
                    Some("a key is listed for it")
                } else {
                    None
                };
                if let Some(wrong) = wrong {
                    out.push(format!(
                        "{}: send_message to {name} at {} said NoKey, but {wrong}",
                        super::who(node),
                        fmt_time(noted.at)
                    ));
                }
            }
        }
        let end = inputs.get(k + 1).map_or(log.len(), |n| n.position);
        let segment = log.get(noted.position..end).unwrap_or_default();
        if let Err(reported) = check_segment(world, node, &view, &expected, segment, out) {
            out.push(format!(
                "{}: at {}, reported key events {reported:?} where its keyring must report \
                 {expected:?}",
                super::who(node),
                fmt_time(noted.at)
            ));
        }
    }
    view
}

/// The events between one key input and the next: chat only with trusted keys, and exactly the
/// key events expected (`Err`: those reported instead).
fn check_segment(
    world: &World,
    node: &ClientNode,
    view: &KeyView,
    expected: &[KeyEvent],
    segment: &[Seen],
    out: &mut Findings,
) -> Result<(), Vec<KeyEvent>> {
    let mut reported = Vec::new();
    for seen in segment {
        match &seen.event {
            ClientEvent::KeyPinned { name, key } => reported.push(KeyEvent::Pinned {
                name: name.clone(),
                key: *key,
            }),
            ClientEvent::KeyChanged { name, old, new } => reported.push(KeyEvent::Changed {
                name: name.clone(),
                old: *old,
                new: *new,
            }),
            ClientEvent::Sent { to, id } | ClientEvent::Delivered { to, id, .. }
                if view.trusted(to).is_none() =>
            {
                out.push(format!(
                    "{}: {:?} of {id} to {to} at {} while its key is held",
                    super::who(node),
                    seen.event,
                    fmt_time(seen.at)
                ));
            }
            ClientEvent::Message { from, text, .. } => {
                let writer = world
                    .journal
                    .chat_by_text(text)
                    .and_then(|i| world.journal.chats.get(i))
                    .and_then(|chat| world.clients.get(chat.sender.0));
                let trusted = view.trusted(from);
                // An unknown text is the chat check's finding.
                let wrong = match (trusted, writer) {
                    (None, _) => Some("while its key is held".to_string()),
                    (Some(key), Some(w)) if key != w.key => Some(format!(
                        "trusting {key}, but its writer {} has {}",
                        super::who(w),
                        w.key
                    )),
                    _ => None,
                };
                if let Some(wrong) = wrong {
                    out.push(format!(
                        "{}: showed {text:?} from {from} at {} {wrong}",
                        super::who(node),
                        fmt_time(seen.at)
                    ));
                }
            }
            _ => {}
        }
    }
    if reported == expected {
        Ok(())
    } else {
        Err(reported)
    }
}
