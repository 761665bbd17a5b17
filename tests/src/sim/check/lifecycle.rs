//! Each client's own story must be coherent: one terminal event at most and nothing after it, a
//! list kept exactly by its events, every end explained by something that really happened.

use feige_core::client::{ClientEvent, ClientState, DisconnectReason, LoginFailure};
use feige_core::server::ServerEvent;
use feige_core::wire::UserEntry;

use super::super::journal::{fmt_time, Seen};
use super::super::node::{ClientNode, Life};
use super::super::world::World;
use super::Findings;

/// Checks every incarnation.
pub fn check(world: &World, out: &mut Findings) {
    for node in &world.clients {
        let log = world.journal.events_of(node.inc);
        check_one(world, node, log, out);
    }
}

fn check_one(world: &World, node: &ClientNode, log: &[Seen], out: &mut Findings) {
    let who = super::who(node);
    let mut list: Option<Vec<UserEntry>> = None;
    let mut terminal: Option<&Seen> = None;
    for seen in log {
        if let Some(t) = terminal {
            out.push(format!(
                "{who}: {:?} at {} after its terminal {:?}",
                seen.event,
                fmt_time(seen.at),
                t.event
            ));
            break;
        }
        match &seen.event {
            ClientEvent::LoggedIn { me, users } => {
                if list.is_some() {
                    out.push(format!("{who}: a second LoggedIn"));
                }
                if me.name != node.name || me.endpoint != node.endpoint {
                    out.push(format!("{who}: LoggedIn as {me:?}"));
                }
                if !users.contains(me) {
                    out.push(format!("{who}: its snapshot {users:?} does not list it"));
                }
                if has_duplicate_names(users) {
                    out.push(format!("{who}: its snapshot lists a name twice: {users:?}"));
                }
                list = Some(users.clone());
            }
            ClientEvent::Joined(entry) => match list.as_mut() {
                None => out.push(format!("{who}: Joined({entry:?}) before LoggedIn")),
                Some(l) => {
                    if l.iter().any(|u| u.name == entry.name) {
                        out.push(format!(
                            "{who}: Joined({entry:?}) at {} while that name is listed",
                            fmt_time(seen.at)
                        ));
                    }
                    l.push(entry.clone());
                }
            },
            ClientEvent::Reconnected { me, users } => match list.as_mut() {
                None => out.push(format!("{who}: Reconnected({me:?}) before LoggedIn")),
                Some(l) => {
                    let others = |v: &[UserEntry]| {
                        let mut v: Vec<UserEntry> =
                            v.iter().filter(|u| u.name != me.name).cloned().collect();
                        v.sort_by(|a, b| a.name.cmp(&b.name));
                        v
                    };
                    if others(l) != others(users) || !users.contains(me) {
                        out.push(format!(
                            "{who}: Reconnected with {users:?}, but its events told {l:?}"
                        ));
                    }
                    *l = users.clone();
                }
            },
            ClientEvent::Left(entry) => match list.as_mut() {
                None => out.push(format!("{who}: Left({entry:?}) before LoggedIn")),
                Some(l) => match l.iter().position(|u| u == entry) {
                    Some(i) => {
                        l.remove(i);
                    }
                    None => out.push(format!(
                        "{who}: Left({entry:?}) at {} for someone not on its list",
                        fmt_time(seen.at)
                    )),
                },
            },
            ClientEvent::Message { .. }
            | ClientEvent::Sent { .. }
            | ClientEvent::Delivered { .. }
            | ClientEvent::Failed { .. }
            | ClientEvent::KeyPinned { .. }
            | ClientEvent::KeyChanged { .. }
            | ClientEvent::Path { .. }
            | ClientEvent::Queued { .. }
            | ClientEvent::Reconnecting { .. } => {
                if list.is_none() {
                    out.push(format!("{who}: {:?} before LoggedIn", seen.event));
                }
            }
            ClientEvent::LoginFailed(_) | ClientEvent::Disconnected(_) | ClientEvent::LoggedOut => {
                terminal = Some(seen);
            }
        }
    }
    let logged_in = list.is_some();
    if let Some(t) = terminal {
        check_terminal(world, node, t, logged_in, out);
    }
    if node.logout_at.is_some()
        && !node.crashed()
        && !matches!(terminal.map(|t| &t.event), Some(ClientEvent::LoggedOut))
    {
        out.push(format!(
            "{who}: logged out at {} but its end was {:?}",
            fmt_time(node.logout_at.unwrap_or_default()),
            terminal.map(|t| &t.event)
        ));
    }
    match node.life {
        Life::Running => {
            let state = node.machine.state();
            if state != ClientState::Online {
                out.push(format!("{who}: still {state:?} at the end"));
            } else if let Some(l) = &list {
                let users: Vec<UserEntry> = node.machine.users().cloned().collect();
                if users != *l {
                    out.push(format!(
                        "{who}: users() {users:?} differs from the list its events built {l:?}"
                    ));
                }
                let me = UserEntry::new(node.name.clone(), node.endpoint);
                if node.machine.me() != Some(&me) {
                    out.push(format!("{who}: me() is {:?}", node.machine.me()));
                }
            }
        }
        Life::Exited { .. } => {
            if node.machine.state() != ClientState::Closed {
                out.push(format!(
                    "{who}: reported {:?} but its state is {:?}",
                    terminal.map(|t| &t.event),
                    node.machine.state()
                ));
            }
        }
        Life::Crashed { .. } => {}
    }
    if node.must_log_in && !(node.is_running() && logged_in) {
        out.push(format!(
            "{who}: logged in on a calm network after everything settled, yet ended {:?}",
            terminal.map(|t| &t.event)
        ));
    }
}

/// The terminal event must fit what happened to this client.
fn check_terminal(world: &World, node: &ClientNode, t: &Seen, logged_in: bool, out: &mut Findings) {
    let who = super::who(node);
    let at = fmt_time(t.at);
    match &t.event {
        ClientEvent::LoginFailed(failure) => {
            if logged_in {
                out.push(format!("{who}: LoginFailed({failure}) after LoggedIn"));
            }
            let told = |wanted: &dyn Fn(&ServerEvent) -> bool| {
                world
                    .journal
                    .server_log
                    .iter()
                    .any(|s| s.at <= t.at && wanted(&s.event))
            };
            match failure {
                LoginFailure::Rejected(reason) => {
                    let real = told(&|e| {
                        matches!(e, ServerEvent::Rejected { from, reason: r }
                            if *from == node.endpoint && r == reason)
                    });
                    if !real {
                        out.push(format!(
                            "{who}: LoginFailed(Rejected({reason})) at {at}, but the server never \
                             rejected its endpoint so (a forged Reject was believed?)"
                        ));
                    }
                }
                LoginFailure::Refused(reason) => {
                    let real = told(&|e| {
                        matches!(e, ServerEvent::ConnectionRefused { conn, reason: r }
                            if Some(*conn) == node.conn && r == reason)
                    });
                    if !real {
                        out.push(format!(
                            "{who}: LoginFailed(Refused({reason})) at {at}, but the server never \
                             refused its connection so"
                        ));
                    }
                }
                LoginFailure::BadSnapshot => {
                    out.push(format!("{who}: LoginFailed(BadSnapshot) at {at}"));
                }
                LoginFailure::Timeout
                | LoginFailure::ConnectFailed
                | LoginFailure::ConnectionLost => {}
            }
        }
        ClientEvent::Disconnected(reason) => {
            if !logged_in {
                out.push(format!(
                    "{who}: Disconnected({reason}) at {at} before LoggedIn"
                ));
            }
            // A lost link is logged in again; only losing the name ends a session.
            if !matches!(
                reason,
                DisconnectReason::Replaced | DisconnectReason::NameTaken
            ) {
                out.push(format!(
                    "{who}: Disconnected({reason}) at {at}: it should reconnect"
                ));
            }
        }
        ClientEvent::LoggedOut if node.logout_at.is_none() => {
            out.push(format!("{who}: LoggedOut at {at} without logging out"));
        }
        _ => {}
    }
}

fn has_duplicate_names(users: &[UserEntry]) -> bool {
    let mut names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    names.sort_unstable();
    names.windows(2).any(|w| w[0] == w[1])
}
