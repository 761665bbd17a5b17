//! A deadline queue, so the next timeout is found without scanning every session.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;
use std::time::Instant;

/// Superseded heap entries tolerated beyond the live timers before the heap is rebuilt, so a
/// handful of them never costs a rebuild.
const SLACK: usize = 64;

/// Timers keyed by what they are for, at most one per key: arming a key again moves its
/// deadline, and cancelling forgets it.
///
/// A binary heap orders the deadlines and a map says which heap entry of each key is current.
/// Entries a re-arm or cancel superseded are not searched for: they are dropped when they reach
/// the top, and the heap is rebuilt from the map once they outnumber the live timers. So the
/// memory follows the timers that mean something (at most twice as many entries, plus
/// [`SLACK`]), not the rate at which they are re-armed, and each operation is amortised
/// O(log n). The top of the heap is always live, so [`next_deadline`](Self::next_deadline) is
/// exact.
#[derive(Debug)]
pub(crate) struct DeadlineQueue<K> {
    heap: BinaryHeap<Reverse<Entry<K>>>,
    /// The current deadline and sequence number of every armed key.
    live: HashMap<K, (Instant, u64)>,
    next_seq: u64,
}

#[derive(Debug)]
struct Entry<K> {
    at: Instant,
    /// Ties break in arming order, so equal deadlines fire deterministically; it also tells a
    /// key's current entry from the ones it superseded.
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
            live: HashMap::new(),
            next_seq: 0,
        }
    }
}

impl<K: Clone + Eq + Hash> DeadlineQueue<K> {
    /// Arms the timer `key` for `at`, replacing its earlier deadline if it had one.
    pub(crate) fn set(&mut self, at: Instant, key: K) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.live.insert(key.clone(), (at, seq));
        self.heap.push(Reverse(Entry { at, seq, key }));
        self.tidy();
    }

    /// Disarms the timer `key` (nothing happens if it is not armed).
    pub(crate) fn cancel(&mut self, key: &K) {
        if self.live.remove(key).is_some() {
            self.tidy();
        }
    }

    /// The earliest deadline of an armed timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    /// Disarms and returns a timer due at `now`, earliest first.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<K> {
        if self.next_deadline()? > now {
            return None;
        }
        let Reverse(entry) = self.heap.pop()?;
        self.live.remove(&entry.key);
        self.tidy();
        Some(entry.key)
    }

    /// Entries held, superseded ones included: at most twice the armed timers plus [`SLACK`].
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    fn is_current(&self, entry: &Entry<K>) -> bool {
        self.live
            .get(&entry.key)
            .is_some_and(|&(_, seq)| seq == entry.seq)
    }

    /// Drops superseded entries from the top, and rebuilds the heap when they outnumber the live
    /// ones. Rebuilding order does not matter: `(at, seq)` orders the entries totally.
    fn tidy(&mut self) {
        while self
            .heap
            .peek()
            .is_some_and(|Reverse(top)| !self.is_current(top))
        {
            self.heap.pop();
        }
        if self.heap.len() > 2 * self.live.len() + SLACK {
            self.heap = self
                .live
                .iter()
                .map(|(key, &(at, seq))| {
                    Reverse(Entry {
                        at,
                        seq,
                        key: key.clone(),
                    })
                })
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    #[test]
    fn pops_in_deadline_then_arming_order() {
        let t0 = Instant::now();
        let mut q = DeadlineQueue::default();
        q.set(t0 + Duration::from_secs(2), "late");
        q.set(t0 + Duration::from_secs(1), "first");
        q.set(t0 + Duration::from_secs(1), "second");
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(q.pop_due(t0), None);
        let now = t0 + Duration::from_secs(1);
        assert_eq!(q.pop_due(now), Some("first"));
        assert_eq!(q.pop_due(now), Some("second"));
        assert_eq!(q.pop_due(now), None);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_due(t0 + Duration::from_secs(5)), Some("late"));
    }

    #[test]
    fn rearming_moves_a_timer_and_cancelling_forgets_it() {
        let t0 = Instant::now();
        let mut q = DeadlineQueue::default();
        q.set(t0 + Duration::from_secs(1), "a");
        q.set(t0 + Duration::from_secs(2), "b");
        q.set(t0 + Duration::from_secs(3), "a");
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(2)));
        q.cancel(&"b");
        assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(3)));
        let late = t0 + Duration::from_secs(10);
        assert_eq!(q.pop_due(late), Some("a"));
        assert_eq!(q.pop_due(late), None);
        assert_eq!(q.next_deadline(), None);
    }

    #[test]
    fn entries_follow_the_live_timers_not_the_rate_of_rearming() {
        let t0 = Instant::now();
        let mut q = DeadlineQueue::default();
        for i in 0..100_000u64 {
            // Ever later deadlines: superseded entries never reach the top by themselves.
            q.set(t0 + Duration::from_millis(i), i % 10);
            q.set(t0 + Duration::from_secs(1_000 + i), 1_000 + i);
            q.cancel(&(1_000 + i));
        }
        assert!(
            q.len() <= 2 * 10 + SLACK,
            "{} entries for 10 timers",
            q.len()
        );
    }

    /// One step of the property test: arm, cancel, or advance time and pop what is due.
    #[derive(Debug, Clone)]
    enum Step {
        Set { key: u8, at: u16 },
        Cancel { key: u8 },
        Pop { to: u16 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u8..16, 0u16..1000).prop_map(|(key, at)| Step::Set { key, at }),
            (0u8..16).prop_map(|key| Step::Cancel { key }),
            (0u16..1000).prop_map(|to| Step::Pop { to }),
        ]
    }

    proptest! {
        /// The queue behaves as a map key → (deadline, arming order), popped in that order.
        #[test]
        fn matches_a_model(steps in proptest::collection::vec(step(), 0..400)) {
            let t0 = Instant::now();
            let ms = |n: u16| t0 + Duration::from_millis(u64::from(n));
            let mut q = DeadlineQueue::default();
            let mut model: BTreeMap<u8, (Instant, u64)> = BTreeMap::new();
            let mut seq = 0;
            for step in steps {
                match step {
                    Step::Set { key, at } => {
                        q.set(ms(at), key);
                        model.insert(key, (ms(at), seq));
                        seq += 1;
                    }
                    Step::Cancel { key } => {
                        q.cancel(&key);
                        model.remove(&key);
                    }
                    Step::Pop { to } => {
                        let now = ms(to);
                        let mut due: Vec<(Instant, u64, u8)> = model
                            .iter()
                            .filter(|(_, &(at, _))| at <= now)
                            .map(|(&k, &(at, s))| (at, s, k))
                            .collect();
                        due.sort_unstable();
                        for (_, _, key) in due {
                            prop_assert_eq!(q.pop_due(now), Some(key));
                            model.remove(&key);
                        }
                        prop_assert_eq!(q.pop_due(now), None);
                    }
                }
                prop_assert_eq!(q.next_deadline(), model.values().map(|&(at, _)| at).min());
                prop_assert!(q.len() <= 2 * model.len() + SLACK);
            }
        }
    }
}
