use std::net::SocketAddr;

use feige_core::server::{LeaveReason, ServerEvent, ServerStats};
use feige_core::wire::{Name, RejectReason};
use proptest::prelude::*;

use super::http::{answer, head_complete, MAX_HEAD};
use super::ServerMetrics;

fn from() -> SocketAddr {
    "192.0.2.1:5000".parse().unwrap()
}

/// The value of the sample `name` (labels included) in `text`.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn events_stats_and_output_become_samples() {
    let metrics = ServerMetrics::default();
    let alice = Name::new("alice").unwrap();
    metrics.observe_event(&ServerEvent::Accepted {
        name: alice.clone(),
        from: from(),
    });
    for _ in 0..3 {
        metrics.observe_event(&ServerEvent::Rejected {
            from: from(),
            reason: RejectReason::NameTaken,
        });
    }
    metrics.observe_event(&ServerEvent::Left {
        name: alice,
        endpoint: from(),
        reason: LeaveReason::SlowConsumer,
    });
    let stats = ServerStats {
        online: 7,
        pending: 2,
        timers: 9,
        malformed_datagrams: 5,
        ..ServerStats::default()
    };
    metrics.observe_stats(&stats);
    metrics.observe_stats(&ServerStats {
        malformed_datagrams: 8,
        ..stats
    });
    metrics.observe_sent(b"login,bob,1.2.3.4:5\nlogout,bob,1.2.3.4:5\n");
    metrics.observe_dropped_events(4);
    let text = metrics.encode();
    assert_eq!(
        sample(&text, "feige_logins_accepted_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "feige_logins_rejected_total{reason=\"name-taken\"}"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "feige_logins_rejected_total{reason=\"bad-name\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "feige_sessions_ended_total{cause=\"slow-consumer\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "feige_sessions_online"), Some(7.0), "{text}");
    assert_eq!(sample(&text, "feige_logins_pending"), Some(2.0), "{text}");
    assert_eq!(sample(&text, "feige_timers"), Some(9.0), "{text}");
    assert_eq!(
        sample(&text, "feige_datagrams_malformed_total"),
        Some(8.0),
        "{text}"
    );
    assert_eq!(sample(&text, "feige_lines_sent_total"), Some(2.0), "{text}");
    assert_eq!(
        sample(&text, "feige_bytes_sent_total"),
        Some(41.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "feige_events_dropped_total"),
        Some(4.0),
        "{text}"
    );
}

fn status_of(response: &[u8]) -> &str {
    std::str::from_utf8(response)
        .ok()
        .and_then(|r| r.split(' ').nth(1))
        .unwrap_or("")
}

#[test]
fn only_get_or_head_of_metrics_is_answered_with_the_exposition() {
    let metrics = ServerMetrics::default();
    let get = answer(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &metrics);
    assert_eq!(status_of(&get), "200");
    let text = String::from_utf8(get).unwrap();
    assert!(text.contains("text/plain; version=0.0.4"), "{text}");
    assert!(
        text.contains("# TYPE feige_sessions_online gauge"),
        "{text}"
    );
    let head = answer(b"HEAD /metrics?x=1 HTTP/1.0\n\n", &metrics);
    assert_eq!(status_of(&head), "200");
    assert!(head.ends_with(b"\r\n\r\n"), "no body for HEAD");
    assert_eq!(
        status_of(&answer(b"GET / HTTP/1.1\r\n\r\n", &metrics)),
        "404"
    );
    assert_eq!(
        status_of(&answer(b"POST /metrics HTTP/1.1\r\n\r\n", &metrics)),
        "405"
    );
    assert_eq!(
        status_of(&answer(b"\x16\x03\x01 hello\r\n\r\n", &metrics)),
        "400"
    );
    assert_eq!(status_of(&answer(&[b'A'; MAX_HEAD], &metrics)), "431");
}

proptest! {
    /// Whatever arrives, one well-formed status line comes back and nothing panics.
    #[test]
    fn any_head_gets_one_status_line(head in proptest::collection::vec(any::<u8>(), 0..(MAX_HEAD + 64))) {
        let metrics = ServerMetrics::default();
        let response = answer(&head, &metrics);
        prop_assert!(response.starts_with(b"HTTP/1.1 "));
        prop_assert!(["200", "400", "404", "405", "431"].contains(&status_of(&response)));
        let _ = head_complete(&head);
    }
}
