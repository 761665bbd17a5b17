//! The small fixed sets of names and addresses the state-machine targets draw from, so that
//! arbitrary operations collide (same name, same IP, same endpoint) often enough to matter.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::wire::Name;

/// Names, Chinese ones and keyword look-alikes included.
const NAMES: [&str; 6] = ["alice", "bob", "小明", "老王", "Bob Smith", "end"];

/// Names and addresses, picked by an arbitrary index (modulo the pool size).
pub(super) struct Pools {
    names: Vec<Name>,
    addresses: Vec<SocketAddr>,
}

impl Pools {
    pub(super) fn new() -> Self {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let lan = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        // Written as IPv4-mapped IPv6: the state machines must treat it as 127.0.0.1.
        let mapped = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());
        Pools {
            names: NAMES.iter().filter_map(|n| Name::new(n).ok()).collect(),
            addresses: vec![
                SocketAddr::new(loopback, 5000),
                SocketAddr::new(loopback, 5001),
                SocketAddr::new(lan, 5000),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 5000),
                SocketAddr::new(mapped, 5002),
                SocketAddr::new(lan, 40001),
                // Neighbours of `lan` and of ::1 in their /24 and /64: the per-prefix limits.
                SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3)), 5000),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 2)), 5000),
            ],
        }
    }

    pub(super) fn name(&self, index: u8) -> Name {
        self.names[usize::from(index) % self.names.len()].clone()
    }

    pub(super) fn address(&self, index: u8) -> SocketAddr {
        self.addresses[usize::from(index) % self.addresses.len()]
    }
}
