//! The sending side: per peer one message in flight (stop-and-wait), the rest queued in order,
//! each retransmitted with backoff until acknowledged or out of tries.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;

use crate::client::backoff::{Backoff, Step};
use crate::client::config::ClientConfig;
use crate::client::outbox::Outbox;
use crate::client::output::{ClientEvent, FailReason, MessageId, SendError};

use super::Wire;
use crate::timer::DeadlineQueue;
use crate::wire::{max_text_len, Name, PeerDatagram};

/// Every peer we sent to, and one retransmission timer per message in flight.
#[derive(Debug, Default)]
pub(crate) struct Outgoing {
    peers: HashMap<Name, PeerQueue>,
    /// Keyed by (peer, generation): one per message in flight, disarmed when it is resolved. A
    /// timer whose generation is not the peer's current in-flight one is stale and skipped.
    timers: DeadlineQueue<(Name, u64)>,
    next_generation: u64,
}

#[derive(Debug)]
struct PeerQueue {
    /// Kept after the peer leaves, so our seq never restarts within our session.
    next_seq: u64,
    in_flight: Option<InFlight>,
    waiting: VecDeque<Queued>,
}

#[derive(Debug)]
struct Queued {
    id: MessageId,
    seq: u64,
    /// The `msg` plaintext, encoded once (sealed anew for every try).
    datagram: Bytes,
}

#[derive(Debug)]
struct InFlight {
    id: MessageId,
    seq: u64,
    datagram: Bytes,
    backoff: Backoff,
    generation: u64,
}

/// A message to queue, checked by the caller except for length and queue room.
pub(crate) struct NewMessage<'a> {
    pub(crate) id: MessageId,
    pub(crate) to: &'a Name,
    pub(crate) text: &'a str,
}

impl Outgoing {
    /// Queues a message (sending it at once if nothing is in flight to that peer). The seq is
    /// assigned here, so the length limit is exact for it.
    pub(crate) fn enqueue(
        &mut self,
        now: Instant,
        msg: NewMessage<'_>,
        config: &ClientConfig,
        wire: &mut impl Wire,
    ) -> Result<(), SendError> {
        let queue = match self.peers.get_mut(msg.to.as_str()) {
            Some(queue) => queue,
            None => self.peers.entry(msg.to.clone()).or_insert(PeerQueue {
                next_seq: 1,
                in_flight: None,
                waiting: VecDeque::new(),
            }),
        };
        let seq = queue.next_seq;
        let max = max_text_len(&config.name, seq);
        if msg.text.len() > max {
            return Err(SendError::TooLong { max });
        }
        // Held for a key to trust, nothing is in flight and everything waits: still bounded.
        if queue.waiting.len() >= config.max_queued_per_peer {
            return Err(SendError::QueueFull);
        }
        let datagram = PeerDatagram::Msg {
            from: config.name.clone(),
            sid: config.session_id,
            seq,
            text: msg.text,
        }
        .to_vec();
        queue.next_seq += 1;
        queue.waiting.push_back(Queued {
            id: msg.id,
            seq,
            datagram: Bytes::from(datagram),
        });
        if queue.in_flight.is_none() {
            self.launch_next(now, msg.to, config, wire);
        }
        Ok(())
    }

    /// An `ack` from `from` (listed, from its endpoint, for our session). Returns whether it
    /// matched the message in flight.
    pub(crate) fn acknowledge(
        &mut self,
        now: Instant,
        from: &Name,
        seq: u64,
        config: &ClientConfig,
        wire: &mut impl Wire,
    ) -> bool {
        let Some(queue) = self.peers.get_mut(from.as_str()) else {
            return false;
        };
        match queue.in_flight.take_if(|f| f.seq == seq) {
            Some(done) => {
                self.timers.cancel(&(from.clone(), done.generation));
                wire.event(ClientEvent::Delivered {
                    to: from.clone(),
                    id: done.id,
                    encrypted: true,
                });
                self.launch_next(now, from, config, wire);
                true
            }
            None => false,
        }
    }

    /// Retransmits or gives up on every message whose timer is due.
    pub(crate) fn handle_timeout(
        &mut self,
        now: Instant,
        config: &ClientConfig,
        wire: &mut impl Wire,
    ) {
        while let Some((peer, generation)) = self.timers.pop_due(now) {
            let Some(queue) = self.peers.get_mut(peer.as_str()) else {
                continue;
            };
            let Some(flight) = queue
                .in_flight
                .as_mut()
                .filter(|f| f.generation == generation)
            else {
                continue;
            };
            match flight.backoff.step(now) {
                Step::Wait => {
                    let at = flight.backoff.deadline();
                    self.timers.set(at, (peer, generation));
                }
                Step::Resend => {
                    wire.send(now, &peer, &flight.datagram);
                    let at = flight.backoff.deadline();
                    self.timers.set(at, (peer, generation));
                }
                Step::GiveUp => {
                    let id = flight.id;
                    queue.in_flight = None;
                    wire.event(ClientEvent::Failed {
                        to: peer.clone(),
                        id,
                        reason: FailReason::Timeout,
                    });
                    self.launch_next(now, &peer, config, wire);
                }
            }
        }
    }

    /// The user trusted the peer's key: what was held for it goes out.
    pub(crate) fn resume(
        &mut self,
        now: Instant,
        peer: &Name,
        config: &ClientConfig,
        wire: &mut impl Wire,
    ) {
        if self
            .peers
            .get(peer.as_str())
            .is_some_and(|q| q.in_flight.is_none())
        {
            self.launch_next(now, peer, config, wire);
        }
    }

    /// The peer left: everything in flight or queued to it fails at once, in order.
    pub(crate) fn peer_left(&mut self, peer: &Name, out: &mut Outbox) {
        let Some(queue) = self.peers.get_mut(peer.as_str()) else {
            return;
        };
        let in_flight = queue.in_flight.take().map(|f| {
            self.timers.cancel(&(peer.clone(), f.generation));
            f.id
        });
        for id in in_flight
            .into_iter()
            .chain(queue.waiting.drain(..).map(|q| q.id))
        {
            out.event(ClientEvent::Failed {
                to: peer.clone(),
                id,
                reason: FailReason::PeerOffline,
            });
        }
    }

    /// Every unresolved message fails, oldest first (message ids grow with time).
    pub(crate) fn fail_all(&mut self, reason: FailReason, out: &mut Outbox) {
        let mut unresolved: Vec<(MessageId, Name)> = Vec::new();
        for (peer, queue) in &mut self.peers {
            let in_flight = queue.in_flight.take().map(|f| {
                self.timers.cancel(&(peer.clone(), f.generation));
                f.id
            });
            for id in in_flight
                .into_iter()
                .chain(queue.waiting.drain(..).map(|q| q.id))
            {
                unresolved.push((id, peer.clone()));
            }
        }
        unresolved.sort_unstable_by_key(|(id, _)| *id);
        for (id, to) in unresolved {
            out.event(ClientEvent::Failed { to, id, reason });
        }
    }

    /// The earliest retransmission deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Puts the peer's next queued message on the wire, if any.
    fn launch_next(
        &mut self,
        now: Instant,
        peer: &Name,
        config: &ClientConfig,
        wire: &mut impl Wire,
    ) {
        let Some(queue) = self.peers.get_mut(peer.as_str()) else {
            return;
        };
        if !wire.may_send(peer) {
            return;
        }
        let Some(next) = queue.waiting.pop_front() else {
            return;
        };
        let generation = self.next_generation;
        self.next_generation += 1;
        wire.send(now, peer, &next.datagram);
        wire.event(ClientEvent::Sent {
            to: peer.clone(),
            id: next.id,
        });
        let backoff = Backoff::start(now, config.msg_retry, config.msg_tries);
        self.timers
            .set(backoff.deadline(), (peer.clone(), generation));
        queue.in_flight = Some(InFlight {
            id: next.id,
            seq: next.seq,
            datagram: next.datagram,
            backoff,
            generation,
        });
    }
}
