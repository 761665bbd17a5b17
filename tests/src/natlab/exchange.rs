//! The conversation every cell of the matrix holds: in a fresh lab, alice and bob log in to the
//! lab's server; alice writes [`MESSAGES`] messages in a row, and once they are settled
//! (delivered or failed) bob answers with as many. A measuring run then has alice send one more,
//! lone message: with the path settled and nothing queued before it, its `/msg` to `delivered`
//! time is one round trip on the path in use.
//!
//! Bob answers even when alice's messages did not reach him, so a run shows which directions
//! work, not only that one did not. Each wait is bounded; the record of both clients is kept
//! either way and judged afterwards ([`super::judge`]).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::nat::Site;
use super::program::{pump, Program, Record};
use super::topology::{Host, Lab};
use crate::proc::STEP;

/// Messages each side writes.
pub const MESSAGES: usize = 3;

/// How long the messages of one side may take to be settled. Generous where it matters: a
/// working path settles them in milliseconds, or about two seconds when the client falls back
/// to the relay; a message nobody acknowledges takes about 20 s to fail (protocol.md 5), so a
/// dead direction stops here, noted as a stall, before all three have failed.
const PHASE: Duration = Duration::from_secs(45);

/// How long both clients are still read after the last message, for late duplicates.
const SETTLE: Duration = Duration::from_millis(300);

/// One conversation to hold.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The binary that serves and chats (`feige` or `feige-smol`).
    pub binary: PathBuf,
    /// Alice's site.
    pub alice: Site,
    /// Bob's site.
    pub bob: Site,
    /// Whether alice sends the lone message at the end (measurements only).
    pub lone: bool,
}

/// A conversation that was held.
#[derive(Debug, Clone)]
pub struct Run {
    /// What was asked.
    pub exchange: Exchange,
    /// Why the conversation could not be held to its end (a login failed, a wait ran out).
    pub stalls: Vec<String>,
    /// Alice's record.
    pub alice: Record,
    /// Bob's record.
    pub bob: Record,
}

/// The texts `from` sends, in order: [`MESSAGES`] of them, and the lone one when `lone`.
pub fn texts(from: &str, lone: bool) -> Vec<String> {
    let mut texts: Vec<String> = (1..=MESSAGES)
        .map(|i| format!("{from} says hello, {i} of {MESSAGES}"))
        .collect();
    if lone {
        texts.push(format!("{from} says hello once more"));
    }
    texts
}

/// Holds the conversation in a lab of its own.
pub fn run(exchange: &Exchange) -> Run {
    let lab = Lab::new(exchange.alice, exchange.bob);
    let mut stalls = Vec::new();
    let mut alice = None;
    let mut bob = None;
    if let Err(stall) = hold(exchange, &lab, &mut alice, &mut bob, &mut stalls) {
        stalls.push(stall);
    }
    Run {
        exchange: exchange.clone(),
        stalls,
        alice: alice.map(Program::into_record).unwrap_or_default(),
        bob: bob.map(Program::into_record).unwrap_or_default(),
    }
}

/// Starts the programs (the clients into the caller's slots, so their records outlive an early
/// return) and holds the conversation. Waits that run out are noted in `stalls`; only what
/// stops the conversation altogether is an `Err`.
fn hold(
    exchange: &Exchange,
    lab: &Lab,
    alice: &mut Option<Program>,
    bob: &mut Option<Program>,
    stalls: &mut Vec<String>,
) -> Result<(), String> {
    let binary = &exchange.binary;
    let _server = Program::server(lab, binary)?;
    let alice = alice.insert(Program::client(lab, Host::Alice, "alice", binary)?);
    let bob = bob.insert(Program::client(lab, Host::Bob, "bob", binary)?);
    // Bob logged in second, so his snapshot lists alice; alice learns of bob from his join.
    let bob_joined = |e: &Value| e["event"] == "joined" && e["name"] == "bob";
    if !alice.wait(STEP, |a| a.record.any(bob_joined)) {
        return Err("alice never saw bob join".to_owned());
    }

    let alice_texts = texts("alice", exchange.lone);
    let bob_texts = texts("bob", false);
    for text in &alice_texts[..MESSAGES] {
        alice.type_line(&format!("/msg bob {text}"));
    }
    settle(alice, bob, MESSAGES, stalls);
    for text in &bob_texts {
        bob.type_line(&format!("/msg alice {text}"));
    }
    settle(bob, alice, MESSAGES, stalls);
    if let Some(lone) = alice_texts.get(MESSAGES) {
        alice.type_line(&format!("/msg bob {lone}"));
        settle(alice, bob, MESSAGES + 1, stalls);
    }
    pump(&mut [alice, bob], SETTLE, |_| false);
    Ok(())
}

/// Reads both clients until the sender has an outcome (`delivered` or `failed`) for `sent`
/// messages to the receiver, and the receiver shows at least as many of them as were delivered.
fn settle(sender: &mut Program, receiver: &mut Program, sent: usize, stalls: &mut Vec<String>) {
    let from = sender.record.name.clone();
    let to = receiver.record.name.clone();
    let outcome =
        |e: &Value| (e["event"] == "delivered" || e["event"] == "failed") && e["to"] == to;
    let delivered = |e: &Value| e["event"] == "delivered" && e["to"] == to;
    let shown = |e: &Value| e["event"] == "message" && e["from"] == from;
    let settled = pump(&mut [sender, receiver], PHASE, |p| {
        p[0].record.count(outcome) >= sent
            && p[1].record.count(shown) >= p[0].record.count(delivered)
    });
    if !settled {
        stalls.push(format!(
            "{from}→{to}: messages still unsettled after {PHASE:?}"
        ));
    }
}
