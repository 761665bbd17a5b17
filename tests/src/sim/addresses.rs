//! Who is where: the simulated address plan and which live client holds which UDP endpoint.
//!
//! Every address is loopback-style (127.x.y.z); nothing here ever touches a real socket. Several
//! clients share a host IP, as on a real machine, so the server's "same source IP" rules are
//! exercised.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::event::IncId;

/// The server's UDP socket.
pub const SERVER_UDP: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), 9000);

/// The server's TCP listener (announced in `Accept`).
pub const SERVER_TCP: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), 9001);

/// The forger's own address. It never spoofs source addresses (unless the run is about
/// spoofing): it speaks from here, from the other addresses of its network
/// ([`attacker_host`]), or from a host it shares with a user (any port but the user's).
pub const ATTACKER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 66, 6, 6)), 6666);

/// How many addresses the forger owns in its /24, beside [`ATTACKER`].
pub const ATTACKER_HOSTS: usize = 8;

/// The forger's `i`-th address in its /24 (127.66.6.0/24, the network of [`ATTACKER`]).
pub fn attacker_host(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 66, 6, 10 + (i % ATTACKER_HOSTS) as u8))
}

/// Whether `ip` is in the forger's network.
pub fn in_attacker_network(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.octets()[..3] == [127, 66, 6])
}

const FIRST_UDP_PORT: u16 = 40_000;
const FIRST_TCP_PORT: u16 = 50_000;

/// Hosts, ports, and the UDP endpoints bound by live clients.
#[derive(Debug)]
pub struct AddressBook {
    hosts: Vec<IpAddr>,
    next_udp: BTreeMap<IpAddr, u16>,
    next_tcp: BTreeMap<IpAddr, u16>,
    bound: BTreeMap<SocketAddr, IncId>,
}

impl AddressBook {
    /// `hosts` client machines (at least one).
    pub fn new(hosts: usize) -> Self {
        let hosts = (1..=hosts.max(1))
            .map(|h| IpAddr::V4(Ipv4Addr::new(127, 1, (h >> 8) as u8, h as u8)))
            .collect();
        AddressBook {
            hosts,
            next_udp: BTreeMap::new(),
            next_tcp: BTreeMap::new(),
            bound: BTreeMap::new(),
        }
    }

    /// The client hosts.
    pub fn hosts(&self) -> &[IpAddr] {
        &self.hosts
    }

    /// A UDP endpoint on `host` that no one has used yet.
    pub fn fresh_endpoint(&mut self, host: IpAddr) -> SocketAddr {
        SocketAddr::new(host, next_port(&mut self.next_udp, host, FIRST_UDP_PORT))
    }

    /// A fresh ephemeral port for an outgoing TCP connection from `host`.
    pub fn ephemeral(&mut self, host: IpAddr) -> SocketAddr {
        SocketAddr::new(host, next_port(&mut self.next_tcp, host, FIRST_TCP_PORT))
    }

    /// Binds `endpoint` to a client; false if a live client holds it already.
    pub fn bind(&mut self, endpoint: SocketAddr, inc: IncId) -> bool {
        if self.bound.contains_key(&endpoint) {
            return false;
        }
        self.bound.insert(endpoint, inc);
        true
    }

    /// Whether a live client holds `endpoint`.
    pub fn is_bound(&self, endpoint: SocketAddr) -> bool {
        self.bound.contains_key(&endpoint)
    }

    /// Frees `endpoint` (its holder crashed or exited).
    pub fn unbind(&mut self, endpoint: SocketAddr) {
        self.bound.remove(&endpoint);
    }

    /// The live client at `endpoint`.
    pub fn holder(&self, endpoint: SocketAddr) -> Option<IncId> {
        self.bound.get(&endpoint).copied()
    }
}

fn next_port(counters: &mut BTreeMap<IpAddr, u16>, host: IpAddr, first: u16) -> u16 {
    let port = counters.entry(host).or_insert(first);
    let current = *port;
    *port = port.checked_add(1).unwrap_or(first);
    current
}
