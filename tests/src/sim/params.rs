//! The knobs of a run; everything else is drawn from the seed.

use std::ops::RangeInclusive;
use std::time::Duration;

/// How big and how long a simulated run is.
#[derive(Debug, Clone)]
pub struct Params {
    /// The setting's name, as `FEIGE_SIM_PARAMS` spells it for a replay.
    pub name: &'static str,
    /// How many users (names); drawn per seed.
    pub users: RangeInclusive<usize>,
    /// Length of the faulty phase, seconds; drawn per seed.
    pub fault_secs: RangeInclusive<u64>,
    /// Gap between one client's chat messages, milliseconds.
    pub chat_gap_ms: RangeInclusive<u64>,
    /// Probability that a client started during the storm meets a fate there (crash, logout,
    /// cut connection) rather than staying.
    pub churn: f64,
    /// Probability that a user coming back during the storm reinstalled first: a new key, which
    /// everyone who pinned the old one is told of and must trust before chat resumes.
    pub reinstall: f64,
    /// Whether the forger is on the network.
    pub attacker: bool,
    /// Whether the forger can also forge source addresses: sealed chat does not care where a
    /// datagram comes from, so runs must stay clean.
    pub spoofing: bool,
    /// Whether the forger holds the first user's private key, which no protocol can stop: only
    /// to prove that the checker notices (runs must fail).
    pub stolen_key: bool,
}

impl Params {
    /// A handful of users, lively traffic: the many-seeds setting.
    pub fn small() -> Self {
        Params {
            name: "small",
            users: 2..=10,
            fault_secs: 15..=40,
            chat_gap_ms: 500..=5000,
            churn: 0.7,
            reinstall: 0.15,
            attacker: true,
            spoofing: false,
            stolen_key: false,
        }
    }

    /// The small setting with a forger that spoofs source addresses: runs must stay clean.
    pub fn spoofed() -> Self {
        Params {
            name: "spoofed",
            spoofing: true,
            ..Params::small()
        }
    }

    /// The small setting with a forger holding the first user's key, which the user keeps (no
    /// reinstalls): runs must fail.
    pub fn stolen() -> Self {
        Params {
            name: "stolen",
            reinstall: 0.0,
            stolen_key: true,
            ..Params::small()
        }
    }

    /// Two hundred users, calmer chat per user.
    pub fn crowd() -> Self {
        Params {
            name: "crowd",
            users: 200..=200,
            fault_secs: 15..=20,
            chat_gap_ms: 4000..=20_000,
            churn: 0.25,
            reinstall: 0.1,
            attacker: true,
            spoofing: false,
            stolen_key: false,
        }
    }

    /// The setting called `name` (`small`, `spoofed`, `stolen` or `crowd`).
    pub fn by_name(name: &str) -> Option<Self> {
        [
            Params::small(),
            Params::spoofed(),
            Params::stolen(),
            Params::crowd(),
        ]
        .into_iter()
        .find(|p| p.name == name)
    }
}

/// The phases of every run, after the faulty one.
pub mod phases {
    use super::Duration;

    /// From calm to the final logins: longer than the idle timeout (60 s) plus the pending window
    /// (10 s), so every session left behind by a crash is gone.
    pub const SETTLE: Duration = Duration::from_secs(75);
    /// From calm to the forger's withdrawal: longer than a pending login can live (30 s), so
    /// none of its classic logins can still be bound to a connection after it.
    pub const WITHDRAW: Duration = Duration::from_secs(35);
    /// From the final logins to the chat that must all be delivered: everyone is in by then.
    pub const FINAL_LOGINS: Duration = Duration::from_secs(5);
    /// How long that chat goes on.
    pub const FINAL_CHAT: Duration = Duration::from_secs(15);
    /// After the last message: longer than a whole retry budget (300 ms doubling, 6 tries).
    pub const DRAIN: Duration = Duration::from_secs(30);
}
