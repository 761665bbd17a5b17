//! The sending side, an outbox: per peer one message in flight (stop-and-wait), the rest queued
//! in order, each retransmitted with backoff until acknowledged or out of tries. A message waits
//! while its peer is offline or its key is held, and keeps its (sid, seq) for good — also across
//! a restart, when it comes back from the store — so a receiver that showed it already takes a
//! copy for the duplicate it is. It expires `outbox_expiry` after it was written.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::client::backoff::{deadline_after, Backoff, Step};
use crate::client::config::ClientConfig;
use crate::client::output::{ClientEvent, FailReason, MessageId, SendError};
use crate::client::persist::{Outcome, Record, SavedMessage};

use super::Wire;
use crate::timer::DeadlineQueue;
use crate::wire::{max_text_len, Name, PeerDatagram, SessionId};

/// Every peer we write to, one retransmission timer per message in flight, and one expiry per
/// message not resolved.
#[derive(Debug, Default)]
pub(crate) struct Outgoing {
    peers: HashMap<Name, PeerQueue>,
    /// Keyed by (peer, generation): one per message in flight, disarmed when it is resolved. A
    /// timer whose generation is not the peer's current in-flight one is stale and skipped.
    timers: DeadlineQueue<(Name, u64)>,
    next_generation: u64,
    /// When each unresolved message expires, and whose queue holds it.
    expiries: DeadlineQueue<MessageId>,
    owners: HashMap<MessageId, Name>,
}

#[derive(Debug, Default)]
struct PeerQueue {
    /// The seq of our next message in this session's stream to the peer.
    next_seq: u64,
    in_flight: Option<InFlight>,
    waiting: VecDeque<Queued>,
}

#[derive(Debug)]
struct Queued {
    id: MessageId,
    sid: SessionId,
    seq: u64,
    /// The `msg` plaintext, encoded once (sealed anew for every try).
    datagram: Bytes,
    /// It went on the wire in this run already (`sent` is reported once).
    sent: bool,
}

impl Queued {
    /// Message `seq` of our session `sid`, not on the wire yet.
    fn new(from: &Name, id: MessageId, sid: SessionId, seq: u64, text: &str) -> Self {
        let datagram = PeerDatagram::Msg {
            from: from.clone(),
            sid,
            seq,
            text,
        }
        .to_vec();
        Queued {
            id,
            sid,
            seq,
            datagram: Bytes::from(datagram),
            sent: false,
        }
    }
}

#[derive(Debug)]
struct InFlight {
    message: Queued,
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
    /// Takes back what an earlier run left in the outbox, in order. Nothing is sent yet: each
    /// peer's messages go out once it is listed with a trusted key.
    pub(crate) fn restore(
        &mut self,
        now: Instant,
        saved: &[SavedMessage],
        wall_ms: u64,
        config: &ClientConfig,
    ) {
        for message in saved {
            let queued = Queued::new(
                &config.name,
                message.id,
                message.sid,
                message.seq,
                &message.text,
            );
            let age = Duration::from_millis(wall_ms.saturating_sub(message.written_ms));
            let expires = deadline_after(now, config.outbox_expiry.saturating_sub(age));
            self.expiries.set(expires, message.id);
            self.owners.insert(message.id, message.to.clone());
            self.queue(&message.to).waiting.push_back(queued);
        }
    }

    /// Queues a message, recorded in the outbox first; it goes out at once if the peer can be
    /// written to and nothing is in flight to it, and is reported `queued` if the peer is
    /// offline. The seq is assigned here, so the length limit is exact for it.
    pub(crate) fn enqueue(
        &mut self,
        now: Instant,
        msg: NewMessage<'_>,
        online: bool,
        config: &ClientConfig,
        wire: &mut impl Wire,
    ) -> Result<(), SendError> {
        let queue = self.queue(msg.to);
        let seq = queue.next_seq;
        let max = max_text_len(&config.name, seq);
        if msg.text.len() > max {
            return Err(SendError::TooLong { max });
        }
        // Held for a key to trust, or waiting for the peer: still bounded.
        if queue.waiting.len() >= config.max_queued_per_peer {
            return Err(SendError::QueueFull);
        }
        let sid = config.session_id;
        queue.next_seq += 1;
        queue
            .waiting
            .push_back(Queued::new(&config.name, msg.id, sid, seq, msg.text));
        let idle = queue.in_flight.is_none();
        wire.persist(Record::Queued(SavedMessage {
            id: msg.id,
            to: msg.to.clone(),
            sid,
            seq,
            text: msg.text.to_owned(),
            written_ms: wire.unix_ms(now),
        }));
        self.expiries
            .set(deadline_after(now, config.outbox_expiry), msg.id);
        self.owners.insert(msg.id, msg.to.clone());
        if !online {
            wire.event(ClientEvent::Queued {
                to: msg.to.clone(),
                id: msg.id,
            });
        }
        if idle {
            self.launch_next(now, msg.to, config, wire);
        }
        Ok(())
    }

    /// An `ack` from `from` (sealed by its trusted key). Returns whether it matched the message
    /// in flight to it.
    pub(crate) fn acknowledge(
        &mut self,
        now: Instant,
        from: &Name,
        (sid, seq): (SessionId, u64),
        config: &ClientConfig,
        wire: &mut impl Wire,
    ) -> bool {
        let Some(queue) = self.peers.get_mut(from.as_str()) else {
            return false;
        };
        let Some(done) = queue
            .in_flight
            .take_if(|f| f.message.sid == sid && f.message.seq == seq)
        else {
            return false;
        };
        self.timers.cancel(&(from.clone(), done.generation));
        let id = done.message.id;
        self.resolve(now, id, Outcome::Delivered, wire);
        wire.event(ClientEvent::Delivered {
            to: from.clone(),
            id,
            encrypted: true,
        });
        self.launch_next(now, from, config, wire);
        true
    }

    /// Retransmits or gives up on every message whose timer is due; fails those that expired.
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
                    wire.send(now, &peer, &flight.message.datagram);
                    let at = flight.backoff.deadline();
                    self.timers.set(at, (peer, generation));
                }
                Step::GiveUp => {
                    let id = flight.message.id;
                    queue.in_flight = None;
                    self.fail(now, &peer, id, FailReason::Timeout, wire);
                    self.launch_next(now, &peer, config, wire);
                }
            }
        }
        while let Some(id) = self.expiries.pop_due(now) {
            let Some(peer) = self.owners.get(&id).cloned() else {
                continue;
            };
            let Some(queue) = self.peers.get_mut(peer.as_str()) else {
                continue;
            };
            if let Some(flight) = queue.in_flight.take_if(|f| f.message.id == id) {
                self.timers.cancel(&(peer.clone(), flight.generation));
            } else {
                queue.waiting.retain(|q| q.id != id);
            }
            self.fail(now, &peer, id, FailReason::Expired, wire);
            self.launch_next(now, &peer, config, wire);
        }
    }

    /// The peer can be written to now (listed with a trusted key): what waits for it goes out.
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

    /// The peer left: the message in flight goes back to the head of its queue, and everything
    /// waits until the peer is back (or expires).
    pub(crate) fn peer_left(&mut self, peer: &Name) {
        let Some(queue) = self.peers.get_mut(peer.as_str()) else {
            return;
        };
        if let Some(flight) = queue.in_flight.take() {
            self.timers.cancel(&(peer.clone(), flight.generation));
            queue.waiting.push_front(flight.message);
        }
    }

    /// The client ends: every unresolved message fails with `reason`, oldest first (message ids
    /// grow with time) — unless they are kept for the next run (`keep`), in which case they stay
    /// recorded in the outbox and nothing is said.
    pub(crate) fn end(
        &mut self,
        now: Instant,
        reason: FailReason,
        keep: bool,
        wire: &mut impl Wire,
    ) {
        let mut unresolved: Vec<(MessageId, Name)> = Vec::new();
        for (peer, queue) in &mut self.peers {
            let in_flight = queue.in_flight.take().map(|f| f.message.id);
            for id in in_flight
                .into_iter()
                .chain(queue.waiting.drain(..).map(|q| q.id))
            {
                unresolved.push((id, peer.clone()));
            }
        }
        self.timers = DeadlineQueue::default();
        self.expiries = DeadlineQueue::default();
        self.owners.clear();
        if keep {
            return;
        }
        unresolved.sort_unstable_by_key(|(id, _)| *id);
        for (id, to) in unresolved {
            wire.persist(Record::Resolved {
                id,
                outcome: Outcome::Failed(reason),
                at_ms: wire.unix_ms(now),
            });
            wire.event(ClientEvent::Failed { to, id, reason });
        }
    }

    /// The earliest retransmission or expiry.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        [self.timers.next_deadline(), self.expiries.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    fn queue(&mut self, peer: &Name) -> &mut PeerQueue {
        self.peers.entry(peer.clone()).or_insert_with(|| PeerQueue {
            next_seq: 1,
            ..PeerQueue::default()
        })
    }

    /// The message left the outbox: its record, and no expiry any more.
    fn resolve(&mut self, now: Instant, id: MessageId, outcome: Outcome, wire: &mut impl Wire) {
        self.expiries.cancel(&id);
        self.owners.remove(&id);
        wire.persist(Record::Resolved {
            id,
            outcome,
            at_ms: wire.unix_ms(now),
        });
    }

    fn fail(
        &mut self,
        now: Instant,
        peer: &Name,
        id: MessageId,
        reason: FailReason,
        wire: &mut impl Wire,
    ) {
        self.resolve(now, id, Outcome::Failed(reason), wire);
        wire.event(ClientEvent::Failed {
            to: peer.clone(),
            id,
            reason,
        });
    }

    /// Puts the peer's next queued message on the wire, if any and if the peer can be written to.
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
        let Some(mut next) = queue.waiting.pop_front() else {
            return;
        };
        let generation = self.next_generation;
        self.next_generation += 1;
        wire.send(now, peer, &next.datagram);
        if !next.sent {
            next.sent = true;
            wire.event(ClientEvent::Sent {
                to: peer.clone(),
                id: next.id,
            });
        }
        let backoff =
            Backoff::start(now, config.msg_retry, config.msg_tries).capped(config.msg_retry_max);
        self.timers
            .set(backoff.deadline(), (peer.clone(), generation));
        queue.in_flight = Some(InFlight {
            message: next,
            backoff,
            generation,
        });
    }
}
