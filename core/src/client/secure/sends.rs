//! Sealed datagrams on their way out, addressed by peer name: the layer knows keys, not
//! addresses. Which path each datagram takes — the peer's direct endpoint, the relay, or both —
//! is the caller's decision (`client/path/`), made after it has learned from the same input.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::wire::Name;

/// Datagrams to peers, in the order they were sealed.
#[derive(Debug, Default)]
pub(crate) struct Sends(VecDeque<(Name, Bytes)>);

impl Sends {
    pub(super) fn push(&mut self, to: &Name, datagram: Bytes) {
        self.0.push_back((to.clone(), datagram));
    }

    /// The oldest datagram not yet taken, with its peer.
    pub(crate) fn pop(&mut self) -> Option<(Name, Bytes)> {
        self.0.pop_front()
    }
}
