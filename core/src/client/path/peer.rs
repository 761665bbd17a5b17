//! What we know of the way to one peer, and the rules that move it: a direct endpoint that an
//! authentic datagram from elsewhere replaces (peer-reflexive, as in ICE), a search that starts
//! when we send without a working path, and the relay once the search has lasted too long.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::Route;
use crate::client::output::Via;

/// The path to one listed peer.
#[derive(Debug)]
pub(super) struct PeerPath {
    /// Where direct datagrams go: the listed endpoint, until an authentic datagram came from
    /// another one (the peer's NAT maps it there for us).
    pub(super) direct: SocketAddr,
    /// When an authentic datagram last came directly from `direct`.
    heard_direct: Option<Instant>,
    /// Datagrams go through the server: no direct one came for too long, or the peer relays.
    pub(super) relay: bool,
    /// Since when we have been sending without a direct path known to work.
    pub(super) searching_since: Option<Instant>,
    /// When we last asked the server for an introduction.
    asked_intro_at: Option<Instant>,
    /// While relaying: the wait before the next direct probe (doubling), and whether one is
    /// armed.
    pub(super) probe_wait: Duration,
    pub(super) probing: bool,
    /// The last datagram to or from the peer: probes stop once the pair falls quiet.
    pub(super) active_at: Instant,
    /// The path last reported to the user.
    reported: Option<(Via, SocketAddr)>,
}

impl PeerPath {
    pub(super) fn new(listed: SocketAddr, now: Instant, probe_wait: Duration) -> Self {
        PeerPath {
            direct: listed,
            heard_direct: None,
            relay: false,
            searching_since: None,
            asked_intro_at: None,
            probe_wait,
            probing: false,
            active_at: now,
            reported: None,
        }
    }

    /// A direct datagram came within `idle`: the direct path works.
    pub(super) fn is_direct(&self, now: Instant, idle: Duration) -> bool {
        self.heard_direct.is_some_and(|at| now < at + idle)
    }

    /// Where the next datagram goes: direct while that works or nothing better is known, the
    /// relay once it is in use.
    pub(super) fn route(&self, now: Instant, idle: Duration) -> Route {
        if self.relay && !self.is_direct(now, idle) {
            Route::Relay
        } else {
            Route::Direct(self.direct)
        }
    }

    /// Whether we may ask for an introduction now (at most one per `interval`); if so, it counts
    /// as asked.
    pub(super) fn ask_intro(&mut self, now: Instant, interval: Duration) -> bool {
        if self.asked_intro_at.is_some_and(|at| now < at + interval) {
            return false;
        }
        self.asked_intro_at = Some(now);
        true
    }

    /// An authentic datagram came directly from `source`: it is where the peer is, and the path
    /// works. Returns whether it did not before.
    pub(super) fn heard_directly(
        &mut self,
        now: Instant,
        source: SocketAddr,
        idle: Duration,
    ) -> bool {
        let was_direct = self.is_direct(now, idle) && self.direct == source;
        self.direct = source;
        self.heard_direct = Some(now);
        self.relay = false;
        self.searching_since = None;
        self.probing = false;
        self.active_at = now;
        !was_direct
    }

    /// Records `path` as reported; returns whether it is news.
    pub(super) fn report(&mut self, path: (Via, SocketAddr)) -> bool {
        if self.reported == Some(path) {
            return false;
        }
        self.reported = Some(path);
        true
    }
}
