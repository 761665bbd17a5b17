//! What a running server has done, for Prometheus: counters and gauges the owner updates with
//! atomic operations only (it never waits on a scrape), and their text exposition.
//!
//! | metric | kind | meaning |
//! |---|---|---|
//! | `feige_sessions_online` | gauge | users online |
//! | `feige_logins_pending` | gauge | logins accepted by UDP, waiting for their TCP claim |
//! | `feige_connections_unclaimed` | gauge | TCP connections not carrying a session |
//! | `feige_timers` | gauge | timer entries held (follows live state) |
//! | `feige_logins_accepted_total` | counter | `Accept`s sent (a repeated login counts again) |
//! | `feige_logins_rejected_total{reason}` | counter | `Reject`s sent, by reason |
//! | `feige_sessions_ended_total{cause}` | counter | departures, by cause (`logout`, `closed`, `idle-timeout`, `slow-consumer`, …) |
//! | `feige_connections_refused_total{reason}` | counter | connections closed with `error,<reason>` before a claim |
//! | `feige_connections_unserved_total` | counter | accepted connections the transport could not serve (out of descriptors or threads) |
//! | `feige_lines_sent_total` | counter | TCP lines queued to clients |
//! | `feige_bytes_sent_total` | counter | TCP bytes queued to clients |
//! | `feige_slow_consumers_total` | counter | connections dropped because their unsent output passed the bound |
//! | `feige_datagrams_malformed_total` | counter | datagrams that did not parse |
//! | `feige_logouts_spoofed_total` | counter | UDP logouts not from the user's own endpoint |
//! | `feige_events_dropped_total` | counter | output lines dropped because stdout was not read fast enough |
//! | `feige_introductions_total` | counter | introductions made (each tells two sessions) |
//! | `feige_introductions_refused_total` | counter | `intro` lines dropped (past the session's budget, or naming no other native session) |
//! | `feige_relayed_datagrams_total` | counter | chat datagrams relayed between sessions |
//! | `feige_relayed_bytes_total` | counter | bytes of the `relay` lines sent for them |
//! | `feige_relay_refused_total` | counter | `relay` lines dropped (relay off, past the sender's budget, or naming no other native session) |
//! | `feige_cluster_store_up` | gauge | 1 while the cluster's Redis can be reached (0 alone, and while it cannot) |
//! | `feige_cluster_members_remote` | gauge | users online on the other coordinators of the cluster |
//! | `feige_cluster_nodes_lost_total` | counter | other coordinators found without their lease, whose members were unlisted |

pub mod http;

use std::sync::atomic::{AtomicU64, Ordering};

use feige_core::server::{LeaveReason, ServerEvent, ServerStats};
use feige_core::wire::{ErrorReason, RejectReason};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Cause {
    cause: &'static str,
}

/// Every metric of a server, registered once.
pub struct ServerMetrics {
    registry: Registry,
    online: Gauge,
    pending: Gauge,
    unclaimed: Gauge,
    timers: Gauge,
    accepted: Counter,
    /// One counter per reason, created up front: the owner never touches the family's lock.
    rejected: Vec<(RejectReason, Counter)>,
    ended: Vec<(LeaveReason, Counter)>,
    refused: Vec<(ErrorReason, Counter)>,
    unserved: Counter,
    lines_sent: Counter,
    bytes_sent: Counter,
    slow_consumers: Counter,
    malformed: Total,
    spoofed_logouts: Total,
    introductions: Total,
    introductions_refused: Total,
    relayed: Total,
    relayed_bytes: Total,
    relay_refused: Total,
    events_dropped: Counter,
    cluster_store_up: Gauge,
    cluster_remote: Gauge,
    cluster_nodes_lost: Counter,
}

/// A counter that follows one of the core's running totals.
struct Total {
    counter: Counter,
    /// The total last seen, to turn the next one into an increment.
    seen: AtomicU64,
}

impl Total {
    fn new(registry: &mut Registry, name: &str, help: &str) -> Self {
        let counter = Counter::default();
        registry.register(name, help, counter.clone());
        Total {
            counter,
            seen: AtomicU64::new(0),
        }
    }

    /// Moves the counter up to the core's running `total`.
    fn advance(&self, total: u64) {
        let before = self.seen.swap(total, Ordering::Relaxed);
        if total > before {
            self.counter.inc_by(total - before);
        }
    }
}

impl Default for ServerMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("feige");
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let counter = Counter::default();
            registry.register(name, help, counter.clone());
            counter
        };
        let online = gauge(&mut registry, "sessions_online", "Users online");
        let pending = gauge(
            &mut registry,
            "logins_pending",
            "Logins waiting for their TCP claim",
        );
        let unclaimed = gauge(
            &mut registry,
            "connections_unclaimed",
            "TCP connections not carrying a session",
        );
        let timers = gauge(&mut registry, "timers", "Timer entries held");
        let accepted = counter(&mut registry, "logins_accepted", "Accepts sent");
        let rejected_family = Family::<Reason, Counter>::default();
        registry.register(
            "logins_rejected",
            "Rejects sent, by reason",
            rejected_family.clone(),
        );
        let rejected = RejectReason::ALL
            .iter()
            .map(|&r| {
                (
                    r,
                    rejected_family
                        .get_or_create(&Reason { reason: r.as_str() })
                        .clone(),
                )
            })
            .collect();
        let ended_family = Family::<Cause, Counter>::default();
        registry.register(
            "sessions_ended",
            "Departures, by cause",
            ended_family.clone(),
        );
        let ended = LeaveReason::ALL
            .iter()
            .map(|&c| {
                (
                    c,
                    ended_family
                        .get_or_create(&Cause { cause: c.as_str() })
                        .clone(),
                )
            })
            .collect();
        let refused_family = Family::<Reason, Counter>::default();
        registry.register(
            "connections_refused",
            "Connections closed with an error line before a claim, by reason",
            refused_family.clone(),
        );
        let refused = ErrorReason::ALL
            .iter()
            .map(|&r| {
                (
                    r,
                    refused_family
                        .get_or_create(&Reason { reason: r.as_str() })
                        .clone(),
                )
            })
            .collect();
        let cluster_store_up = gauge(
            &mut registry,
            "cluster_store_up",
            "1 while the cluster's Redis can be reached",
        );
        let cluster_remote = gauge(
            &mut registry,
            "cluster_members_remote",
            "Users online on the other coordinators of the cluster",
        );
        let cluster_nodes_lost = counter(
            &mut registry,
            "cluster_nodes_lost",
            "Other coordinators found without their lease",
        );
        ServerMetrics {
            cluster_store_up,
            cluster_remote,
            cluster_nodes_lost,
            online,
            pending,
            unclaimed,
            timers,
            accepted,
            rejected,
            ended,
            refused,
            unserved: counter(
                &mut registry,
                "connections_unserved",
                "Accepted connections the transport could not serve",
            ),
            lines_sent: counter(&mut registry, "lines_sent", "TCP lines queued to clients"),
            bytes_sent: counter(&mut registry, "bytes_sent", "TCP bytes queued to clients"),
            slow_consumers: counter(
                &mut registry,
                "slow_consumers",
                "Connections dropped for unsent output past the bound",
            ),
            malformed: Total::new(
                &mut registry,
                "datagrams_malformed",
                "Datagrams that did not parse",
            ),
            spoofed_logouts: Total::new(
                &mut registry,
                "logouts_spoofed",
                "UDP logouts not from the user's own endpoint",
            ),
            introductions: Total::new(
                &mut registry,
                "introductions",
                "Introductions made (each tells two sessions)",
            ),
            introductions_refused: Total::new(
                &mut registry,
                "introductions_refused",
                "Intro lines dropped: past the session's budget, or naming no other native session",
            ),
            relayed: Total::new(
                &mut registry,
                "relayed_datagrams",
                "Chat datagrams relayed between sessions",
            ),
            relayed_bytes: Total::new(
                &mut registry,
                "relayed_bytes",
                "Bytes of the relay lines sent for relayed datagrams",
            ),
            relay_refused: Total::new(
                &mut registry,
                "relay_refused",
                "Relay lines dropped: relay off, past the sender's budget, or no such session",
            ),
            events_dropped: counter(
                &mut registry,
                "events_dropped",
                "Output lines dropped because stdout was not read fast enough",
            ),
            registry,
        }
    }
}

impl ServerMetrics {
    /// Counts what an event says happened.
    pub fn observe_event(&self, event: &ServerEvent) {
        match event {
            ServerEvent::Accepted { .. } => {
                self.accepted.inc();
            }
            ServerEvent::Rejected { reason, .. } => bump(&self.rejected, reason),
            ServerEvent::Left { reason, .. } => bump(&self.ended, reason),
            ServerEvent::ConnectionRefused { reason, .. } => bump(&self.refused, reason),
            ServerEvent::Joined { .. } => {}
            ServerEvent::Store { up } => {
                self.cluster_store_up.set(i64::from(*up));
            }
            ServerEvent::Reaping { .. } => {
                self.cluster_nodes_lost.inc();
            }
        }
    }

    /// Takes the gauges and running totals of the core.
    pub fn observe_stats(&self, stats: &ServerStats) {
        let set = |gauge: &Gauge, value: usize| {
            gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        set(&self.online, stats.online);
        set(&self.cluster_remote, stats.remote);
        set(&self.pending, stats.pending);
        set(&self.unclaimed, stats.unclaimed_connections);
        set(&self.timers, stats.timers);
        self.malformed.advance(stats.malformed_datagrams);
        self.spoofed_logouts.advance(stats.spoofed_logouts);
        self.introductions.advance(stats.introductions);
        self.introductions_refused
            .advance(stats.introductions_refused);
        self.relayed.advance(stats.relayed);
        self.relayed_bytes.advance(stats.relayed_bytes);
        self.relay_refused.advance(stats.relay_refused);
    }

    /// Counts output queued on a connection.
    pub fn observe_sent(&self, data: &[u8]) {
        self.observe_sent_to(data, 1);
    }

    /// Counts output queued on each of `connections`.
    pub fn observe_sent_to(&self, data: &[u8], connections: usize) {
        let connections = connections as u64;
        self.bytes_sent.inc_by(data.len() as u64 * connections);
        self.lines_sent
            .inc_by(memchr::memchr_iter(b'\n', data).count() as u64 * connections);
    }

    /// Counts an accepted connection the transport could not serve.
    pub fn observe_unserved(&self) {
        self.unserved.inc();
    }

    /// Counts a connection dropped as a slow consumer.
    pub fn observe_slow_consumer(&self) {
        self.slow_consumers.inc();
    }

    /// Counts output lines dropped on their way to stdout.
    pub fn observe_dropped_events(&self, count: u64) {
        self.events_dropped.inc_by(count);
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
        {
            tracing::warn!("cannot encode the metrics: {e}");
        }
        text
    }
}

fn bump<K: PartialEq>(counters: &[(K, Counter)], key: &K) {
    if let Some((_, counter)) = counters.iter().find(|(k, _)| k == key) {
        counter.inc();
    }
}

#[cfg(test)]
mod tests;
