//! Retransmission with exponential backoff, shared by the login datagram and chat messages.

use std::time::{Duration, Instant};

/// What to do when a retransmission timer is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Not due yet (an early or repeated timeout call).
    Wait,
    /// Send the datagram again; the next deadline is armed.
    Resend,
    /// Every try went unanswered.
    GiveUp,
}

/// Tries sent so far and when to try again. The first try is sent by the owner when it starts
/// the backoff; each further wait is twice the one before, up to a longest wait if one is set.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    sent: u32,
    tries: u32,
    wait: Duration,
    longest_wait: Duration,
    deadline: Instant,
}

impl Backoff {
    /// The first try has just been sent at `now`; `tries` counts it (at least one is always sent).
    pub(crate) fn start(now: Instant, first_wait: Duration, tries: u32) -> Self {
        Backoff {
            sent: 1,
            tries: tries.max(1),
            wait: first_wait,
            longest_wait: Duration::MAX,
            deadline: deadline_after(now, first_wait),
        }
    }

    /// No wait grows past `longest`: on a lossy path the later tries come often enough to matter.
    pub(crate) fn capped(mut self, longest: Duration) -> Self {
        self.longest_wait = longest;
        self
    }

    /// When [`step`](Self::step) next does something.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Advances the backoff if its deadline has passed.
    pub(crate) fn step(&mut self, now: Instant) -> Step {
        if now < self.deadline {
            return Step::Wait;
        }
        if self.sent >= self.tries {
            return Step::GiveUp;
        }
        self.sent += 1;
        self.wait = self.wait.saturating_mul(2).min(self.longest_wait);
        self.deadline = deadline_after(now, self.wait);
        Step::Resend
    }
}

/// `now + wait`, saturating far in the future rather than panicking on an absurd configuration.
pub(crate) fn deadline_after(now: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(wait)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_gives_up_after_the_last_wait() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut b = Backoff::start(t0, ms(100), 3);
        assert_eq!(b.step(t0 + ms(99)), Step::Wait);
        assert_eq!(b.step(t0 + ms(100)), Step::Resend);
        assert_eq!(b.deadline(), t0 + ms(300));
        assert_eq!(b.step(t0 + ms(300)), Step::Resend);
        assert_eq!(b.deadline(), t0 + ms(700));
        assert_eq!(b.step(t0 + ms(699)), Step::Wait);
        assert_eq!(b.step(t0 + ms(700)), Step::GiveUp);
    }

    #[test]
    fn a_capped_wait_stops_doubling() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut b = Backoff::start(t0, ms(100), 5).capped(ms(250));
        let mut at = t0 + ms(100);
        let mut tries = Vec::new();
        while b.step(at) == Step::Resend {
            tries.push(at - t0);
            at = b.deadline();
        }
        assert_eq!(tries, [ms(100), ms(300), ms(550), ms(800)]);
        assert_eq!(
            at - t0,
            ms(1050),
            "gives up one longest wait after the last try"
        );
    }

    #[test]
    fn zero_tries_still_sends_one() {
        let t0 = Instant::now();
        let mut b = Backoff::start(t0, Duration::from_millis(1), 0);
        assert_eq!(b.step(t0 + Duration::from_millis(1)), Step::GiveUp);
    }

    #[test]
    fn absurd_waits_do_not_panic() {
        let t0 = Instant::now();
        let mut b = Backoff::start(t0, Duration::MAX, 5);
        assert!(b.deadline() > t0);
        assert_eq!(b.step(t0), Step::Wait);
    }
}
