//! The invariant checker: run once the faults have stopped and every timer has had its time.
//!
//! - [`lifecycle`]: each client's own events tell a coherent story;
//! - [`presence`]: the server's registry, every client's list and every join and leave agree
//!   with what really happened;
//! - [`chat`]: every message shown at most once per receiver, in send order, only as written by
//!   its true sender for that recipient; every sender told exactly one outcome, and only a true
//!   one; one message in flight per recipient;
//! - [`keys`]: every key change reported exactly once per listing, chat frozen while a key is
//!   held, every show sealed with the writer's key;
//! - [`sources`]: the forger's network, and every host it shares, never holds more than the
//!   server's per-source limits.

mod chat;
mod keys;
mod lifecycle;
mod presence;
pub mod sources;

use super::node::ClientNode;
use super::world::World;

/// Violations, one sentence each.
pub type Findings = Vec<String>;

/// Every violation in a finished run.
pub fn check(world: &World) -> Findings {
    let mut out = world.journal.anomalies.clone();
    lifecycle::check(world, &mut out);
    presence::check(world, &mut out);
    chat::check(world, &mut out);
    keys::check(world, &mut out);
    sources::check(world, &mut out);
    out
}

/// How a client is named in findings.
fn who(node: &ClientNode) -> String {
    format!(
        "{:?} ({} at {}, sid {})",
        node.inc, node.name, node.endpoint, node.sid
    )
}
