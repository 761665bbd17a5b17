//! The sliding replay window of a receiving session (WireGuard's, RFC 6479): UDP loses and
//! reorders, so any counter not yet seen within the last [`WINDOW`] is accepted once.

/// Counters remembered: the highest received and the `WINDOW - 1` before it.
pub(super) const WINDOW: u64 = 1024;

const WORDS: usize = (WINDOW / 64) as usize;

/// Which counters of the last [`WINDOW`] were received. Counter `c` is bit `c % WINDOW`.
///
/// Checking and marking are apart: a counter is checked before decryption (a cheap refusal) and
/// marked only once the datagram is authenticated, so forged counters never move the window.
#[derive(Debug, Clone)]
pub(super) struct ReplayWindow {
    /// One past the highest counter received (0: none yet).
    next: u64,
    bits: [u64; WORDS],
}

impl Default for ReplayWindow {
    fn default() -> Self {
        ReplayWindow {
            next: 0,
            bits: [0; WORDS],
        }
    }
}

impl ReplayWindow {
    /// Whether `counter` may be opened: newer than all, or within the window and not seen.
    pub(super) fn check(&self, counter: u64) -> bool {
        if counter >= self.next {
            return true;
        }
        self.next - counter <= WINDOW && !self.is_set(counter)
    }

    /// Records an authenticated `counter` that [`check`](Self::check) accepted.
    pub(super) fn mark(&mut self, counter: u64) {
        if counter >= self.next {
            let gap = counter - self.next;
            if gap >= WINDOW {
                self.bits = [0; WORDS];
            } else {
                // Counters next..counter were skipped: their bits held counters a window older.
                for skipped in self.next..counter {
                    self.clear(skipped);
                }
            }
            self.next = counter.saturating_add(1);
        }
        self.set(counter);
    }

    fn position(counter: u64) -> (usize, u64) {
        let bit = counter % WINDOW;
        ((bit / 64) as usize, 1 << (bit % 64))
    }

    fn is_set(&self, counter: u64) -> bool {
        let (word, mask) = Self::position(counter);
        self.bits[word] & mask != 0
    }

    fn set(&mut self, counter: u64) {
        let (word, mask) = Self::position(counter);
        self.bits[word] |= mask;
    }

    fn clear(&mut self, counter: u64) {
        let (word, mask) = Self::position(counter);
        self.bits[word] &= !mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn accept(w: &mut ReplayWindow, c: u64) -> bool {
        let ok = w.check(c);
        if ok {
            w.mark(c);
        }
        ok
    }

    #[test]
    fn in_order_reordered_duplicate_and_too_old() {
        let mut w = ReplayWindow::default();
        assert!(accept(&mut w, 0));
        assert!(!accept(&mut w, 0));
        assert!(accept(&mut w, 5));
        assert!(accept(&mut w, 3));
        assert!(!accept(&mut w, 3));
        assert!(accept(&mut w, 2000));
        assert!(!accept(&mut w, 5), "more than a window behind");
        assert!(
            accept(&mut w, 2000 - (WINDOW - 1)),
            "the oldest the window holds"
        );
        assert!(!accept(&mut w, 2000 - WINDOW), "one more behind");
        assert!(accept(&mut w, u64::MAX - 1));
        assert!(!accept(&mut w, u64::MAX - 1));
    }

    proptest! {
        /// The window behaves as "every counter once, and none more than WINDOW behind the
        /// highest": a set and a maximum.
        #[test]
        fn matches_a_model(counters in proptest::collection::vec(
            prop_oneof![0u64..3000, (0u64..64).prop_map(|c| c * 1000)], 0..500)
        ) {
            let mut w = ReplayWindow::default();
            let mut seen = BTreeSet::new();
            let mut next = 0u64;
            for c in counters {
                let expected = !seen.contains(&c) && (c >= next || next - c <= WINDOW);
                prop_assert_eq!(accept(&mut w, c), expected, "counter {}", c);
                if expected {
                    seen.insert(c);
                    next = next.max(c + 1);
                }
            }
        }
    }
}
