//! Presence: the server's registry, replayed from its events, must match what it reports; each
//! entry must belong to one live client; every live client's list must equal the registry; every
//! join, leave and refusal must be explained by something that really happened.

use std::net::SocketAddr;
use std::time::Duration;

use feige_core::client::ClientState;
use feige_core::server::{ConnId, LeaveReason, ServerEvent};
use feige_core::wire::{Name, RejectReason, UserEntry};

use super::super::agenda::SimTime;
use super::super::event::IncId;
use super::super::journal::{fmt_time, Via};
use super::super::node::Life;
use super::super::tcp::Owner;
use super::super::world::World;
use super::Findings;

/// How late after its deadline a timer may be handled before it counts as missed.
const TIMER_SLACK: Duration = Duration::from_secs(1);

/// One registry entry as replayed: who holds it and since when.
struct Registered {
    entry: UserEntry,
    holder: Option<IncId>,
    since: SimTime,
}

/// Checks the registry's history and the final lists.
pub fn check(world: &World, out: &mut Findings) {
    let registry = replay(world, out);
    let online: Vec<UserEntry> = world.server.machine.online().cloned().collect();
    let replayed: Vec<UserEntry> = registry.iter().map(|r| r.entry.clone()).collect();
    if replayed != online {
        out.push(format!(
            "server: online() {online:?} differs from its Joined/Left events {replayed:?}"
        ));
    }
    let mut names: Vec<&Name> = online.iter().map(|e| &e.name).collect();
    names.sort();
    if names.windows(2).any(|w| w[0] == w[1]) {
        out.push(format!("server: a name is online twice: {online:?}"));
    }
    for r in &registry {
        let Some(node) = r.holder.and_then(|inc| world.clients.get(inc.0)) else {
            continue;
        };
        if let Life::Crashed { at, .. } = node.life {
            out.push(format!(
                "{}: crashed at {}, still online at the end",
                super::who(node),
                fmt_time(at)
            ));
        }
    }
    for entry in &online {
        let holders = world
            .clients
            .iter()
            .filter(|n| n.is_running() && n.name == entry.name && n.endpoint == entry.endpoint)
            .count();
        if holders != 1 {
            out.push(format!(
                "server: {entry:?} is online but {holders} live clients hold it"
            ));
        }
    }
    let online_clients = world
        .clients
        .iter()
        .filter(|n| n.is_running() && n.machine.state() == ClientState::Online);
    for node in online_clients {
        let users: Vec<UserEntry> = node.machine.users().cloned().collect();
        if users != online {
            out.push(format!(
                "{}: its list {users:?} differs from the server's {online:?}",
                super::who(node)
            ));
        }
    }
    for name in &world.scenario.names {
        if !online.iter().any(|e| e.name == *name) {
            out.push(format!("user {name} is not online at the end"));
        }
    }
}

/// Replays the server's events into its registry, checking each one.
fn replay(world: &World, out: &mut Findings) -> Vec<Registered> {
    let config = world.server.machine.config();
    let mut registry: Vec<Registered> = Vec::new();
    let mut pending: Vec<(Name, SocketAddr, SimTime)> = Vec::new();
    for (i, seen) in world.journal.server_log.iter().enumerate() {
        // A restarted server starts with no one.
        if world.journal.server_restarts.contains(&i) {
            registry.clear();
            pending.clear();
        }
        let at = seen.at;
        match &seen.event {
            ServerEvent::Store { .. } | ServerEvent::Reaping { .. } => out.push(format!(
                "the server alone spoke of a cluster: {:?}",
                seen.event
            )),
            ServerEvent::Accepted { name, from } => pending.push((name.clone(), *from, at)),
            ServerEvent::Rejected { from, reason } => {
                let forgers = matches!(seen.via, Via::Datagram(source)
                    if world.attacker_sources().contains(&source));
                if forgers {
                    continue;
                }
                let plausible = *reason == RejectReason::NameTaken
                    && world
                        .clients
                        .iter()
                        .filter(|n| n.endpoint == *from && n.launched_at <= at)
                        .any(|n| {
                            registry
                                .iter()
                                .any(|r| r.entry.name == n.name && r.entry.endpoint != *from)
                                || pending.iter().any(|(name, src, t)| {
                                    *name == n.name
                                        && src != from
                                        && *t + config.pending_timeout + TIMER_SLACK >= at
                                })
                        });
                if !plausible {
                    out.push(format!(
                        "server: rejected {from} at {} with {reason}, though its name was free",
                        fmt_time(at)
                    ));
                }
            }
            ServerEvent::Joined { name, endpoint } => {
                if registry.iter().any(|r| r.entry.name == *name) {
                    out.push(format!(
                        "server: {name} joined at {} while already online",
                        fmt_time(at)
                    ));
                }
                // Only the forger speaks the classic dialect here: a classic user is its own.
                let holder = if seen.classic {
                    None
                } else {
                    attribute(world, seen.session, name, *endpoint, at, out)
                };
                pending.retain(|(n, _, _)| n != name);
                registry.push(Registered {
                    entry: UserEntry::new(name.clone(), *endpoint),
                    holder,
                    since: at,
                });
            }
            ServerEvent::Left {
                name,
                endpoint,
                reason,
            } => {
                let found = registry
                    .iter()
                    .position(|r| r.entry.name == *name && r.entry.endpoint == *endpoint);
                match found {
                    None => out.push(format!(
                        "server: {name} at {endpoint} left at {} ({reason}) while not online",
                        fmt_time(at)
                    )),
                    Some(i) => {
                        let r = registry.remove(i);
                        if let Some(inc) = r.holder {
                            check_leave(world, inc, *reason, at, r.since, out);
                        }
                    }
                }
            }
            ServerEvent::ConnectionRefused { .. } => {}
        }
    }
    registry
}

/// Which incarnation a join belongs to: the owner of the connection that got its snapshot.
fn attribute(
    world: &World,
    session: Option<ConnId>,
    name: &Name,
    endpoint: SocketAddr,
    at: SimTime,
    out: &mut Findings,
) -> Option<IncId> {
    match session.and_then(|conn| world.conn_owner(conn)) {
        Some(Owner::Client(inc)) => {
            let node = world.clients.get(inc.0)?;
            if node.name != *name || node.endpoint != endpoint {
                out.push(format!(
                    "server: {name} at {endpoint} joined at {} on the connection of {} \
                     (life {:?})",
                    fmt_time(at),
                    super::who(node),
                    node.life
                ));
                return None;
            }
            Some(inc)
        }
        Some(Owner::Attacker) => {
            out.push(format!(
                "server: the forger's connection joined as {name} at {endpoint} at {}",
                fmt_time(at)
            ));
            None
        }
        None => {
            out.push(format!(
                "server: {name} at {endpoint} joined at {} without a snapshot on any connection",
                fmt_time(at)
            ));
            None
        }
    }
}

/// A leave must match what happened to the client.
fn check_leave(
    world: &World,
    inc: IncId,
    reason: LeaveReason,
    at: SimTime,
    since: SimTime,
    out: &mut Findings,
) {
    let Some(node) = world.clients.get(inc.0) else {
        return;
    };
    let who = super::who(node);
    let when = fmt_time(at);
    let before = |t: Option<SimTime>| t.is_some_and(|t| t <= at);
    let (crashed_at, silent) = match node.life {
        Life::Crashed { at, fin } => (Some(at), !fin),
        _ => (None, false),
    };
    let exited_at = match node.life {
        Life::Exited { at } => Some(at),
        _ => None,
    };
    let plausible = match reason {
        LeaveReason::Logout => before(node.logout_at),
        LeaveReason::IdleTimeout => silent && before(crashed_at),
        LeaveReason::Closed => {
            before(crashed_at) || before(exited_at) || before(node.cut_at) || before(node.logout_at)
        }
        LeaveReason::Replaced => world.clients.iter().any(|n| {
            n.inc != inc
                && n.name == node.name
                && n.endpoint == node.endpoint
                && n.launched_at <= at
        }),
        LeaveReason::SlowConsumer | LeaveReason::LeaseExpired | LeaveReason::Shutdown => false,
    };
    if !plausible {
        out.push(format!(
            "server: {who} left at {when} for {reason}, which did not happen (life {:?}, logout {:?}, cut {:?})",
            node.life, node.logout_at, node.cut_at
        ));
    }
    if let Some(crash) = crashed_at {
        let limit = crash.max(since) + world.server.machine.config().idle_timeout + TIMER_SLACK;
        if at > limit {
            out.push(format!(
                "server: {who} crashed at {} but left only at {when}, after the idle timeout",
                fmt_time(crash)
            ));
        }
    }
}
