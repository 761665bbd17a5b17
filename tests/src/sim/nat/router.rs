//! A home router's NAT, as RFC 4787 sorts them: how it maps an inside endpoint to a public one
//! (per inside endpoint, or per inside endpoint *and* destination), and which datagrams from
//! outside it lets through a mapping (from anyone, or only from where the inside sent).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::super::agenda::SimTime;

/// The kinds of router the lab and the simulator know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NatKind {
    /// No router: the host has a public address.
    None,
    /// Endpoint-independent mapping, address-and-port-dependent filtering: the usual home
    /// router ("port-restricted cone").
    Cone,
    /// Address-and-port-dependent mapping (a new public port per destination) and filtering.
    Symmetric,
    /// Endpoint-independent mapping and filtering: once mapped, anyone may send in.
    FullCone,
}

impl NatKind {
    /// Every kind.
    pub const ALL: [NatKind; 4] = [
        NatKind::None,
        NatKind::Cone,
        NatKind::Symmetric,
        NatKind::FullCone,
    ];

    /// Whether two hosts behind these kinds can reach each other directly, once both send:
    /// all but a symmetric mapping facing a filter that only admits the endpoint it sent to.
    pub fn direct_possible(a: NatKind, b: NatKind) -> bool {
        let blocks = |x: NatKind, y: NatKind| {
            x == NatKind::Symmetric && matches!(y, NatKind::Cone | NatKind::Symmetric)
        };
        !(blocks(a, b) || blocks(b, a))
    }
}

impl fmt::Display for NatKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NatKind::None => "none",
            NatKind::Cone => "cone",
            NatKind::Symmetric => "symmetric",
            NatKind::FullCone => "full-cone",
        })
    }
}

/// What a mapping is for: one inside endpoint, or one inside endpoint toward one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Inside(SocketAddr),
    Session(SocketAddr, SocketAddr),
}

#[derive(Debug)]
struct Mapping {
    inside: SocketAddr,
    /// Destinations the inside sent to through it: what a filtering router lets back in.
    sent_to: BTreeSet<SocketAddr>,
    last_used: SimTime,
}

/// One router (or none) in front of one host.
#[derive(Debug)]
pub struct Router {
    kind: NatKind,
    public_ip: IpAddr,
    /// Mappings by public port.
    ports: BTreeMap<u16, Mapping>,
    keys: BTreeMap<Key, u16>,
    next_port: u16,
    /// A mapping unused this long is gone (Linux keeps an unanswered UDP flow 30 s, an
    /// answered one longer).
    timeout: Duration,
}

impl Router {
    /// A router of `kind` whose outside address is `public_ip` (the host's own address for
    /// [`NatKind::None`]).
    pub fn new(kind: NatKind, public_ip: IpAddr) -> Self {
        Router {
            kind,
            public_ip,
            ports: BTreeMap::new(),
            keys: BTreeMap::new(),
            next_port: 20_000,
            timeout: Duration::from_secs(60),
        }
    }

    /// The router's outside address.
    pub fn public_ip(&self) -> IpAddr {
        self.public_ip
    }

    /// A datagram from `inside` to `to` leaves: the public source it leaves with.
    pub fn outbound(&mut self, now: SimTime, inside: SocketAddr, to: SocketAddr) -> SocketAddr {
        let key = match self.kind {
            NatKind::None => return inside,
            NatKind::Cone | NatKind::FullCone => Key::Inside(inside),
            NatKind::Symmetric => Key::Session(inside, to),
        };
        self.expire(now);
        let port = match self.keys.get(&key) {
            Some(&port) => port,
            None => {
                let port = self.free_port(inside.port());
                self.keys.insert(key, port);
                let mapping = Mapping {
                    inside,
                    sent_to: BTreeSet::new(),
                    last_used: now,
                };
                self.ports.insert(port, mapping);
                port
            }
        };
        if let Some(mapping) = self.ports.get_mut(&port) {
            mapping.sent_to.insert(to);
            mapping.last_used = now;
        }
        SocketAddr::new(self.public_ip, port)
    }

    /// A datagram from `from` arrives at the public `to`: the inside endpoint it goes to, if
    /// the router lets it through.
    pub fn inbound(
        &mut self,
        now: SimTime,
        from: SocketAddr,
        to: SocketAddr,
    ) -> Option<SocketAddr> {
        if self.kind == NatKind::None {
            return (to.ip() == self.public_ip).then_some(to);
        }
        self.expire(now);
        let mapping = self.ports.get_mut(&to.port())?;
        let admitted = self.kind == NatKind::FullCone || mapping.sent_to.contains(&from);
        if !admitted {
            return None;
        }
        mapping.last_used = now;
        Some(mapping.inside)
    }

    /// A port for a new mapping: the inside one where the kind keeps ports and it is free.
    fn free_port(&mut self, inside: u16) -> u16 {
        if self.kind != NatKind::Symmetric && !self.ports.contains_key(&inside) {
            return inside;
        }
        while self.ports.contains_key(&self.next_port) {
            self.next_port = self.next_port.checked_add(1).unwrap_or(20_000);
        }
        let port = self.next_port;
        self.next_port = self.next_port.checked_add(1).unwrap_or(20_000);
        port
    }

    fn expire(&mut self, now: SimTime) {
        let timeout = self.timeout;
        let stale: Vec<u16> = self
            .ports
            .iter()
            .filter(|(_, m)| now.saturating_sub(m.last_used) >= timeout)
            .map(|(&port, _)| port)
            .collect();
        for port in stale {
            self.ports.remove(&port);
        }
        let ports = &self.ports;
        self.keys.retain(|_, port| ports.contains_key(port));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SocketAddr {
        text.parse().expect("an address")
    }

    const INSIDE: &str = "10.0.1.2:40000";
    const SERVER: &str = "203.0.113.10:9000";
    const PEER: &str = "198.51.100.2:40000";
    const OTHER: &str = "198.51.100.3:40000";

    fn router(kind: NatKind) -> Router {
        Router::new(kind, "198.51.100.1".parse().expect("an address"))
    }

    #[test]
    fn mapping_is_per_endpoint_except_symmetric() {
        for kind in [NatKind::Cone, NatKind::FullCone, NatKind::Symmetric] {
            let mut r = router(kind);
            let t = SimTime::ZERO;
            let a = r.outbound(t, at(INSIDE), at(SERVER));
            let b = r.outbound(t, at(INSIDE), at(PEER));
            assert_eq!(a == b, kind != NatKind::Symmetric, "{kind}");
            assert_eq!(a.ip(), r.public_ip());
        }
        let mut none = Router::new(NatKind::None, at(INSIDE).ip());
        assert_eq!(
            none.outbound(SimTime::ZERO, at(INSIDE), at(PEER)),
            at(INSIDE)
        );
    }

    #[test]
    fn filtering_lets_in_only_where_the_inside_sent_except_full_cone() {
        for kind in [NatKind::Cone, NatKind::FullCone, NatKind::Symmetric] {
            let mut r = router(kind);
            let t = SimTime::ZERO;
            let public = r.outbound(t, at(INSIDE), at(PEER));
            assert_eq!(r.inbound(t, at(PEER), public), Some(at(INSIDE)), "{kind}");
            let stranger = r.inbound(t, at(OTHER), public);
            assert_eq!(stranger.is_some(), kind == NatKind::FullCone, "{kind}");
            // Nothing comes in where nothing was mapped.
            let unmapped = SocketAddr::new(public.ip(), public.port() + 1);
            assert_eq!(r.inbound(t, at(PEER), unmapped), None, "{kind}");
        }
    }

    #[test]
    fn unused_mappings_expire() {
        let mut r = router(NatKind::Cone);
        let public = r.outbound(SimTime::ZERO, at(INSIDE), at(PEER));
        let later = Duration::from_secs(61);
        assert_eq!(r.inbound(later, at(PEER), public), None);
    }

    #[test]
    fn direct_paths_exist_for_all_but_two_pairs_of_kinds() {
        let blocked: Vec<(NatKind, NatKind)> = NatKind::ALL
            .iter()
            .flat_map(|&a| NatKind::ALL.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| !NatKind::direct_possible(a, b))
            .collect();
        use NatKind::{Cone, Symmetric};
        assert_eq!(
            blocked,
            [(Cone, Symmetric), (Symmetric, Cone), (Symmetric, Symmetric)]
        );
    }
}
