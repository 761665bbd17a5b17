//! Logging in again after the link with the server was lost: waits that double from
//! `reconnect_min` up to `reconnect_max`, each drawn at random between its half and itself so
//! that the clients of a restarted server do not all come back in the same instant (the
//! randomness comes from the seed the driver gives), and the refusals that end it.

use std::time::Duration;

use super::config::ClientConfig;
use super::output::LoginFailure;
use super::secure::rng::SeededRng;
use crate::wire::RejectReason;

/// Where the attempts to log in again stand.
#[derive(Debug)]
pub(crate) struct Reconnect {
    rng: SeededRng,
    /// Attempts scheduled since the link was last up.
    attempt: u32,
    /// `Reject,name-taken` answers in a row.
    name_taken: u32,
}

impl Reconnect {
    pub(crate) fn new(seed: [u8; 32]) -> Self {
        Reconnect {
            rng: SeededRng::for_use(seed, b"reconnect jitter"),
            attempt: 0,
            name_taken: 0,
        }
    }

    /// The number of the next attempt, and how long to wait before it.
    pub(crate) fn next_wait(&mut self, config: &ClientConfig) -> (u32, Duration) {
        self.attempt = self.attempt.saturating_add(1);
        let doublings = self.attempt.saturating_sub(1).min(20);
        let full = config
            .reconnect_min
            .saturating_mul(1 << doublings)
            .min(config.reconnect_max);
        let half = full / 2;
        let spread = u64::try_from((full - half).as_millis()).unwrap_or(u64::MAX);
        let jitter = match spread {
            0 => 0,
            spread => u64::from(self.rng.next_u32()) % (spread + 1),
        };
        (self.attempt, half + Duration::from_millis(jitter))
    }

    /// An attempt failed with `failure`: whether that ends the client — the name was taken
    /// `reconnect_name_taken` times in a row, so someone else holds it.
    pub(crate) fn refused(&mut self, failure: LoginFailure, config: &ClientConfig) -> bool {
        if failure == LoginFailure::Rejected(RejectReason::NameTaken) {
            self.name_taken += 1;
        } else {
            self.name_taken = 0;
        }
        self.name_taken >= config.reconnect_name_taken.max(1)
    }

    /// Online again: the next loss starts counting afresh.
    pub(crate) fn succeeded(&mut self) {
        self.attempt = 0;
        self.name_taken = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Name, SessionId};

    fn config() -> ClientConfig {
        let name = Name::new("alice").expect("a valid name");
        let any = "127.0.0.1:1".parse().expect("an address");
        ClientConfig::new(name, any, any, SessionId::new(1))
    }

    #[test]
    fn waits_double_within_their_jitter_up_to_the_longest() {
        let config = config();
        let mut reconnect = Reconnect::new([7; 32]);
        let mut waits = Vec::new();
        for attempt in 1..=10u32 {
            let (n, wait) = reconnect.next_wait(&config);
            assert_eq!(n, attempt);
            let full = (config.reconnect_min * (1 << (attempt - 1))).min(config.reconnect_max);
            assert!(
                wait >= full / 2 && wait <= full,
                "attempt {attempt}: {wait:?}"
            );
            waits.push(wait);
        }
        // Jittered: not every wait is the same fraction of its bound.
        let fractions: std::collections::HashSet<u128> = waits
            .iter()
            .enumerate()
            .map(|(i, w)| {
                w.as_millis() * 1000
                    / (config.reconnect_min * (1 << i))
                        .min(config.reconnect_max)
                        .as_millis()
            })
            .collect();
        assert!(fractions.len() > 3, "{waits:?}");
        reconnect.succeeded();
        assert_eq!(reconnect.next_wait(&config).0, 1);
    }

    #[test]
    fn the_same_seed_gives_the_same_waits_another_seed_others() {
        let config = config();
        let waits = |seed| {
            let mut r = Reconnect::new(seed);
            (0..6).map(|_| r.next_wait(&config).1).collect::<Vec<_>>()
        };
        assert_eq!(waits([1; 32]), waits([1; 32]));
        assert_ne!(waits([1; 32]), waits([2; 32]));
    }

    #[test]
    fn only_the_name_taken_in_a_row_ends_it() {
        let config = config();
        let mut reconnect = Reconnect::new([0; 32]);
        let taken = LoginFailure::Rejected(RejectReason::NameTaken);
        for _ in 1..config.reconnect_name_taken {
            assert!(!reconnect.refused(taken, &config));
        }
        assert!(!reconnect.refused(LoginFailure::Timeout, &config));
        for _ in 1..config.reconnect_name_taken {
            assert!(!reconnect.refused(taken, &config));
        }
        assert!(reconnect.refused(taken, &config));
    }
}
