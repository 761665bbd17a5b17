//! The simulated processes around the state machines: a server, and client incarnations with
//! their endpoint, session id and fate.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use feige_core::client::Client;
use feige_core::server::{ConnId, Roster, Server};
use feige_core::wire::{LineDecoder, Name, PublicKey, SessionId};

use super::agenda::SimTime;
use super::event::IncId;

/// A machine's one live wake-up, so the agenda holds at most one current timer per machine.
#[derive(Debug, Default)]
pub struct Alarm {
    armed: Option<Instant>,
    /// Simulated time of the last wake-up and how many ran at that same instant.
    burst: (SimTime, u32),
}

/// Most timeouts a machine may ask for at one instant before it is declared stuck.
pub const MAX_WAKES_PER_INSTANT: u32 = 10_000;

impl Alarm {
    /// Records the machine's next deadline; returns it if a timer must be scheduled for it.
    pub fn rearm(&mut self, next: Option<Instant>) -> Option<Instant> {
        if next == self.armed {
            return None;
        }
        self.armed = next;
        next
    }

    /// Whether a timer event for `deadline` is still the current one; consumes it if so.
    pub fn fire(&mut self, deadline: Instant) -> bool {
        if self.armed != Some(deadline) {
            return false;
        }
        self.armed = None;
        true
    }

    /// Counts a wake-up at `now`; false when the machine keeps asking for the same instant.
    pub fn count_wake(&mut self, now: SimTime) -> bool {
        if self.burst.0 == now {
            self.burst.1 += 1;
        } else {
            self.burst = (now, 1);
        }
        self.burst.1 <= MAX_WAKES_PER_INSTANT
    }
}

/// The server process.
#[derive(Debug)]
pub struct ServerNode {
    /// The state machine.
    pub machine: Server,
    /// Its timer.
    pub alarm: Alarm,
    /// Who its broadcasts reach.
    pub roster: Roster,
}

/// Where a client process is in its life (as the simulator sees it, not the machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// Running.
    Running,
    /// Died abruptly at that time.
    Crashed {
        /// When.
        at: SimTime,
        /// Whether its TCP peer saw a FIN.
        fin: bool,
    },
    /// Exited after its terminal event.
    Exited {
        /// When.
        at: SimTime,
    },
}

/// One client incarnation.
#[derive(Debug)]
pub struct ClientNode {
    /// Its index.
    pub inc: IncId,
    /// The user it belongs to.
    pub user: usize,
    /// The user's name.
    pub name: Name,
    /// Its UDP endpoint.
    pub endpoint: SocketAddr,
    /// This login's session id.
    pub sid: SessionId,
    /// The user's public key as this incarnation has it.
    pub key: PublicKey,
    /// Which install of the user it is (a reinstall makes a new key).
    pub generation: u32,
    /// The keys pinned in earlier runs that it started with.
    pub pinned: BTreeMap<Name, PublicKey>,
    /// Cuts the server's stream into lines as the client's decoder does, so the journal knows
    /// which key lines it was given.
    pub heard: LineDecoder,
    /// The state machine.
    pub machine: Client,
    /// Its timer.
    pub alarm: Alarm,
    /// Its life.
    pub life: Life,
    /// When it started.
    pub launched_at: SimTime,
    /// When it asked to log out, if it did.
    pub logout_at: Option<SimTime>,
    /// Its TCP connection, once it asked for one.
    pub conn: Option<ConnId>,
    /// When the network cut its connection, if it did.
    pub cut_at: Option<SimTime>,
    /// Started during the calm final phase: it must get in.
    pub must_log_in: bool,
    /// It holds its install's store: its messages outlive it (a later incarnation holding the
    /// store sends what it left in the outbox), and what it showed is remembered.
    pub stored: bool,
}

impl ClientNode {
    /// Whether the process still runs.
    pub fn is_running(&self) -> bool {
        self.life == Life::Running
    }

    /// The store it holds, as (user, install), if it holds one.
    pub fn store(&self) -> Option<(usize, u32)> {
        self.stored.then_some((self.user, self.generation))
    }

    /// Whether it died abruptly.
    pub fn crashed(&self) -> bool {
        matches!(self.life, Life::Crashed { .. })
    }
}
