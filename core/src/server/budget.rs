//! A rate with a burst, for what one session may ask of the server (introductions, relayed
//! bytes): the generic cell rate algorithm, in integer time, so the machine stays deterministic.

use std::time::{Duration, Instant};

/// `rate` units a second on average, up to `burst` at once.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    /// Time one unit costs; `None` for a rate of zero (nothing is ever allowed).
    per_unit: Option<Duration>,
    /// How far ahead of now the spent time may run: the burst.
    tolerance: Duration,
    /// When everything spent so far will have been earned back.
    earned_at: Option<Instant>,
}

impl Budget {
    pub(crate) fn new(rate: u32, burst: u32) -> Self {
        let per_unit = (rate > 0).then(|| Duration::from_secs(1) / rate);
        Budget {
            per_unit,
            tolerance: per_unit.unwrap_or_default() * burst,
            earned_at: None,
        }
    }

    /// Spends `units` if the budget allows it now; a refusal spends nothing.
    pub(crate) fn spend(&mut self, now: Instant, units: u32) -> bool {
        let Some(per_unit) = self.per_unit else {
            return false;
        };
        let from = self.earned_at.map_or(now, |at| at.max(now));
        let until = from + per_unit * units;
        if until > now + self.tolerance {
            return false;
        }
        self.earned_at = Some(until);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let start = Instant::now();
        let mut budget = Budget::new(2, 4);
        assert_eq!((0..6).filter(|_| budget.spend(start, 1)).count(), 4);
        // Half a second earns one unit back.
        let later = start + Duration::from_millis(500);
        assert!(budget.spend(later, 1));
        assert!(!budget.spend(later, 1));
        // A long pause earns the whole burst, never more.
        let much_later = start + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| budget.spend(much_later, 1)).count(), 4);
    }

    #[test]
    fn more_than_the_burst_at_once_is_never_allowed() {
        let now = Instant::now();
        let mut budget = Budget::new(1000, 100);
        assert!(!budget.spend(now, 101));
        assert!(budget.spend(now, 100));
        assert!(!Budget::new(0, 100).spend(now, 1));
    }
}
