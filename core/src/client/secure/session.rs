//! One established session: its indices, its transport keys, the next counter to send and the
//! replay window of what was received.

use std::time::Instant;

use bytes::Bytes;
use snow::StatelessTransportState;

use super::limits::Limits;
use super::replay::ReplayWindow;
use crate::client::backoff::deadline_after;
use crate::wire::{transport_header, MAX_SEALED_PLAINTEXT};

/// Why a transport datagram of a known session was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpenError {
    /// Its counter was seen, or is too far behind.
    Replayed,
    /// Its tag does not verify, its counter is one never sent, or the session is too old.
    Unauthenticated,
}

#[derive(Debug)]
pub(super) struct Session {
    /// Our index: transport datagrams to us carry it.
    pub(super) local: u32,
    /// The peer's index: our transport datagrams carry it.
    remote: u32,
    transport: StatelessTransportState,
    created: Instant,
    /// We sent the initiation it came from: only the initiator rekeys on age.
    initiator: bool,
    /// The counter of the next datagram we seal.
    sent: u64,
    window: ReplayWindow,
    /// Non-empty datagrams sealed since we last heard from the peer on this session, and when
    /// the first of them was.
    unanswered: u32,
    unanswered_since: Option<Instant>,
}

impl Session {
    pub(super) fn new(
        local: u32,
        remote: u32,
        transport: StatelessTransportState,
        now: Instant,
        initiator: bool,
    ) -> Self {
        Session {
            local,
            remote,
            transport,
            created: now,
            initiator,
            sent: 0,
            window: ReplayWindow::default(),
            unanswered: 0,
            unanswered_since: None,
        }
    }

    /// When the session stops being used at all.
    pub(super) fn expiry(&self, limits: &Limits) -> Instant {
        deadline_after(self.created, limits.reject_after_time)
    }

    fn expired(&self, now: Instant, limits: &Limits) -> bool {
        now >= self.expiry(limits)
    }

    /// Whether it may seal one more datagram.
    pub(super) fn can_seal(&self, now: Instant, limits: &Limits) -> bool {
        !self.expired(now, limits) && self.sent < limits.reject_after_messages
    }

    /// Whether sealing on it should start a new handshake: it is getting old or worn, or the peer
    /// has not answered [`Limits::rekey_after_unanswered`] datagrams, the first of them
    /// [`Limits::rekey_after_silence`] ago (it may have restarted and lost the session, and a
    /// datagram for a lost session is refused without a word). One unanswered datagram is
    /// normal: an `ack` expects no answer, and the next message may follow it much later.
    pub(super) fn wants_rekey(&self, now: Instant, limits: &Limits) -> bool {
        let age = now.saturating_duration_since(self.created);
        let silent = self.unanswered >= limits.rekey_after_unanswered
            && self
                .unanswered_since
                .is_some_and(|t| now.saturating_duration_since(t) >= limits.rekey_after_silence);
        (self.initiator && age >= limits.rekey_after_time)
            || self.sent >= limits.rekey_after_messages
            || silent
    }

    /// The transport datagram carrying `plaintext` under the next counter. `None` only if snow
    /// refuses, which [`can_seal`](Self::can_seal) and the plaintext bound rule out. An empty
    /// plaintext is a keepalive: it expects no answer.
    pub(super) fn seal(&mut self, now: Instant, plaintext: &[u8]) -> Option<Bytes> {
        if plaintext.len() > MAX_SEALED_PLAINTEXT {
            return None;
        }
        let header = transport_header(self.remote, self.sent);
        let mut datagram = vec![0u8; header.len() + plaintext.len() + 16];
        datagram[..header.len()].copy_from_slice(&header);
        let written = self
            .transport
            .write_message(self.sent, plaintext, &mut datagram[header.len()..])
            .ok()?;
        datagram.truncate(header.len() + written);
        self.sent += 1;
        if !plaintext.is_empty() {
            self.unanswered = self.unanswered.saturating_add(1);
            self.unanswered_since.get_or_insert(now);
        }
        Some(Bytes::from(datagram))
    }

    /// The plaintext of a transport datagram for this session.
    pub(super) fn open(
        &mut self,
        now: Instant,
        counter: u64,
        ciphertext: &[u8],
        limits: &Limits,
    ) -> Result<Vec<u8>, OpenError> {
        if self.expired(now, limits) || counter >= limits.reject_after_messages {
            return Err(OpenError::Unauthenticated);
        }
        if !self.window.check(counter) {
            return Err(OpenError::Replayed);
        }
        let mut plaintext = vec![0u8; ciphertext.len()];
        let len = self
            .transport
            .read_message(counter, ciphertext, &mut plaintext)
            .map_err(|_| OpenError::Unauthenticated)?;
        plaintext.truncate(len);
        self.window.mark(counter);
        self.unanswered = 0;
        self.unanswered_since = None;
        Ok(plaintext)
    }
}
