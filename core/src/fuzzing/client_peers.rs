//! The fuzzed client's peers, each a secure layer of its own: for every pool name the user with
//! its own key, and a twin claiming the same name with another key. The network between them and
//! the client delivers at once, but nothing to a muted name; the fuzzer decides what they seal,
//! and whether a name's datagrams come directly or through the relay.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Instant;

use blake2::{Blake2s256, Digest};
use bytes::Bytes;

use crate::client::secure::remote::Remote;
use crate::client::secure::Peer;
use crate::client::{StaticKeys, WallClock};
use crate::wire::{Name, PublicKey};

/// The key pair of `name` (`twin`: of its impostor). The fuzzed client is pool name 0 and has
/// its own pair from here too.
pub(super) fn keys_of(name: &Name, twin: bool) -> StaticKeys {
    let private: [u8; 32] = Blake2s256::new()
        .chain_update(b"feige fuzz key")
        .chain_update([u8::from(twin)])
        .chain_update(name.as_bytes())
        .finalize()
        .into();
    StaticKeys::from_private(private)
}

/// One peer (named by its remote), whether it is the twin, and where its datagrams come from.
struct Slot {
    twin: bool,
    remote: Remote,
    source: SocketAddr,
}

pub(super) struct Peers {
    /// Made when first used (every one costs a key derivation), kept in that order so that a
    /// run replays exactly.
    slots: Vec<Slot>,
    /// The client as every peer believes it.
    client: Peer,
    /// Where a peer speaks from until the fuzzer says otherwise.
    home: SocketAddr,
    muted: HashSet<Name>,
    /// Names whose datagrams reach the client through the relay.
    relaying: HashSet<Name>,
    start: Instant,
}

/// A datagram a peer sent to the client: whose, from where, and whether it is relayed.
pub(super) struct Outgoing {
    pub(super) name: Name,
    pub(super) source: SocketAddr,
    pub(super) relayed: bool,
    pub(super) data: Bytes,
}

impl Peers {
    pub(super) fn new(client: Peer, home: SocketAddr, start: Instant) -> Self {
        Peers {
            slots: Vec::new(),
            client,
            home,
            muted: HashSet::new(),
            relaying: HashSet::new(),
            start,
        }
    }

    fn slot(&mut self, name: &Name, twin: bool, source: SocketAddr) -> &mut Slot {
        let found = self
            .slots
            .iter()
            .position(|s| s.remote.name() == name && s.twin == twin);
        let at = match found {
            Some(at) => at,
            None => {
                let keys = keys_of(name, twin);
                let seed = keys.public().as_bytes().map(|b| b ^ 0xa5);
                let clock = WallClock {
                    unix_ms: 1_700_000_000_000,
                    at: self.start,
                };
                let remote = Remote::new(name.clone(), keys, seed, clock, self.client.clone());
                self.slots.push(Slot {
                    twin,
                    remote,
                    source,
                });
                self.slots.len() - 1
            }
        };
        &mut self.slots[at]
    }

    /// The public key of `name` or its twin.
    pub(super) fn key(&mut self, name: &Name, twin: bool) -> PublicKey {
        let source = self.home;
        self.slot(name, twin, source).remote.key()
    }

    /// `name` (or its twin) seals `plaintext` to the client, from `source` from now on; returns
    /// the key it sealed with.
    pub(super) fn seal(
        &mut self,
        now: Instant,
        name: &Name,
        twin: bool,
        source: SocketAddr,
        plaintext: &[u8],
    ) -> PublicKey {
        let slot = self.slot(name, twin, source);
        slot.source = source;
        // Chat plaintexts are made to fit; one that does not is simply not sent.
        let _ = slot.remote.seal(now, plaintext);
        slot.remote.key()
    }

    /// Mutes or unmutes `name` and its twin: the client's datagrams to them are lost.
    pub(super) fn toggle_mute(&mut self, name: &Name) {
        if !self.muted.remove(name) {
            self.muted.insert(name.clone());
        }
    }

    /// Sends `name`'s datagrams through the relay from now on, or no longer.
    pub(super) fn toggle_relaying(&mut self, name: &Name) {
        if !self.relaying.remove(name) {
            self.relaying.insert(name.clone());
        }
    }

    /// `name` (or its twin) drops its sessions with the client, as a restarted peer would.
    pub(super) fn forget(&mut self, name: &Name, twin: bool) {
        let source = self.home;
        self.slot(name, twin, source).remote.forget();
    }

    /// Every name some peer speaks from `endpoint`.
    pub(super) fn names_at(&self, endpoint: SocketAddr) -> Vec<Name> {
        self.slots
            .iter()
            .filter(|s| s.source == endpoint)
            .map(|s| s.remote.name().clone())
            .collect()
    }

    /// A sealed datagram of the client reaches every unmuted peer of `names` (those listed or
    /// speaking where it was sent, or the one it was relayed to); returns what they opened.
    pub(super) fn deliver(&mut self, now: Instant, names: &[Name], data: &[u8]) -> Vec<Vec<u8>> {
        let mut opened = Vec::new();
        for slot in &mut self.slots {
            let name = slot.remote.name();
            if !names.contains(name) || self.muted.contains(name) {
                continue;
            }
            // A twin cannot open what was sealed for the user, nor the user the twin's: refused.
            if let Ok(Some(o)) = slot.remote.open(now, data) {
                opened.push(o.plaintext);
            }
        }
        opened
    }

    /// Everything the peers sent since last asked.
    pub(super) fn outgoing(&mut self) -> Vec<Outgoing> {
        let mut out = Vec::new();
        for slot in &mut self.slots {
            let name = slot.remote.name().clone();
            let relayed = self.relaying.contains(&name);
            let source = slot.source;
            out.extend(slot.remote.sent().into_iter().map(|data| Outgoing {
                name: name.clone(),
                source,
                relayed,
                data,
            }));
        }
        out
    }

    /// Runs the peers' due timers; whether any was.
    pub(super) fn timers(&mut self, now: Instant) -> bool {
        let mut fired = false;
        for slot in &mut self.slots {
            if slot.remote.next_deadline().is_some_and(|at| at <= now) {
                slot.remote.handle_timeout(now);
                fired = true;
            }
        }
        fired
    }
}
