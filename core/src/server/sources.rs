//! How much each source holds, per address and per network prefix, so that one host — or one
//! network of hosts, which an attacker can cheaply own — cannot take every place.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::IpAddr;

/// A bound per source address and per prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    pub(crate) per_ip: usize,
    pub(crate) per_prefix: usize,
}

/// A count of things (pending logins, sessions, connections…) by source address and by the
/// prefix that address is in. Every change is O(1), and an address or prefix whose count falls
/// to zero is forgotten, so the memory follows what is held, not who ever came.
#[derive(Debug)]
pub(crate) struct Sources {
    prefix_v4: u8,
    prefix_v6: u8,
    by_ip: HashMap<IpAddr, usize>,
    /// Keyed by the address with its host bits cleared.
    by_prefix: HashMap<IpAddr, usize>,
    total: usize,
}

impl Sources {
    /// Counts by address and by `/prefix_v4` (IPv4) or `/prefix_v6` (IPv6) network; lengths past
    /// the address size mean the address itself.
    pub(crate) fn new(prefix_v4: u8, prefix_v6: u8) -> Self {
        Sources {
            prefix_v4,
            prefix_v6,
            by_ip: HashMap::new(),
            by_prefix: HashMap::new(),
            total: 0,
        }
    }

    /// One more held by `ip`.
    pub(crate) fn add(&mut self, ip: IpAddr) {
        let ip = ip.to_canonical();
        *self.by_ip.entry(ip).or_default() += 1;
        *self.by_prefix.entry(self.prefix(ip)).or_default() += 1;
        self.total += 1;
    }

    /// One fewer held by `ip`. Removing what was never added changes nothing.
    pub(crate) fn remove(&mut self, ip: IpAddr) {
        let ip = ip.to_canonical();
        if decrement(&mut self.by_ip, ip) {
            let prefix = self.prefix(ip);
            decrement(&mut self.by_prefix, prefix);
            self.total -= 1;
        }
    }

    /// How many `ip` holds.
    pub(crate) fn at_ip(&self, ip: IpAddr) -> usize {
        let ip = ip.to_canonical();
        self.by_ip.get(&ip).copied().unwrap_or(0)
    }

    /// How many the prefix of `ip` holds, `ip` included.
    pub(crate) fn in_prefix(&self, ip: IpAddr) -> usize {
        let prefix = self.prefix(ip.to_canonical());
        self.by_prefix.get(&prefix).copied().unwrap_or(0)
    }

    /// Whether `ip` may hold one more under `limit`.
    pub(crate) fn admits(&self, ip: IpAddr, limit: Limit) -> bool {
        self.at_ip(ip) < limit.per_ip && self.in_prefix(ip) < limit.per_prefix
    }

    /// How many are held in all.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.by_ip.clear();
        self.by_prefix.clear();
        self.total = 0;
    }

    /// The network `ip` is in, as an address with its host bits cleared.
    fn prefix(&self, ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4) & mask(self.prefix_v4, 32) as u32;
                IpAddr::V4(bits.into())
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & mask(self.prefix_v6, 128);
                IpAddr::V6(bits.into())
            }
        }
    }
}

/// The `len` high bits of a `width`-bit address set (`len` is capped at `width`).
fn mask(len: u8, width: u32) -> u128 {
    let len = u32::from(len).min(width);
    let ones = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    ones >> (128 - width)
}

/// Takes one from `key`'s count, forgetting it at zero; false if it had none.
fn decrement(counts: &mut HashMap<IpAddr, usize>, key: IpAddr) -> bool {
    match counts.entry(key) {
        Entry::Occupied(mut e) if *e.get() > 1 => {
            *e.get_mut() -= 1;
            true
        }
        Entry::Occupied(e) => {
            e.remove();
            true
        }
        Entry::Vacant(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn counts_by_address_and_by_prefix() {
        let mut s = Sources::new(24, 64);
        s.add(ip("192.0.2.1"));
        s.add(ip("192.0.2.1"));
        s.add(ip("192.0.2.200"));
        s.add(ip("192.0.3.1"));
        s.add(ip("2001:db8::1"));
        s.add(ip("2001:db8::ffff:1"));
        s.add(ip("2001:db8:0:1::1"));
        assert_eq!(s.at_ip(ip("192.0.2.1")), 2);
        assert_eq!(s.in_prefix(ip("192.0.2.77")), 3);
        assert_eq!(s.in_prefix(ip("192.0.3.9")), 1);
        assert_eq!(s.in_prefix(ip("2001:db8::42")), 2);
        assert_eq!(s.in_prefix(ip("2001:db8:0:1::")), 1);
        assert_eq!(s.total(), 7);
        let limit = Limit {
            per_ip: 3,
            per_prefix: 3,
        };
        assert!(s.admits(ip("192.0.3.1"), limit));
        assert!(!s.admits(ip("192.0.2.5"), limit));
    }

    #[test]
    fn an_ipv4_mapped_address_is_its_ipv4_address() {
        let mut s = Sources::new(24, 64);
        s.add(IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped()));
        assert_eq!(s.at_ip(ip("192.0.2.1")), 1);
        assert_eq!(s.in_prefix(ip("192.0.2.9")), 1);
        s.remove(ip("192.0.2.1"));
        assert_eq!(s.total(), 0);
    }

    #[test]
    fn prefix_lengths_past_the_address_size_mean_the_address() {
        let mut s = Sources::new(200, 200);
        s.add(ip("192.0.2.1"));
        s.add(ip("::1"));
        assert_eq!(s.in_prefix(ip("192.0.2.2")), 0);
        assert_eq!(s.in_prefix(ip("192.0.2.1")), 1);
        assert_eq!(s.in_prefix(ip("::2")), 0);
        let mut everything = Sources::new(0, 0);
        everything.add(ip("192.0.2.1"));
        everything.add(ip("::1"));
        assert_eq!(everything.in_prefix(ip("10.0.0.1")), 1);
        assert_eq!(everything.in_prefix(IpAddr::V6(Ipv6Addr::LOCALHOST)), 1);
    }

    fn address() -> impl Strategy<Value = IpAddr> {
        // Few distinct addresses over few networks, so counts collide.
        prop_oneof![
            (0u8..3, 0u8..4).prop_map(|(net, host)| IpAddr::V4(Ipv4Addr::new(10, 0, net, host))),
            (0u16..3, 0u16..4).prop_map(|(net, host)| {
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, net, 0, 0, host, 1))
            }),
        ]
    }

    proptest! {
        /// Against a model that keeps every address held and counts by comparing prefixes; the
        /// maps never keep an empty entry.
        #[test]
        fn matches_a_model(ops in proptest::collection::vec((any::<bool>(), address()), 0..200)) {
            let mut s = Sources::new(24, 64);
            let mut held: Vec<IpAddr> = Vec::new();
            for (add, ip) in ops {
                if add {
                    s.add(ip);
                    held.push(ip);
                } else {
                    s.remove(ip);
                    if let Some(i) = held.iter().position(|h| *h == ip) {
                        held.swap_remove(i);
                    }
                }
                let same_prefix = |a: IpAddr, b: IpAddr| match (a, b) {
                    (IpAddr::V4(a), IpAddr::V4(b)) => a.octets()[..3] == b.octets()[..3],
                    (IpAddr::V6(a), IpAddr::V6(b)) => a.segments()[..4] == b.segments()[..4],
                    _ => false,
                };
                prop_assert_eq!(s.at_ip(ip), held.iter().filter(|h| **h == ip).count());
                prop_assert_eq!(
                    s.in_prefix(ip),
                    held.iter().filter(|h| same_prefix(**h, ip)).count()
                );
                prop_assert_eq!(s.total(), held.len());
                prop_assert!(s.by_ip.values().all(|&n| n > 0));
                prop_assert!(s.by_prefix.values().all(|&n| n > 0));
                prop_assert!(s.by_prefix.len() <= s.by_ip.len());
            }
        }
    }
}
