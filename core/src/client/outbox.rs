//! The client's output queues: transmits for the transport, events for the user, both FIFO.

use std::collections::VecDeque;
use std::net::SocketAddr;

use bytes::Bytes;

use super::output::{ClientEvent, ClientTransmit};
use super::persist::Record;

/// Everything the client produced and the application has not drained yet.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    transmits: VecDeque<ClientTransmit>,
    events: VecDeque<ClientEvent>,
}

impl Outbox {
    pub(crate) fn datagram(&mut self, to: SocketAddr, data: Bytes) {
        self.transmits
            .push_back(ClientTransmit::Datagram { to, data });
    }

    pub(crate) fn send_line(&mut self, data: Bytes) {
        self.transmits.push_back(ClientTransmit::Send { data });
    }

    /// A durable write, ordered before every transmit queued after it.
    pub(crate) fn persist(&mut self, record: Record) {
        self.transmits.push_back(ClientTransmit::Persist(record));
    }

    pub(crate) fn transmit(&mut self, transmit: ClientTransmit) {
        self.transmits.push_back(transmit);
    }

    pub(crate) fn event(&mut self, event: ClientEvent) {
        self.events.push_back(event);
    }

    pub(crate) fn pop_transmit(&mut self) -> Option<ClientTransmit> {
        self.transmits.pop_front()
    }

    pub(crate) fn pop_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }
}
