//! `GET /metrics` as tasks: an accept loop and a short task per request, answered from the
//! counters the owner keeps, so a scrape never waits on the owner nor the owner on a scrape.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use async_io::{Async, Timer};
use feige_app::metrics::http::{answer, head_complete, MAX_HEAD};
use feige_app::metrics::ServerMetrics;
use smol::future;
use smol::io::{AsyncReadExt, AsyncWriteExt};

use crate::runtime;

/// A scraper has this long to send its request and take the answer.
const PATIENCE: Duration = Duration::from_secs(2);

/// Serves until dropped.
pub async fn serve(listener: Async<TcpListener>, metrics: Arc<ServerMetrics>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let metrics = Arc::clone(&metrics);
                runtime::spawn(async move {
                    let answered = answer_one(stream, &metrics);
                    let timeout = async {
                        Timer::after(PATIENCE).await;
                        Err(io::ErrorKind::TimedOut.into())
                    };
                    if let Err(e) = future::or(answered, timeout).await {
                        tracing::debug!("metrics request: {e}");
                    }
                })
                .detach();
            }
            Err(e) => {
                tracing::debug!("metrics accept: {e}");
                Timer::after(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn answer_one(mut stream: Async<TcpStream>, metrics: &ServerMetrics) -> io::Result<()> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head_complete(&head) {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        let room = MAX_HEAD - head.len();
        head.extend_from_slice(chunk.get(..read.min(room)).unwrap_or_default());
    }
    stream.write_all(&answer(&head, metrics)).await?;
    stream.flush().await
}
