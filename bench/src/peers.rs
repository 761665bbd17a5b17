//! The same fan-out through Redis pub/sub (the peer) and through a minimal raw-TCP fan-out
//! server (the floor): N receivers, one event at a time timed to the last receiver, then a
//! burst of K events timed to the last line at the last receiver.

use std::io::{self, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{Async, LocalExecutor};

use crate::net::{connect_from, newlines, source_ip};
use crate::spawn::ServerProcess;
use crate::stats::percentile;
use crate::sys;
use crate::tally::{spawn_readers, Tally};

/// A 40-byte presence-sized payload (no space, no line end: it is one RESP inline argument).
const PAYLOAD: &[u8; 40] = b"login,someone-long-enough,127.0.0.1:4242";
/// The floor's line: 39 bytes and `\n`.
const FLOOR_LINE: &[u8; 40] = b"login,someone-long-enoug,127.0.0.1:4242\n";
/// Lines (`\n`) per pub/sub message frame: `*3`, `$7`, `message`, `$5`, `feige`, `$40`, payload.
const RESP_NEWLINES_PER_MESSAGE: u64 = 7;
/// Lines of the `subscribe` confirmation: `*3`, `$9`, `subscribe`, `$5`, `feige`, `:1`.
const RESP_NEWLINES_PER_CONFIRMATION: u64 = 6;

/// What to run.
#[derive(Debug, Clone)]
pub struct PeerParams {
    /// Receivers.
    pub n: usize,
    /// Single events timed one at a time.
    pub events: usize,
    /// Events in the burst.
    pub burst: usize,
    /// CPU the server (Redis, or the floor's thread) is pinned to.
    pub server_cpu: usize,
}

/// One run at one N.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerRun {
    /// Receivers.
    pub n: usize,
    /// Each event's latency to the last receiver, ms.
    pub event_ms: Vec<f64>,
    /// p50 of `event_ms`.
    pub event_p50_ms: f64,
    /// p99 of `event_ms`.
    pub event_p99_ms: f64,
    /// Events in the burst.
    pub burst_events: usize,
    /// From the burst's start until the last receiver had every line.
    pub burst_seconds: f64,
    /// `n * burst_events / burst_seconds`.
    pub burst_lines_per_sec: f64,
    /// CPU the load generator spent during the events and the burst.
    pub loadgen_cpu_seconds: f64,
    /// Wall time of the events and the burst.
    pub wall_seconds: f64,
}

/// How an event is triggered and how many lines each receiver gets per event.
trait Trigger {
    const LINES_PER_EVENT: u64;
    async fn fire(&mut self, events: usize) -> io::Result<()>;
}

/// Runs the suite against a fresh `redis-server`.
pub fn redis(bin: &str, params: &PeerParams) -> io::Result<PeerRun> {
    let server = ServerProcess::redis(bin, params.server_cpu)?;
    let ex = LocalExecutor::new();
    smol::block_on(ex.run(async {
        let mut streams = Vec::with_capacity(params.n);
        for i in 0..params.n {
            let mut stream = connect_from(source_ip(i), server.tcp).await?;
            stream.write_all(b"SUBSCRIBE feige\r\n").await?;
            read_lines(&mut stream, RESP_NEWLINES_PER_CONFIRMATION).await?;
            streams.push(stream);
        }
        let publisher = connect_from(Ipv4Addr::LOCALHOST, server.tcp).await?;
        let mut replies = publisher.get_ref().try_clone()?;
        // Drain the publisher's integer replies so Redis never blocks on them.
        thread::spawn(move || io::copy(&mut replies, &mut io::sink()));
        let trigger = RedisPublisher { publisher };
        measure(&ex, streams, trigger, params).await
    }))
}

/// Runs the suite against the in-process floor server, on its own thread pinned to the server CPU.
pub fn floor(params: &PeerParams) -> io::Result<PeerRun> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (fire, fired) = mpsc::channel::<usize>();
    let n = params.n;
    let cpu = params.server_cpu;
    let server = thread::spawn(move || floor_server(listener, n, cpu, fired));
    let ex = LocalExecutor::new();
    let result = smol::block_on(ex.run(async {
        let mut streams = Vec::with_capacity(params.n);
        for i in 0..params.n {
            streams.push(connect_from(source_ip(i), addr).await?);
        }
        let trigger = FloorTrigger { fire };
        measure(&ex, streams, trigger, params).await
    }));
    // The trigger (the channel's sender) is gone: the floor thread ends.
    let _ = server.join();
    result
}

async fn measure<T: Trigger>(
    ex: &LocalExecutor<'static>,
    streams: Vec<Async<TcpStream>>,
    mut trigger: T,
    params: &PeerParams,
) -> io::Result<PeerRun> {
    let tally = Tally::new(streams.len());
    let readers = spawn_readers(ex, streams, &tally);
    // One untimed event first: every connection accepted and warm.
    event(&tally, &mut trigger, 1).await?;
    let own_cpu = sys::cpu_seconds(None)?;
    let started = Instant::now();
    let mut event_ms = Vec::with_capacity(params.events);
    for _ in 0..params.events {
        event_ms.push(event(&tally, &mut trigger, 1).await? * 1e3);
    }
    let burst_seconds = event(&tally, &mut trigger, params.burst).await?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let loadgen_cpu_seconds = sys::cpu_seconds(None)? - own_cpu;
    drop(readers);
    Ok(PeerRun {
        n: params.n,
        event_p50_ms: percentile(&event_ms, 50.0),
        event_p99_ms: percentile(&event_ms, 99.0),
        event_ms,
        burst_events: params.burst,
        burst_seconds,
        burst_lines_per_sec: (params.n * params.burst) as f64 / burst_seconds.max(1e-9),
        loadgen_cpu_seconds,
        wall_seconds,
    })
}

/// Fires `events` events; seconds until the last receiver has all of them.
async fn event<T: Trigger>(tally: &Rc<Tally>, trigger: &mut T, events: usize) -> io::Result<f64> {
    tally.arm(T::LINES_PER_EVENT * events as u64);
    let start = Instant::now();
    trigger.fire(events).await?;
    let last = tally.finished().await?;
    Ok(last.duration_since(start).as_secs_f64())
}

async fn read_lines(stream: &mut Async<TcpStream>, lines: u64) -> io::Result<()> {
    let mut seen = 0;
    let mut buf = [0u8; 256];
    while seen < lines {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::other("closed before the confirmation"));
        }
        seen += newlines(buf.get(..n).unwrap_or_default());
    }
    Ok(())
}

struct RedisPublisher {
    publisher: Async<TcpStream>,
}

impl Trigger for RedisPublisher {
    const LINES_PER_EVENT: u64 = RESP_NEWLINES_PER_MESSAGE;

    async fn fire(&mut self, events: usize) -> io::Result<()> {
        let mut command = b"PUBLISH feige ".to_vec();
        command.extend_from_slice(PAYLOAD);
        command.extend_from_slice(b"\r\n");
        // A burst is pipelined: every command in one write, as a busy publisher would.
        let batch = command.repeat(events);
        self.publisher.write_all(&batch).await
    }
}

struct FloorTrigger {
    fire: mpsc::Sender<usize>,
}

impl Trigger for FloorTrigger {
    const LINES_PER_EVENT: u64 = 1;

    async fn fire(&mut self, events: usize) -> io::Result<()> {
        self.fire
            .send(events)
            .map_err(|_| io::Error::other("floor server stopped"))
    }
}

/// The floor: accepts `n` connections, then for each trigger writes the line as many times as
/// asked to every connection, in one write per connection.
fn floor_server(listener: TcpListener, n: usize, cpu: usize, fired: mpsc::Receiver<usize>) {
    let _ = sys::pin_current_thread(cpu);
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                conns.push(stream);
            }
            Err(_) => return,
        }
    }
    while let Ok(events) = fired.recv() {
        let batch = FLOOR_LINE.repeat(events);
        for conn in &mut conns {
            if conn.write_all(&batch).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_and_line_are_forty_bytes_and_frames_have_seven_lines() {
        assert_eq!(PAYLOAD.len(), 40);
        assert_eq!(FLOOR_LINE.len(), 40);
        let frame = [
            b"*3\r\n$7\r\nmessage\r\n$5\r\nfeige\r\n$40\r\n".as_slice(),
            PAYLOAD,
            b"\r\n",
        ]
        .concat();
        assert_eq!(newlines(&frame), RESP_NEWLINES_PER_MESSAGE);
        assert!(!PAYLOAD.contains(&b'\n') && !PAYLOAD.contains(&b' '));
    }
}
