//! The chat layer on top of the secure layer and the paths: plaintexts sealed for trusted keys
//! only, and every sealed datagram sent the way that reaches its peer.

use std::time::Instant;

use bytes::Bytes;

use super::chat::Wire;
use super::keyring::Keyring;
use super::output::ClientEvent;
use super::path::Paths;
use super::persist::Record;
use super::roster::Roster;
use super::secure::{Directory, Peer, Sends};
use super::shared::Io;
use crate::wire::{Name, PublicKey};

/// The listed users whose key is trusted.
pub(crate) struct Listed<'a> {
    pub(crate) roster: &'a Roster,
    pub(crate) keyring: &'a Keyring,
}

impl Directory for Listed<'_> {
    fn trusted_key(&self, name: &Name) -> Option<PublicKey> {
        self.roster.get(name)?;
        self.keyring.trusted(name)
    }
}

/// The chat layer's wire for one input: every plaintext sealed with the key trusted for its
/// peer, every sealed datagram routed by the paths.
pub(crate) struct Sealer<'a, 'b> {
    pub(crate) io: &'a mut Io<'b>,
    pub(crate) paths: &'a mut Paths,
}

impl Sealer<'_, '_> {
    /// The peer as the secure layer needs it: its name and trusted key.
    pub(crate) fn peer(&self, name: &Name) -> Option<Peer> {
        let key = self.io.keyring.trusted(name)?;
        Some(Peer {
            name: name.clone(),
            key,
        })
    }

    /// Proves us to `name` at once (a keepalive on the current session, else a fresh
    /// initiation: `Secure::probe`), the way that reaches it; nothing for a peer without a
    /// trusted key.
    pub(crate) fn probe(&mut self, now: Instant, name: &Name) {
        let Some(peer) = self.peer(name) else {
            return;
        };
        let Some(secure) = self.io.secure.as_deref_mut() else {
            return;
        };
        let mut sends = Sends::default();
        secure.probe(now, &peer, &mut sends);
        self.dispatch(now, &mut sends);
    }

    /// Sends everything the secure layer sealed, each the way that reaches its peer.
    pub(crate) fn dispatch(&mut self, now: Instant, sends: &mut Sends) {
        while let Some((to, datagram)) = sends.pop() {
            if !self
                .paths
                .send(now, &to, datagram, self.io.config, self.io.out)
            {
                self.io.stats.unknown_sender += 1;
            }
        }
    }
}

impl Wire for Sealer<'_, '_> {
    fn may_send(&self, peer: &Name) -> bool {
        self.io.secure.is_some() && self.io.keyring.trusted(peer).is_some()
    }

    fn send(&mut self, now: Instant, peer: &Name, plaintext: &Bytes) {
        let Some(peer) = self.peer(peer) else {
            return;
        };
        let Some(secure) = self.io.secure.as_deref_mut() else {
            return;
        };
        let mut sends = Sends::default();
        // Never too long: the chat layer sizes its plaintexts by what a sealed datagram carries.
        let _ = secure.seal(now, &peer, plaintext, &mut sends);
        self.dispatch(now, &mut sends);
    }

    fn event(&mut self, event: ClientEvent) {
        self.io.out.event(event);
    }

    fn persist(&mut self, record: Record) {
        self.io.out.persist(record);
    }

    fn unix_ms(&self, now: Instant) -> u64 {
        self.io.clock.unix_ms_at(now)
    }
}
