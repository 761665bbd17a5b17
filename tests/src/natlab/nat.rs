//! The kinds of NAT a client can sit behind, and the nftables rulesets that make a router
//! namespace behave as each one (RFC 4787's terms: *mapping* is how the public port is chosen,
//! *filtering* is who may send to it).
//!
//! Every router has two interfaces, [`WAN`] (the public side) and [`LAN`] (its one host). All its
//! rules live in one table, `ip natlab`:
//!
//! - **Mapping.** `masquerade` on the way out of `wan` keeps the host's source port when it is
//!   free (it always is: one host, one router), so every destination sees the same public
//!   address and port: endpoint-independent mapping. `masquerade random,fully-random` picks a
//!   random port for every new flow, that is for every destination address and port:
//!   address-and-port-dependent (symmetric) mapping.
//! - **Filtering.** Cone and symmetric routers accept from the WAN only packets of flows that
//!   conntrack already knows (`ct state established,related`), on both the `forward` chain
//!   (toward the host) and the `input` chain (to the router itself): address-and-port-dependent
//!   filtering. The `input` rule matters more than it looks: a peer's probe that reaches the
//!   router before the host has sent anything is addressed to the router itself; left to live,
//!   its conntrack entry holds the reply tuple the host's own first packet to that peer needs,
//!   and the router gives that packet another port, breaking the mapping exactly when hole
//!   punching needs it. Dropped in `input`, the probe's entry is never confirmed.
//! - **Full cone.** A dynamic map `fullcone` from public port to inner `address . port` is
//!   filled by every packet leaving `wan` (read from conntrack after `masquerade`, so it records
//!   the port actually used: `ct reply proto-dst`), and any new packet arriving on that port is
//!   DNATed through it: once the host has sent anything, anyone outside can reach it
//!   (endpoint-independent filtering). `ct status dnat accept` lets those packets through the
//!   same firewall.
//! - **Loss.** `numgen random mod 100 < N drop` on forwarded UDP, both directions (the kernel here
//!   has no `netem` qdisc). A host without NAT gets the same rule on its link instead: on its
//!   port of the internet's bridge, both directions ([`internet_ruleset`]), so every site loses
//!   the same share either way.

/// The router's interface toward the public network.
pub const WAN: &str = "wan";
/// The router's interface toward its host.
pub const LAN: &str = "lan";
/// A host's only interface (toward its router, or the public network for [`NatKind::None`]).
pub const HOST_IF: &str = "eth0";

/// The kinds of router, shared with the simulator's (`sim::nat`), which models the same four.
pub use crate::sim::nat::NatKind;

/// A client's site: what its host sits behind, and the share of its UDP datagrams lost at its
/// edge (each way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Site {
    /// The NAT in front of the host.
    pub nat: NatKind,
    /// Percent (0 to 100) of the UDP datagrams crossing the site's edge that are dropped, in each
    /// direction.
    pub loss_percent: u8,
}

impl Site {
    /// A site behind `nat` that loses nothing.
    pub fn new(nat: NatKind) -> Site {
        Site {
            nat,
            loss_percent: 0,
        }
    }

    /// The same site, losing `percent` of its UDP datagrams each way.
    pub fn with_loss(self, percent: u8) -> Site {
        assert!(percent <= 100, "a loss of {percent} % is no percentage");
        Site {
            loss_percent: percent,
            ..self
        }
    }
}

/// The rule dropping `percent` of the UDP packets it sees, or nothing for 0.
fn loss_rule(prefix: &str, percent: u8) -> String {
    if percent == 0 {
        String::new()
    } else {
        format!("{prefix} meta l4proto udp numgen random mod 100 < {percent} drop")
    }
}

/// The ruleset of the router in front of a host behind `kind` (not [`NatKind::None`], which has
/// no router).
pub fn router_ruleset(kind: NatKind, loss_percent: u8) -> String {
    let masquerade = match kind {
        NatKind::Symmetric => "masquerade random,fully-random",
        NatKind::None | NatKind::Cone | NatKind::FullCone => "masquerade",
    };
    let full_cone = kind == NatKind::FullCone;
    let full_cone_chains = if full_cone {
        format!(
            r#"
    map fullcone {{
        type inet_service : ipv4_addr . inet_service
        flags dynamic, timeout
        timeout 10m
    }}
    chain dstnat {{
        type nat hook prerouting priority dstnat; policy accept;
        iifname "{WAN}" dnat ip to udp dport map @fullcone
    }}
    chain record {{
        type filter hook postrouting priority srcnat + 10; policy accept;
        oifname "{WAN}" meta l4proto udp ct direction original update @fullcone {{ ct reply proto-dst : ct original ip saddr . ct original proto-src }}
    }}"#
        )
    } else {
        String::new()
    };
    let let_dnat_in = if full_cone {
        format!(r#"iifname "{WAN}" ct status dnat accept"#)
    } else {
        String::new()
    };
    let loss = loss_rule("", loss_percent);
    format!(
        r#"table ip natlab {{{full_cone_chains}
    chain srcnat {{
        type nat hook postrouting priority srcnat; policy accept;
        oifname "{WAN}" {masquerade}
    }}
    chain input {{
        type filter hook input priority filter; policy accept;
        iifname "{WAN}" ct state established,related accept
        iifname "{WAN}" drop
    }}
    chain forward {{
        type filter hook forward priority filter; policy accept;
        {loss}
        iifname "{WAN}" ct state established,related accept
        {let_dnat_in}
        iifname "{WAN}" drop
    }}
}}
"#
    )
}

/// The ruleset of the internet namespace: a `bridge` table that drops the share of UDP each
/// site without NAT asks for, on the bridge port that site hangs on (`(port, percent)` pairs),
/// or `None` when no such site loses anything.
///
/// The loss sits on the bridge, not on the host: a host's own `output` chain would drop a
/// datagram by failing its `sendto` with `EPERM`, which a program sees, where a router's drop
/// (or a real network's) goes unnoticed. Frames from the port pass `prerouting` whether they are
/// bridged to a router or routed to the server, and frames to it pass `postrouting` either way.
pub fn internet_ruleset(lossy_ports: &[(&str, u8)]) -> Option<String> {
    let rules = |direction: &str| {
        lossy_ports
            .iter()
            .filter(|(_, percent)| *percent > 0)
            .map(|(port, percent)| loss_rule(&format!(r#"{direction} "{port}""#), *percent))
            .collect::<Vec<_>>()
            .join("\n        ")
    };
    let (inbound, outbound) = (rules("iifname"), rules("oifname"));
    (!inbound.is_empty()).then(|| {
        format!(
            r#"table bridge natlab {{
    chain prerouting {{
        type filter hook prerouting priority filter; policy accept;
        {inbound}
    }}
    chain postrouting {{
        type filter hook postrouting priority filter; policy accept;
        {outbound}
    }}
}}
"#
        )
    })
}
