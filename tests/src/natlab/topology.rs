//! One lab: a server and two client hosts (alice and bob), each host behind the NAT its
//! [`Site`] asks for, all joined by a small routed "internet".
//!
//! ```text
//!   srv ──── inet ──┬── alice-nat ── alice      (a site behind a NAT)
//!                   └── bob                     (a site without NAT)
//!
//!   namespace       interface  address             what else
//!   <p>-srv         eth0       203.0.113.10/24     default via 203.0.113.1
//!   <p>-inet        srv        203.0.113.1/24      veth to <p>-srv; ip_forward=1
//!                   pub        198.51.100.1/24     the bridge of the two ports below
//!                   alice, bob                     bridge ports, veths to each site
//!   <p>-alice-nat   wan        198.51.100.11/24    default via 198.51.100.1; ip_forward=1
//!                   lan        10.0.1.1/24         nft table `ip natlab` (see nat)
//!   <p>-alice       eth0       10.0.1.2/24         default via 10.0.1.1
//!   <p>-bob         eth0       198.51.100.12/24    default via 198.51.100.1
//! ```
//!
//! (`<p>` is the lab's prefix, `fg<pid>-<n>`; a site without NAT that loses datagrams has its
//! loss on its bridge port, in `<p>-inet`'s table `bridge natlab`.)
//!
//! Alice is site 1 and bob site 2: a site's public address is `198.51.100.1N` (its router's WAN
//! side, or the host itself without NAT), its private network `10.0.N.0/24`. Public addresses come
//! only from the documentation ranges (RFC 5737), private ones exist only inside the lab's
//! namespaces, and nothing is configured in the root namespace or linked to it: no packet of a
//! lab can leave it, and labs are independent of each other and of the machine's network.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::Path;

use super::nat::{self, NatKind, Site, HOST_IF, LAN, WAN};
use super::netns::{self, Netns};
use crate::proc::Proc;

/// The server host's address.
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
/// Where the lab's server takes logins.
pub const SERVER_UDP: SocketAddr = SocketAddr::V4(SocketAddrV4::new(SERVER_IP, 9000));
/// Where the lab's server keeps its sessions.
pub const SERVER_TCP: SocketAddr = SocketAddr::V4(SocketAddrV4::new(SERVER_IP, 9001));

/// The internet router's address on the server's link.
const SERVER_GATEWAY: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
/// The internet router's address on the clients' public network.
const PUBLIC_GATEWAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

/// A host of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The server's host, at [`SERVER_IP`].
    Server,
    /// The first client's host (site 1).
    Alice,
    /// The second client's host (site 2).
    Bob,
}

/// Where a client host ended up.
struct Placed {
    /// Index of the host's namespace in [`Lab::namespaces`].
    netns: usize,
    /// The address the rest of the lab reaches the site at.
    public: Ipv4Addr,
}

/// A running lab; every namespace is deleted (and every process in it killed) on drop.
pub struct Lab {
    namespaces: Vec<Netns>,
    server: usize,
    alice: Placed,
    bob: Placed,
}

impl Lab {
    /// Builds the network for `alice` and `bob`'s sites. Needs root, `ip` and `nft` (see
    /// [`unavailable`](super::unavailable)); panics with the failing command otherwise.
    pub fn new(alice: Site, bob: Site) -> Lab {
        netns::sweep_stale();
        let prefix = netns::fresh_prefix();
        // Created as they are needed, and kept in this vector at once, so a panic half-way
        // still deletes every namespace made so far.
        let mut namespaces = Vec::new();
        let mut add = |role: &str| {
            namespaces.push(Netns::create(format!("{prefix}-{role}")));
            namespaces.len() - 1
        };
        let inet = add("inet");
        let server = add("srv");
        let sites = [("alice", 1u8, alice), ("bob", 2, bob)].map(|(name, n, site)| {
            let router = (site.nat != NatKind::None).then(|| add(&format!("{name}-nat")));
            (name, n, site, router, add(name))
        });

        let name = |i: usize| namespaces[i].name().to_owned();
        let mut internet = vec![
            "link add name pub type bridge".to_owned(),
            format!("addr add {PUBLIC_GATEWAY}/24 dev pub"),
            "link set dev pub up".to_owned(),
            format!(
                "link add name srv type veth peer name {HOST_IF} netns {}",
                name(server)
            ),
            format!("addr add {SERVER_GATEWAY}/24 dev srv"),
            "link set dev srv up".to_owned(),
        ];
        for (site_name, _, _, router, host) in &sites {
            let (far_end, far_ns) = match router {
                Some(router) => (WAN, *router),
                None => (HOST_IF, *host),
            };
            internet.extend([
                format!(
                    "link add name {site_name} type veth peer name {far_end} netns {}",
                    name(far_ns)
                ),
                format!("link set dev {site_name} master pub"),
                format!("link set dev {site_name} up"),
            ]);
        }
        namespaces[inet].ip_batch(&internet);
        namespaces[inet].enable_forwarding();
        let lossy_ports: Vec<(&str, u8)> = sites
            .iter()
            .filter(|(_, _, site, _, _)| site.nat == NatKind::None)
            .map(|(name, _, site, _, _)| (*name, site.loss_percent))
            .collect();
        if let Some(ruleset) = nat::internet_ruleset(&lossy_ports) {
            namespaces[inet].nft(&ruleset);
        }
        namespaces[server].ip_batch(&interface(HOST_IF, SERVER_IP, SERVER_GATEWAY));

        let [alice, bob] = sites.map(|(_, n, site, router, host)| {
            let public = Ipv4Addr::new(198, 51, 100, 10 + n);
            let Some(router) = router else {
                namespaces[host].ip_batch(&interface(HOST_IF, public, PUBLIC_GATEWAY));
                return Placed {
                    netns: host,
                    public,
                };
            };
            let lan_gateway = Ipv4Addr::new(10, 0, n, 1);
            let inner = Ipv4Addr::new(10, 0, n, 2);
            let mut commands = interface(WAN, public, PUBLIC_GATEWAY);
            commands.extend([
                format!(
                    "link add name {LAN} type veth peer name {HOST_IF} netns {}",
                    namespaces[host].name()
                ),
                format!("addr add {lan_gateway}/24 dev {LAN}"),
                format!("link set dev {LAN} up"),
            ]);
            namespaces[router].ip_batch(&commands);
            namespaces[router].enable_forwarding();
            namespaces[router].nft(&nat::router_ruleset(site.nat, site.loss_percent));
            namespaces[host].ip_batch(&interface(HOST_IF, inner, lan_gateway));
            Placed {
                netns: host,
                public,
            }
        });
        Lab {
            namespaces,
            server,
            alice,
            bob,
        }
    }

    /// Starts `program args` on `host`, killed when the returned [`Proc`] is dropped (and, at
    /// the latest, when the lab is).
    pub fn spawn(&self, host: Host, label: &str, program: &Path, args: &[&str]) -> Proc {
        self.namespaces[self.netns(host)].spawn(label, program, args)
    }

    /// The address the rest of the lab reaches `host` at: its router's WAN address behind a
    /// NAT, its own otherwise.
    pub fn public_ip(&self, host: Host) -> Ipv4Addr {
        match host {
            Host::Server => SERVER_IP,
            Host::Alice => self.alice.public,
            Host::Bob => self.bob.public,
        }
    }

    fn netns(&self, host: Host) -> usize {
        match host {
            Host::Server => self.server,
            Host::Alice => self.alice.netns,
            Host::Bob => self.bob.netns,
        }
    }
}

/// The commands giving `dev` the address `ip/24`, bringing it up and routing everything else
/// through `gateway`.
fn interface(dev: &str, ip: Ipv4Addr, gateway: Ipv4Addr) -> Vec<String> {
    vec![
        format!("addr add {ip}/24 dev {dev}"),
        format!("link set dev {dev} up"),
        format!("route add default via {gateway} dev {dev}"),
    ]
}
