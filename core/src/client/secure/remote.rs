//! One secure layer driven by hand against a whole client: the peers of the client's unit tests
//! and of the `client_ops` fuzz body. A client only speaks sealed chat, so whoever feeds it
//! `msg` and `ack` datagrams must seal them, answer its handshakes and open what it sends; this
//! is that side, with its own name and key, trusting the client's key.

use std::time::Instant;

use bytes::Bytes;

use super::rig::Trust;
use super::{Opened, Peer, Refusal, SealError, Sealed, Secure, Sends, StaticKeys, WallClock};
use crate::wire::{Name, PublicKey};

/// A peer of a client under test: it seals for the client, opens what the client sealed, and
/// keeps what it sent for the caller to deliver.
#[derive(Debug)]
pub(crate) struct Remote {
    name: Name,
    key: PublicKey,
    secure: Secure,
    out: Sends,
    /// The client, as this peer believes it: its name and its key.
    client: Peer,
    trust: Trust,
}

impl Remote {
    /// `name` with `keys`, trusting `client`. The seed and clock make its handshakes
    /// reproducible; the clock only has to grow for the client's `Stale` check.
    pub(crate) fn new(
        name: Name,
        keys: StaticKeys,
        seed: [u8; 32],
        clock: WallClock,
        client: Peer,
    ) -> Self {
        let mut trust = Trust::default();
        trust.0.insert(client.name.clone(), client.key);
        Remote {
            key: keys.public(),
            secure: Secure::new(name.clone(), keys, seed, clock),
            name,
            out: Sends::default(),
            client,
            trust,
        }
    }

    /// The name it speaks as (in its handshakes).
    pub(crate) fn name(&self) -> &Name {
        &self.name
    }

    /// Its public key, as a `key` line would list it.
    pub(crate) fn key(&self) -> PublicKey {
        self.key
    }

    /// Seals `plaintext` for the client: sent at once on a session, or queued behind a handshake.
    pub(crate) fn seal(&mut self, now: Instant, plaintext: &[u8]) -> Result<Sealed, SealError> {
        self.secure
            .seal(now, &self.client, plaintext, &mut self.out)
    }

    /// A datagram from the client: a handshake is answered (into [`sent`](Self::sent)), a
    /// transport datagram gives its plaintext.
    pub(crate) fn open(
        &mut self,
        now: Instant,
        datagram: &[u8],
    ) -> Result<Option<Opened>, Refusal> {
        self.secure
            .open(now, datagram, &self.trust, &mut self.out)
            .map(|authentic| authentic.opened())
    }

    /// Handshake retries and session expiry.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.secure.handle_timeout(now, &mut self.out);
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.secure.next_deadline()
    }

    /// Drops every session with the client (as a peer that restarted or logged in again would).
    pub(crate) fn forget(&mut self) {
        self.secure.forget(&self.client.name);
    }

    /// Every datagram it sent to the client since last asked.
    pub(crate) fn sent(&mut self) -> Vec<Bytes> {
        std::iter::from_fn(|| self.out.pop())
            .map(|(_, data)| data)
            .collect()
    }
}
