//! `GET /metrics` on a thread of its own: one request per connection, answered from the
//! counters the owner keeps, so a scrape never waits on the owner nor the owner on a scrape.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use feige_app::metrics::http::{answer, head_complete, MAX_HEAD};
use feige_app::metrics::ServerMetrics;

/// A scraper has this long to send its request and take the answer.
const PATIENCE: Duration = Duration::from_secs(2);

/// Serves until `stop` is set (and the listener woken with a connection).
pub fn spawn(
    listener: TcpListener,
    metrics: Arc<ServerMetrics>,
    stop: Arc<AtomicBool>,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                match stream {
                    Ok(stream) => serve(stream, &metrics),
                    Err(e) => {
                        tracing::debug!("metrics accept: {e}");
                        thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        })
}

fn serve(mut stream: TcpStream, metrics: &ServerMetrics) {
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let _ = stream.set_write_timeout(Some(PATIENCE));
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head_complete(&head) {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => {
                let room = MAX_HEAD - head.len();
                head.extend_from_slice(chunk.get(..read.min(room)).unwrap_or_default());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
    let _ = stream.write_all(&answer(&head, metrics));
}
