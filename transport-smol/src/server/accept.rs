//! The accept loop: numbers each connection (never reusing a number) and hands it to the owner.

use std::net::TcpListener;
use std::time::Duration;

use async_io::{Async, Timer};
use feige_core::server::ConnId;
use smol::channel::Sender;

use super::Input;

/// After a failed accept (out of file descriptors, say), wait this long rather than spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Accepts until the owner is gone.
pub(super) async fn run(listener: Async<TcpListener>, inputs: Sender<Input>) {
    let mut next_id = 0u64;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.get_ref().set_nodelay(true);
                next_id += 1;
                let opened = Input::Opened {
                    conn: ConnId(next_id),
                    peer,
                    stream,
                };
                if inputs.send(opened).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!("accept: {e}");
                Timer::after(ACCEPT_BACKOFF).await;
            }
        }
    }
}
