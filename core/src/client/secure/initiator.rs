//! Our side of a handshake: the initiation, its retransmission (a fresh one each time), giving
//! up, and the response that makes the new session current.

use std::time::Instant;

use bytes::Bytes;

use super::handshake::{self, Hello};
use super::peer::Pending;
use super::session::Session;
use super::{Refusal, Secure, Sends, Timer};
use crate::client::backoff::{Backoff, Step};
use crate::wire::{Name, SealedDatagram};

impl Secure {
    /// Starts a handshake with `name` (whose state exists), on a fresh backoff.
    pub(super) fn start_handshake(&mut self, now: Instant, name: &Name, out: &mut Sends) {
        let backoff = Backoff::start(
            now,
            self.limits.handshake_retry,
            self.limits.handshake_tries,
        );
        self.send_initiation(now, name, backoff, out);
    }

    /// The handshake timer of `name` fired: a new initiation, or the end of trying.
    pub(super) fn handshake_due(&mut self, now: Instant, name: &Name, out: &mut Sends) {
        let Some(state) = self.peers.get_mut(name) else {
            return;
        };
        let Some(pending) = state.handshake.as_mut() else {
            return;
        };
        match pending.backoff.step(now) {
            Step::Wait => {
                let at = pending.backoff.deadline();
                self.timers.set(at, Timer::Handshake(name.clone()));
            }
            Step::Resend => {
                if let Some(old) = state.handshake.take() {
                    self.indices.remove(&old.local);
                    self.send_initiation(now, name, old.backoff, out);
                }
            }
            Step::GiveUp => {
                if let Some(old) = state.handshake.take() {
                    self.indices.remove(&old.local);
                }
                state.queue.clear();
                self.settle(name);
            }
        }
    }

    /// Sends a new initiation to `name`: new index, ephemeral key and timestamp, so that the
    /// responder never takes a retransmission for a replay.
    pub(super) fn send_initiation(
        &mut self,
        now: Instant,
        name: &Name,
        backoff: Backoff,
        out: &mut Sends,
    ) {
        let local = self.new_index();
        let seed = self.rng.next_seed();
        let hello = Hello {
            name: self.me.clone(),
            timestamp: self.next_timestamp(now),
        };
        let Some(state) = self.peers.get_mut(name) else {
            return;
        };
        match handshake::initiate(&self.params, &self.keys, &state.key, seed, &hello) {
            Ok((handshake, noise)) => {
                let datagram = SealedDatagram::Initiation {
                    sender: local,
                    noise: &noise,
                };
                out.push(name, Bytes::from(datagram.to_vec()));
                self.timers
                    .set(backoff.deadline(), Timer::Handshake(name.clone()));
                self.indices.insert(local, name.clone());
                state.handshake = Some(Pending {
                    local,
                    state: handshake,
                    backoff,
                });
            }
            // A key snow refuses: nothing will ever reach this peer.
            Err(_) => {
                state.queue.clear();
                self.settle(name);
            }
        }
    }

    /// Our wall-clock time in milliseconds, always above the last one we sent.
    fn next_timestamp(&mut self, now: Instant) -> u64 {
        let timestamp = self
            .clock
            .unix_ms_at(now)
            .max(self.last_timestamp.saturating_add(1));
        self.last_timestamp = timestamp;
        timestamp
    }

    /// A response to our initiation `receiver`: the new session becomes current and the queue
    /// goes out on it (or a keepalive, which confirms the session to the responder). Returns
    /// the peer it came from.
    pub(super) fn on_response(
        &mut self,
        now: Instant,
        sender: u32,
        receiver: u32,
        noise: &[u8],
        out: &mut Sends,
    ) -> Result<Name, Refusal> {
        let name = self
            .indices
            .get(&receiver)
            .cloned()
            .ok_or(Refusal::Unauthenticated)?;
        let state = self.peers.get_mut(&name).ok_or(Refusal::Unauthenticated)?;
        let pending = state
            .handshake
            .as_mut()
            .filter(|p| p.local == receiver)
            .ok_or(Refusal::Unauthenticated)?;
        handshake::read_response(&mut pending.state, noise)
            .map_err(|_| Refusal::Unauthenticated)?;
        let pending = state.handshake.take().ok_or(Refusal::Unauthenticated)?;
        self.timers.cancel(&Timer::Handshake(name.clone()));
        let transport = match pending.state.into_stateless_transport_mode() {
            Ok(transport) => transport,
            Err(_) => {
                self.indices.remove(&receiver);
                self.settle(&name);
                return Err(Refusal::Unauthenticated);
            }
        };
        let dropped = state.promote(Session::new(receiver, sender, transport, now, true));
        self.release(dropped);
        self.flush(now, &name, true, out);
        self.settle(&name);
        Ok(name)
    }
}
