//! The other side of a handshake: an initiation is checked (its key against the directory, its
//! timestamp against the last one accepted) and answered; the session it makes waits as `next`
//! until the initiator speaks on it.

use std::time::Instant;

use bytes::Bytes;

use super::handshake::{self, ReadError};
use super::session::Session;
use super::{Directory, Peer, Refusal, Secure, Sends};
use crate::wire::{Name, SealedDatagram};

impl Secure {
    /// An initiation: refused, or answered; returns the peer it came from. Nothing held for the
    /// peer changes unless it is accepted, so a replay cannot disturb a working session.
    pub(super) fn on_initiation(
        &mut self,
        now: Instant,
        sender: u32,
        noise: &[u8],
        directory: &impl Directory,
        out: &mut Sends,
    ) -> Result<Name, Refusal> {
        let seed = self.rng.next_seed();
        let (state, key, hello) = handshake::read_initiation(&self.params, &self.keys, seed, noise)
            .map_err(|e| match e {
                ReadError::Noise => Refusal::Unauthenticated,
                ReadError::Payload => Refusal::Malformed,
            })?;
        if hello.name == self.me {
            return Err(Refusal::Untrusted);
        }
        let trusted = directory
            .trusted_key(&hello.name)
            .ok_or(Refusal::Untrusted)?;
        if trusted != key {
            return Err(Refusal::Untrusted);
        }
        if self
            .timestamps
            .get(&key)
            .is_some_and(|&last| hello.timestamp <= last)
        {
            return Err(Refusal::Stale);
        }
        let (transport, response) =
            handshake::respond(state).map_err(|_| Refusal::Unauthenticated)?;
        self.timestamps.insert(key, hello.timestamp);
        let local = self.new_index();
        let peer = Peer {
            name: hello.name,
            key,
        };
        let replaced = self
            .entry(&peer)
            .next
            .replace(Session::new(local, sender, transport, now, false));
        self.release(replaced);
        self.indices.insert(local, peer.name.clone());
        let datagram = SealedDatagram::Response {
            sender: local,
            receiver: sender,
            noise: &response,
        };
        out.push(&peer.name, Bytes::from(datagram.to_vec()));
        self.settle(&peer.name);
        Ok(peer.name)
    }
}
