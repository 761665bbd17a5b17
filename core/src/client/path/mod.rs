//! Where each peer is reachable (protocol.md 8.2): the direct path first, NATs opened by
//! introductions, the relay through the server as the fallback. ICE-lite, sans-IO.
//!
//! Sealed datagrams come here addressed by name ([`Sends`]) and leave as a datagram to the
//! peer's direct endpoint or as a `relay` line on the TCP session. Only an authentic datagram
//! (the secure layer opened it) teaches anything: the endpoint it came from becomes the peer's
//! direct endpoint, or, having come through the server, it says the relay works. So a forged or
//! replayed datagram never moves a path.
//!
//! Sending without a direct path known to work starts a *search*: we ask the server to
//! introduce us (it tells both sides at once, and both probe, so each NAT opens for the other),
//! and if nothing direct has come back within `relay_after`, datagrams go through the relay.
//! While relaying we keep probing directly (handshakes go both ways, and a keepalive goes
//! directly now and then, less and less often), and move back as soon as a direct datagram
//! arrives. Exactly-once delivery does not depend on any of this: the chat layer
//! retransmits and the receiver drops duplicates, whichever path each copy took.

mod peer;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::config::ClientConfig;
use super::outbox::Outbox;
use super::output::{ClientEvent, Via};
use crate::timer::DeadlineQueue;
use crate::wire::{is_handshake, ClientLine, Name, RelayPayload};
use peer::PeerPath;

/// How a datagram reaches a peer, or came from one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Our UDP socket, to or from this endpoint.
    Direct(SocketAddr),
    /// The server, over the TCP session.
    Relay,
}

/// What a path timer asks of the secure layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Due {
    /// The relay is now in use: prove ourselves through it at once (a keepalive, or a fresh
    /// initiation), rather than waiting for the next retransmission.
    Kick(Name),
    /// Probe the direct path: a keepalive on the current session, sent directly.
    Probe(Name),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Timer {
    /// The search has lasted `relay_after`.
    Relay(Name),
    /// The next direct probe while relaying.
    Probe(Name),
}

/// The paths to every listed peer.
#[derive(Debug)]
pub(crate) struct Paths {
    peers: HashMap<Name, PeerPath>,
    timers: DeadlineQueue<Timer>,
    /// What a `path` event shows for the relay: the server's address.
    server: SocketAddr,
    /// The link with the server is up: the relay and introductions are there.
    server_up: bool,
}

impl Paths {
    pub(crate) fn new(server: SocketAddr) -> Self {
        Paths {
            peers: HashMap::new(),
            timers: DeadlineQueue::default(),
            server,
            server_up: true,
        }
    }

    /// The link with the server is up (or lost): whether the relay and introductions are there.
    pub(crate) fn set_server(&mut self, up: bool) {
        self.server_up = up;
    }

    /// `name` is listed at `endpoint` (anew: whatever was known of it is forgotten).
    pub(crate) fn listed(
        &mut self,
        now: Instant,
        name: &Name,
        endpoint: SocketAddr,
        config: &ClientConfig,
    ) {
        self.forget(name);
        let path = PeerPath::new(endpoint, now, config.probe_interval);
        self.peers.insert(name.clone(), path);
    }

    /// `name` left.
    pub(crate) fn forget(&mut self, name: &Name) {
        if self.peers.remove(name).is_some() {
            self.timers.cancel(&Timer::Relay(name.clone()));
            self.timers.cancel(&Timer::Probe(name.clone()));
        }
    }

    /// Sends a sealed datagram to `name` the way that works; without a direct path known to
    /// work, this starts a search. Returns false for a peer not listed (nothing is sent).
    pub(crate) fn send(
        &mut self,
        now: Instant,
        name: &Name,
        datagram: Bytes,
        config: &ClientConfig,
        out: &mut Outbox,
    ) -> bool {
        let Some(path) = self.peers.get_mut(name) else {
            return false;
        };
        path.active_at = now;
        if !path.is_direct(now, config.path_idle) {
            if path.searching_since.is_none() {
                path.searching_since = Some(now);
                self.timers
                    .set(now + config.relay_after, Timer::Relay(name.clone()));
                ask_intro(self.server_up, path, now, name, config, out);
            }
            if path.relay && !path.probing {
                path.probing = true;
                self.timers
                    .set(now + path.probe_wait, Timer::Probe(name.clone()));
            }
        }
        match path.route(now, config.path_idle) {
            Route::Direct(endpoint) => out.datagram(endpoint, datagram),
            // Without the server there is no relay: direct is all there is.
            Route::Relay if !self.server_up => out.datagram(path.direct, datagram),
            // A handshake goes both ways: it is what finds a direct path that opens late, and
            // a relay that does not work (one the server refuses) costs no session. Any other
            // datagram goes once: a second copy would only be refused as a replay, and would
            // hide the direct path from the peer whenever it lost the race.
            Route::Relay if is_handshake(&datagram) => {
                send_relayed(name, &datagram, out);
                out.datagram(path.direct, datagram);
            }
            Route::Relay => send_relayed(name, &datagram, out),
        }
        true
    }

    /// Sends a probe straight to the peer's direct endpoint, whatever the route in use.
    pub(crate) fn send_direct(&mut self, name: &Name, datagram: Bytes, out: &mut Outbox) {
        if let Some(path) = self.peers.get(name) {
            out.datagram(path.direct, datagram);
        }
    }

    /// An authentic datagram from `name` came by `route`. Returns whether it made the direct
    /// path work where it did not (the caller then answers directly, so the peer learns too).
    pub(crate) fn heard(
        &mut self,
        now: Instant,
        name: &Name,
        route: Route,
        config: &ClientConfig,
        out: &mut Outbox,
    ) -> bool {
        let Some(path) = self.peers.get_mut(name) else {
            return false;
        };
        path.active_at = now;
        match route {
            Route::Direct(source) => {
                let news = path.heard_directly(now, source, config.path_idle);
                self.timers.cancel(&Timer::Relay(name.clone()));
                self.timers.cancel(&Timer::Probe(name.clone()));
                if path.report((Via::Direct, source)) {
                    out.event(path_event(name, Via::Direct, source));
                }
                news
            }
            Route::Relay => {
                if path.is_direct(now, config.path_idle) {
                    return false;
                }
                // The peer gave up on the direct path: the relay works both ways.
                path.relay = true;
                path.searching_since.get_or_insert(now);
                if !path.probing {
                    path.probing = true;
                    self.timers
                        .set(now + path.probe_wait, Timer::Probe(name.clone()));
                }
                if path.report((Via::Relay, self.server)) {
                    out.event(path_event(name, Via::Relay, self.server));
                }
                false
            }
        }
    }

    /// The server introduced `name` to us: returns whether to probe it now (it is listed and no
    /// direct path is known to work), which also starts a search if none is under way.
    pub(crate) fn introduced(&mut self, now: Instant, name: &Name, config: &ClientConfig) -> bool {
        let Some(path) = self.peers.get_mut(name) else {
            return false;
        };
        path.active_at = now;
        if path.is_direct(now, config.path_idle) {
            return false;
        }
        if path.searching_since.is_none() {
            path.searching_since = Some(now);
            self.timers
                .set(now + config.relay_after, Timer::Relay(name.clone()));
        }
        true
    }

    /// Runs the timers due by `now`: what needs the secure layer comes back as [`Due`].
    pub(crate) fn handle_timeout(
        &mut self,
        now: Instant,
        config: &ClientConfig,
        out: &mut Outbox,
    ) -> Vec<Due> {
        let mut due = Vec::new();
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Relay(name) => {
                    let Some(path) = self.peers.get_mut(&name) else {
                        continue;
                    };
                    if path.is_direct(now, config.path_idle) || path.searching_since.is_none() {
                        continue;
                    }
                    if !path.relay {
                        path.relay = true;
                        due.push(Due::Kick(name.clone()));
                    }
                    if !path.probing {
                        path.probing = true;
                        self.timers.set(now + path.probe_wait, Timer::Probe(name));
                    }
                }
                Timer::Probe(name) => {
                    let Some(path) = self.peers.get_mut(&name) else {
                        continue;
                    };
                    path.probing = false;
                    let quiet = now >= path.active_at + config.path_idle;
                    if !path.relay || path.is_direct(now, config.path_idle) || quiet {
                        // Probing starts again with the next datagram sent.
                        path.probe_wait = config.probe_interval;
                        continue;
                    }
                    ask_intro(self.server_up, path, now, &name, config, out);
                    path.probing = true;
                    path.probe_wait = (path.probe_wait * 2).min(config.probe_interval_max);
                    self.timers
                        .set(now + path.probe_wait, Timer::Probe(name.clone()));
                    due.push(Due::Probe(name));
                }
            }
        }
        due
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }
}

/// Asks the server to introduce `name` (an `intro` line), unless it is away or was asked for
/// that peer less than `intro_interval` ago.
fn ask_intro(
    server_up: bool,
    path: &mut PeerPath,
    now: Instant,
    name: &Name,
    config: &ClientConfig,
    out: &mut Outbox,
) {
    if server_up && path.ask_intro(now, config.intro_interval) {
        out.send_line(Bytes::from(ClientLine::Intro(name.clone()).to_vec()));
    }
}

fn send_relayed(to: &Name, datagram: &[u8], out: &mut Outbox) {
    // A sealed datagram always fits: the chat layer sizes its plaintexts for one.
    if let Some(payload) = RelayPayload::encode(datagram) {
        let line = ClientLine::Relay {
            to: to.clone(),
            payload,
        };
        out.send_line(Bytes::from(line.to_vec()));
    }
}

fn path_event(peer: &Name, via: Via, endpoint: SocketAddr) -> ClientEvent {
    ClientEvent::Path {
        peer: peer.clone(),
        via,
        endpoint,
    }
}

#[cfg(test)]
mod tests;
