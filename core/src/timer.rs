//! A deadline queue, so the next timeout is found without scanning every session.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Instant;

/// Timers keyed by what they are for. Cancelling is lazy: the owner checks, when a timer fires,
/// whether it still means anything (an epoch or deadline that no longer matches is dropped), so
/// re-arming is one push and never a search.
#[derive(Debug)]
pub(crate) struct DeadlineQueue<K> {
    heap: BinaryHeap<Reverse<Entry<K>>>,
    next_seq: u64,
}

#[derive(Debug)]
struct Entry<K> {
    at: Instant,
    /// Ties break in insertion order, so equal deadlines fire deterministically.
    seq: u64,
    key: K,
}

impl<K> PartialEq for Entry<K> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<K> Eq for Entry<K> {}

impl<K> PartialOrd for Entry<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Entry<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<K> Default for DeadlineQueue<K> {
    fn default() -> Self {
        DeadlineQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<K> DeadlineQueue<K> {
    /// Arms a timer.
    pub(crate) fn push(&mut self, at: Instant, key: K) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry { at, seq, key }));
    }

    /// The earliest deadline, possibly of a timer that no longer matters (an early wake-up is
    /// harmless by the drain contract).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    /// Removes and returns a timer due at `now`, earliest first.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<K> {
        if self.next_deadline()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse(e)| e.key)
    }

    /// Timers armed, stale ones included.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_in_deadline_then_insertion_order() {
        let t0 = Instant::now();
        let mut q = DeadlineQueue::default();
        q.push(t0 + Duration::from_secs(2), "late");
        q.push(t0 + Duration::from_secs(1), "first");
        q.push(t0 + Duration::from_secs(1), "second");
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(q.pop_due(t0), None);
        let now = t0 + Duration::from_secs(1);
        assert_eq!(q.pop_due(now), Some("first"));
        assert_eq!(q.pop_due(now), Some("second"));
        assert_eq!(q.pop_due(now), None);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_due(t0 + Duration::from_secs(5)), Some("late"));
    }
}
