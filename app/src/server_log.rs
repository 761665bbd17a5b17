//! The server's events on their way to stdout, off the protocol's path.
//!
//! The owner hands each event to a [`LogSink`], which never waits: the event goes into a bounded
//! queue that a writer thread empties onto stdout, or, when the queue is full (stdout is read
//! slowly or not at all), it is dropped and counted, and an `events_dropped` line says how many
//! where the gap was, once output flows again. Refused logins are tallied per source IP and
//! reason: the first from a source is reported at once, the rest once per interval as a count, so
//! a flood of refusals becomes a few lines instead of one per datagram.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use feige_core::server::ServerEvent;
use feige_core::wire::RejectReason;

use crate::metrics::ServerMetrics;
use crate::render::{self, Format};

/// Lines waiting for stdout.
const QUEUE: usize = 4096;

/// After writing several lines at once (a burst of events: a login storm, say), the writer
/// rests this long before taking more, so the lines of a burst go out in a few writes and the
/// owner, sending into a queue nobody waits on meanwhile, wakes no thread per event. A lone
/// event is written at once.
const BURST_REST: Duration = Duration::from_millis(1);

/// Sources whose refusals are tallied one by one; refusals from further sources are tallied
/// together (`from_ip` `*`).
const MAX_SOURCES: usize = 4096;

/// What goes out on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogLine {
    /// An event as it happened.
    Event(ServerEvent),
    /// `count` logins from `from_ip` (`None`: from sources past the tally's bound) refused for
    /// `reason` over the last `interval` (zero: the first, reported at once).
    Refused {
        /// The source, if tallied on its own.
        from_ip: Option<IpAddr>,
        /// Why.
        reason: RejectReason,
        /// How many.
        count: u64,
        /// Over how long.
        interval: Duration,
    },
    /// This many lines were dropped here because stdout was not read fast enough.
    Dropped(u64),
}

/// Refusals by source and reason in the current interval.
#[derive(Debug, Default)]
struct Tally {
    /// Counts since the last summary; a source present with zero has been reported at once.
    by_source: HashMap<(IpAddr, RejectReason), u64>,
    /// Counts for sources past [`MAX_SOURCES`].
    others: HashMap<RejectReason, u64>,
}

impl Tally {
    /// Counts one refusal; true when it is the first from its source, to report at once.
    fn count(&mut self, from_ip: IpAddr, reason: RejectReason) -> bool {
        if let Some(count) = self.by_source.get_mut(&(from_ip, reason)) {
            *count += 1;
            return false;
        }
        if self.by_source.len() >= MAX_SOURCES {
            *self.others.entry(reason).or_default() += 1;
            return false;
        }
        self.by_source.insert((from_ip, reason), 0);
        true
    }

    /// The interval's summary lines. A source with no refusal since its last line is forgotten,
    /// so its next refusal is reported at once again.
    fn summarise(&mut self, interval: Duration) -> Vec<LogLine> {
        let mut lines = Vec::new();
        self.by_source.retain(|&(from_ip, reason), count| {
            if *count == 0 {
                return false;
            }
            lines.push(LogLine::Refused {
                from_ip: Some(from_ip),
                reason,
                count: std::mem::take(count),
                interval,
            });
            true
        });
        lines.extend(self.others.drain().map(|(reason, count)| LogLine::Refused {
            from_ip: None,
            reason,
            count,
            interval,
        }));
        lines
    }
}

/// The owner's end: hands events over without ever waiting.
pub struct LogSink {
    lines: SyncSender<LogLine>,
    tally: Arc<Mutex<Tally>>,
    metrics: Arc<ServerMetrics>,
    /// Lines dropped since the last one queued.
    gap: u64,
    /// Where a gap still open when the owner ends is left for the writer.
    last_gap: Arc<AtomicU64>,
}

impl LogSink {
    /// Takes one event.
    pub fn deliver(&mut self, event: ServerEvent) {
        let line = match event {
            ServerEvent::Rejected { from, reason } => {
                if !lock(&self.tally).count(from.ip(), reason) {
                    return;
                }
                LogLine::Refused {
                    from_ip: Some(from.ip()),
                    reason,
                    count: 1,
                    interval: Duration::ZERO,
                }
            }
            event => LogLine::Event(event),
        };
        self.queue(line);
    }

    fn queue(&mut self, line: LogLine) {
        if self.gap > 0 {
            match self.lines.try_send(LogLine::Dropped(self.gap)) {
                Ok(()) => self.gap = 0,
                Err(_) => return self.drop_one(),
            }
        }
        match self.lines.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.drop_one(),
            // The writer is gone (stdout closed): nothing more can be shown.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    fn drop_one(&mut self) {
        self.gap += 1;
        self.metrics.observe_dropped_events(1);
    }
}

impl Drop for LogSink {
    fn drop(&mut self) {
        self.last_gap.store(self.gap, Ordering::Relaxed);
    }
}

/// The writer thread; waiting for it flushes everything queued.
pub struct LogWriter {
    thread: JoinHandle<()>,
}

impl LogWriter {
    /// Waits until every line queued before the sink was dropped is written.
    pub fn finish(self) {
        if self.thread.join().is_err() {
            tracing::error!("the output thread panicked");
        }
    }
}

/// Starts the writer onto `out` (stdout, in the binaries) and gives the owner's sink. Refusals
/// are summarised every `interval`.
pub fn start(
    format: Format,
    interval: Duration,
    metrics: Arc<ServerMetrics>,
    out: impl Write + Send + 'static,
) -> io::Result<(LogSink, LogWriter)> {
    let (lines, queued) = mpsc::sync_channel(QUEUE);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let last_gap = Arc::new(AtomicU64::new(0));
    let writer = Writer {
        format,
        interval,
        tally: Arc::clone(&tally),
        last_gap: Arc::clone(&last_gap),
        out,
    };
    let thread = thread::Builder::new()
        .name("server-output".into())
        .spawn(move || writer.run(&queued))?;
    let sink = LogSink {
        lines,
        tally,
        metrics,
        gap: 0,
        last_gap,
    };
    Ok((sink, LogWriter { thread }))
}

struct Writer<W> {
    format: Format,
    interval: Duration,
    tally: Arc<Mutex<Tally>>,
    last_gap: Arc<AtomicU64>,
    out: W,
}

impl<W: Write> Writer<W> {
    fn run(mut self, queued: &Receiver<LogLine>) {
        let mut next_summary = Instant::now() + self.interval;
        loop {
            let wait = next_summary.saturating_duration_since(Instant::now());
            match queued.recv_timeout(wait) {
                Ok(line) => {
                    if self.write_waiting(line, queued) > 1 {
                        thread::sleep(BURST_REST);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if Instant::now() >= next_summary {
                self.summarise();
                next_summary = Instant::now() + self.interval;
            }
        }
        self.summarise();
        let gap = self.last_gap.load(Ordering::Relaxed);
        if gap > 0 {
            self.write_lines([LogLine::Dropped(gap)]);
        }
    }

    fn summarise(&mut self) {
        let lines = lock(&self.tally).summarise(self.interval);
        self.write_lines(lines);
    }

    /// `first` and every line already waiting behind it, in one write; how many.
    fn write_waiting(&mut self, first: LogLine, queued: &Receiver<LogLine>) -> usize {
        let waiting = std::iter::from_fn(|| queued.try_recv().ok()).take(QUEUE);
        self.write_lines(std::iter::once(first).chain(waiting))
    }

    /// `lines` in one write; how many. A stdout that fails is not worth dying for (the protocol
    /// goes on regardless).
    fn write_lines(&mut self, lines: impl IntoIterator<Item = LogLine>) -> usize {
        let mut text = String::new();
        let mut count = 0;
        for line in lines {
            text.push_str(&render::log_line(&line, self.format));
            text.push('\n');
            count += 1;
        }
        if count == 0 {
            return 0;
        }
        let _ = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush());
        count
    }
}

fn lock(tally: &Mutex<Tally>) -> MutexGuard<'_, Tally> {
    // A panic elsewhere cannot leave the counts half-updated in a way that matters here.
    tally.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
