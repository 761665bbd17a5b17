//! Transport datagrams: found by our index, checked against the replay window, authenticated.
//! The first one on a `next` session confirms it: it becomes current, and the queue goes out.

use std::time::Instant;

use super::peer::Slot;
use super::session::OpenError;
use super::{Authentic, Refusal, Secure, Sends};

impl Secure {
    pub(super) fn on_transport(
        &mut self,
        now: Instant,
        receiver: u32,
        counter: u64,
        ciphertext: &[u8],
        out: &mut Sends,
    ) -> Result<Authentic, Refusal> {
        let limits = self.limits;
        let name = self
            .indices
            .get(&receiver)
            .cloned()
            .ok_or(Refusal::Unauthenticated)?;
        let state = self.peers.get_mut(&name).ok_or(Refusal::Unauthenticated)?;
        // Our handshake's index names no session yet.
        let slot = state.find(receiver).ok_or(Refusal::Unauthenticated)?;
        let session = state
            .slot_mut(slot)
            .as_mut()
            .ok_or(Refusal::Unauthenticated)?;
        let plaintext = session
            .open(now, counter, ciphertext, &limits)
            .map_err(|e| match e {
                OpenError::Replayed => Refusal::Replayed,
                OpenError::Unauthenticated => Refusal::Unauthenticated,
            })?;
        if slot == Slot::Next {
            if let Some(confirmed) = state.next.take() {
                let dropped = state.promote(confirmed);
                self.release(dropped);
                self.flush(now, &name, false, out);
                self.settle(&name);
            }
        }
        Ok(Authentic {
            peer: name,
            plaintext: (!plaintext.is_empty()).then_some(plaintext),
        })
    }
}
