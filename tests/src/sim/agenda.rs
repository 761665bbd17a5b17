//! Virtual time and the agenda of what happens next.
//!
//! The simulated clock is an offset from one real `Instant` taken at the start of a run, so the
//! machines see ordinary `Instant`s while nothing ever waits. Events due at the same instant run
//! in the order they were scheduled, which is what makes a seed replay exactly.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// A point in simulated time: the offset from the start of the run.
pub type SimTime = Duration;

/// Maps simulated time to the `Instant`s the machines work with.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base: Instant,
}

impl Clock {
    /// A clock whose time zero is now.
    pub fn start() -> Self {
        Clock {
            base: Instant::now(),
        }
    }

    /// The `Instant` of a simulated time.
    pub fn instant(&self, at: SimTime) -> Instant {
        self.base + at
    }

    /// The simulated time of an `Instant` (time zero for anything earlier).
    pub fn sim_time(&self, at: Instant) -> SimTime {
        at.saturating_duration_since(self.base)
    }
}

/// Future events, earliest first, ties in scheduling order.
#[derive(Debug)]
pub struct Agenda<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    next_seq: u64,
}

#[derive(Debug)]
struct Entry<E> {
    at: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<E> Default for Agenda<E> {
    fn default() -> Self {
        Agenda {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<E> Agenda<E> {
    /// Schedules `event` at `at`.
    pub fn schedule(&mut self, at: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry { at, seq, event }));
    }

    /// The earliest event due no later than `until`.
    pub fn pop_until(&mut self, until: SimTime) -> Option<(SimTime, E)> {
        if self.heap.peek()?.0.at > until {
            return None;
        }
        self.heap.pop().map(|Reverse(e)| (e.at, e.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_scheduling_order() {
        let mut agenda = Agenda::default();
        let t = Duration::from_millis(5);
        agenda.schedule(t, "b");
        agenda.schedule(Duration::from_millis(1), "a");
        agenda.schedule(t, "c");
        agenda.schedule(Duration::from_millis(9), "late");
        let until = Duration::from_millis(6);
        let order: Vec<_> = std::iter::from_fn(|| agenda.pop_until(until))
            .map(|(_, e)| e)
            .collect();
        assert_eq!(order, ["a", "b", "c"]);
        let rest = agenda
            .pop_until(Duration::MAX)
            .map(|(at, e)| (at.as_millis(), e));
        assert_eq!(rest, Some((9, "late")));
    }
}
