use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use feige_core::server::ServerEvent;
use feige_core::wire::{Name, RejectReason};
use serde_json::Value;

use super::{start, Format};
use crate::metrics::ServerMetrics;

/// Collects what the writer writes, and counts its writes.
#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<u8>>>, Arc<AtomicUsize>);

impl Write for Collected {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        self.1.fetch_add(1, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Collected {
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// A stdout nobody reads until `release` is sent; `entered` hears when the first write waits.
struct Stalled {
    release: mpsc::Receiver<()>,
    released: bool,
    entered: Option<mpsc::Sender<()>>,
    inner: Collected,
}

impl Write for Stalled {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.released {
            if let Some(entered) = self.entered.take() {
                let _ = entered.send(());
            }
            let _ = self.release.recv();
            self.released = true;
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn rejected(from: &str) -> ServerEvent {
    ServerEvent::Rejected {
        from: from.parse::<SocketAddr>().unwrap(),
        reason: RejectReason::NameTaken,
    }
}

fn joined(i: usize) -> ServerEvent {
    ServerEvent::Joined {
        name: Name::new(&format!("u{i}")).unwrap(),
        endpoint: "127.0.0.1:1".parse().unwrap(),
    }
}

fn count_of(lines: &[Value], event: &str) -> u64 {
    lines
        .iter()
        .filter(|l| l["event"] == event)
        .map(|l| l["count"].as_u64().unwrap_or(1))
        .sum()
}

#[test]
fn a_flood_of_refusals_becomes_a_few_lines_whose_counts_add_up() {
    let out = Collected::default();
    let metrics = Arc::new(ServerMetrics::default());
    let (mut sink, writer) = start(
        Format::Json,
        Duration::from_millis(50),
        metrics,
        out.clone(),
    )
    .unwrap();
    let started = Instant::now();
    for i in 0..200_000u32 {
        // One source, many ports: the tally is by IP.
        sink.deliver(rejected(&format!("198.51.100.7:{}", 1024 + i % 60_000)));
    }
    sink.deliver(rejected("203.0.113.9:5"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the sink never waits"
    );
    drop(sink);
    writer.finish();
    let lines = out.lines();
    assert!(lines.len() < 200, "{} lines", lines.len());
    let from = |ip: &str| -> Vec<&Value> { lines.iter().filter(|l| l["from_ip"] == ip).collect() };
    let flood = from("198.51.100.7");
    assert_eq!(flood[0]["count"], 1, "the first refusal at once");
    assert_eq!(flood[0]["interval_s"], 0);
    let total: u64 = flood.iter().map(|l| l["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 200_000);
    assert_eq!(from("203.0.113.9").len(), 1);
    assert_eq!(count_of(&lines, "events_dropped"), 0);
}

#[test]
fn a_stalled_stdout_drops_and_counts_and_says_so_once_it_flows() {
    let (release, released) = mpsc::channel();
    let inner = Collected::default();
    let stalled = Stalled {
        release: released,
        released: false,
        entered: None,
        inner: inner.clone(),
    };
    let metrics = Arc::new(ServerMetrics::default());
    let (mut sink, writer) = start(
        Format::Json,
        Duration::from_secs(60),
        Arc::clone(&metrics),
        stalled,
    )
    .unwrap();
    let started = Instant::now();
    const SENT: usize = 20_000;
    for i in 0..SENT {
        sink.deliver(joined(i));
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the sink never waits"
    );
    release.send(()).unwrap();
    drop(sink);
    writer.finish();
    let lines = inner.lines();
    let shown = lines.iter().filter(|l| l["event"] == "joined").count() as u64;
    let dropped = count_of(&lines, "events_dropped");
    assert!(dropped > 0, "a stalled stdout must lose lines");
    assert_eq!(shown + dropped, SENT as u64, "every event shown or counted");
    assert!(metrics
        .encode()
        .contains(&format!("feige_events_dropped_total {dropped}")));
}

/// The lines of a burst go out together: a hundred joins queued while stdout is busy with the
/// first are written, in order, in one more write.
#[test]
fn a_burst_is_written_in_one_go_and_in_order() {
    let (release, released) = mpsc::channel();
    let inner = Collected::default();
    let (entered, writing) = mpsc::channel();
    let stalled = Stalled {
        release: released,
        released: false,
        entered: Some(entered),
        inner: inner.clone(),
    };
    let metrics = Arc::new(ServerMetrics::default());
    let (mut sink, writer) =
        start(Format::Json, Duration::from_secs(60), metrics, stalled).unwrap();
    sink.deliver(joined(0));
    writing
        .recv_timeout(Duration::from_secs(10))
        .expect("the writer takes the first line");
    for i in 1..=100 {
        sink.deliver(joined(i));
    }
    release.send(()).unwrap();
    drop(sink);
    writer.finish();
    let names: Vec<String> = inner
        .lines()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (0..=100).map(|i| format!("u{i}")).collect();
    assert_eq!(names, expected);
    assert_eq!(
        inner.1.load(Ordering::Relaxed),
        2,
        "the first line, then the rest"
    );
}
