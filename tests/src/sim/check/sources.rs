//! The per-source limits, seen from outside: what the forger holds on the server — from the
//! server's own answers and from the connections it still holds — never passes them.
//!
//! Pending logins are not visible from outside, so a lower bound stands in for them: a login the
//! server accepted less than `pending_timeout` ago is still held (the forger never claims its
//! native logins, and never withdraws anything during the storm), as a pending login if it is
//! native (a native login is never bound by silence), as a login of some kind if it is classic
//! (a silent connection may have bound it). If that bound passes a limit, the server let the
//! source hold more than it may.

use std::collections::BTreeMap;
use std::net::IpAddr;

use feige_core::server::{ServerConfig, ServerEvent};
use feige_core::wire::Name;

use super::super::addresses::in_attacker_network;
use super::super::agenda::SimTime;
use super::super::journal::{fmt_time, Via};
use super::super::tcp::{Owner, Tcp};
use super::super::world::World;
use super::Findings;

/// The /24 an IPv4 address is in (the simulated network is IPv4 only).
fn prefix(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::from([a, b, c, 0])
        }
        IpAddr::V6(_) => ip,
    }
}

/// Counts by address and by prefix; a finding for each count over its limit.
#[derive(Default)]
struct Tally {
    by_ip: BTreeMap<IpAddr, usize>,
    by_prefix: BTreeMap<IpAddr, usize>,
}

impl Tally {
    fn add(&mut self, ip: IpAddr) {
        *self.by_ip.entry(ip).or_default() += 1;
        *self.by_prefix.entry(prefix(ip)).or_default() += 1;
    }

    fn over(&self, per_ip: usize, per_prefix: usize, what: &str) -> Vec<String> {
        let ips = self
            .by_ip
            .iter()
            .filter(|(_, &n)| n > per_ip)
            .map(|(ip, n)| format!("{ip} holds {n} {what}, over its limit of {per_ip}"));
        let prefixes = self
            .by_prefix
            .iter()
            .filter(|(_, &n)| n > per_prefix)
            .map(|(p, n)| {
                format!("network {p}/24 holds {n} {what}, over its limit of {per_prefix}")
            });
        ips.chain(prefixes).collect()
    }
}

/// The forger's connections the server holds now, per address and per network, against the
/// limits on unclaimed connections (the forger never claims: a silent connection the server
/// binds to a classic login of the forger's is closed at once).
pub fn connections_within_limits(tcp: &Tcp, config: &ServerConfig) -> Vec<String> {
    let mut held = Tally::default();
    for peer in tcp.held_at_server(Owner::Attacker) {
        held.add(peer.ip());
    }
    let share = config
        .max_connections
        .map_or(usize::MAX, |m| (m / 4).max(1));
    held.over(
        config.max_unclaimed_per_ip.min(share),
        config.max_unclaimed_per_prefix.min(share),
        "of the forger's unclaimed connections",
    )
    .into_iter()
    .map(|excess| format!("server: {excess}"))
    .collect()
}

/// One of the forger's logins the server accepted.
struct Accepted {
    at: SimTime,
    ip: IpAddr,
    classic: bool,
}

/// Replays the server's `Accept`s to logins from the forger's network.
pub fn check(world: &World, out: &mut Findings) {
    let config = world.server.machine.config();
    let mut recent: BTreeMap<Name, Accepted> = BTreeMap::new();
    for (i, seen) in world.journal.server_log.iter().enumerate() {
        // A restarted server holds nothing of before.
        if world.journal.server_restarts.contains(&i) {
            recent.clear();
        }
        let ServerEvent::Accepted { name, from } = &seen.event else {
            continue;
        };
        if !in_attacker_network(from.ip()) {
            continue;
        }
        let at = seen.at;
        recent.retain(|_, a| a.at + config.pending_timeout > at);
        recent.insert(
            name.clone(),
            Accepted {
                at,
                ip: from.ip(),
                // A classic login is answered at the endpoint it declares, never its source.
                classic: !matches!(seen.via, Via::Datagram(source) if source == *from),
            },
        );
        let mut pending = Tally::default();
        let mut logins = Tally::default();
        let mut classic = Tally::default();
        for a in recent.values() {
            logins.add(a.ip);
            if a.classic {
                classic.add(a.ip);
            } else {
                pending.add(a.ip);
            }
        }
        let mut findings = pending.over(
            config.max_pending_per_ip,
            config.max_pending_per_prefix,
            "pending logins",
        );
        findings.extend(logins.over(
            config.max_sessions_per_ip,
            config.max_sessions_per_prefix,
            "logins",
        ));
        findings.extend(classic.over(
            config.max_classic_per_ip,
            config.max_classic_per_prefix,
            "classic logins",
        ));
        if classic.by_ip.values().sum::<usize>() > config.max_classic_sessions {
            findings.push(format!(
                "the forger holds more than {} classic logins",
                config.max_classic_sessions
            ));
        }
        for finding in findings {
            out.push(format!("server: at {}, {finding}", fmt_time(at)));
        }
    }
}
