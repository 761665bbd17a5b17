//! The accept thread: numbers each connection (never reusing a number) and hands it over.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use feige_core::server::ConnId;

/// Accepts until `stop` is set (and [`wake`] called) or `hand_over` returns false; the listener
/// is closed when the thread ends.
pub fn spawn(
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    mut hand_over: impl FnMut(ConnId, SocketAddr, TcpStream) -> bool + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("tcp-accept".into())
        .spawn(move || {
            let mut next_id = 0u64;
            loop {
                let accepted = listener.accept();
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        next_id += 1;
                        if !hand_over(ConnId(next_id), peer, stream) {
                            return;
                        }
                    }
                    Err(e) => {
                        // Out of file descriptors, say: wait a little rather than spin.
                        tracing::warn!("accept: {e}");
                        thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        })
}

/// Unblocks the accept thread so it sees its stop flag: connects to the listener once.
pub fn wake(listening: SocketAddr) {
    let ip = match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let _ = TcpStream::connect_timeout(
        &SocketAddr::new(ip, listening.port()),
        Duration::from_secs(1),
    );
}
