//! The chat layer on top of the secure layer: plaintexts sealed for trusted keys only, and the
//! roster as the secure layer's directory.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::chat::Wire;
use super::keyring::Keyring;
use super::output::ClientEvent;
use super::roster::Roster;
use super::secure::{Directory, Peer};
use super::shared::Io;
use crate::wire::{Name, PublicKey};

/// The listed users whose key is trusted, with where they are listed.
pub(crate) struct Listed<'a> {
    pub(crate) roster: &'a Roster,
    pub(crate) keyring: &'a Keyring,
}

impl Directory for Listed<'_> {
    fn lookup(&self, name: &Name) -> Option<(PublicKey, SocketAddr)> {
        let (_, endpoint) = self.roster.get(name)?;
        Some((self.keyring.trusted(name)?, endpoint))
    }
}

/// The chat layer's wire for one input: every plaintext sealed with the key trusted for its peer.
pub(crate) struct Sealer<'a, 'b> {
    pub(crate) io: &'a mut Io<'b>,
}

impl Wire for Sealer<'_, '_> {
    fn may_send(&self, peer: &Name) -> bool {
        self.io.secure.is_some() && self.io.keyring.trusted(peer).is_some()
    }

    fn send(&mut self, now: Instant, peer: &Name, endpoint: SocketAddr, plaintext: &Bytes) {
        let Some(key) = self.io.keyring.trusted(peer) else {
            return;
        };
        let Some(secure) = self.io.secure.as_deref_mut() else {
            return;
        };
        let peer = Peer {
            name: peer.clone(),
            key,
            endpoint,
        };
        // Never too long: the chat layer sizes its plaintexts by what a sealed datagram carries.
        let _ = secure.seal(now, &peer, plaintext, self.io.out);
    }

    fn event(&mut self, event: ClientEvent) {
        self.io.out.event(event);
    }
}
