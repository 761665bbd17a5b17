//! The UDP side shared by both drivers: a reader thread, and sends in the socket's family.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use feige_core::wire::MAX_DATAGRAM;

/// One byte more than any valid datagram: a longer one arrives truncated (and is refused as
/// malformed), so a flood of 64 KiB datagrams costs no more memory than valid ones.
const READ_SIZE: usize = MAX_DATAGRAM + 1;

/// How often a blocked reader looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(200);

/// Reads datagrams and hands each to `deliver` until `stop` is set or `deliver` returns false
/// (its owner is gone).
pub fn spawn_reader(
    socket: UdpSocket,
    stop: Arc<AtomicBool>,
    mut deliver: impl FnMut(SocketAddr, Vec<u8>) -> bool + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    socket.set_read_timeout(Some(STOP_POLL))?;
    thread::Builder::new()
        .name("udp-reader".into())
        .spawn(move || {
            let mut buf = vec![0u8; READ_SIZE];
            while !stop.load(Ordering::Relaxed) {
                match socket.recv_from(&mut buf) {
                    Ok((len, from)) => {
                        if !deliver(from, buf.get(..len).unwrap_or_default().to_vec()) {
                            return;
                        }
                    }
                    Err(e) if is_transient(&e) => {}
                    Err(e) => {
                        // An ICMP error reported on the socket, say: the socket itself is fine.
                        tracing::debug!("udp receive: {e}");
                        thread::sleep(Duration::from_millis(10));
                    }
                }
            }
        })
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn an_oversized_datagram_reaches_the_owner_truncated() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let at = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (lengths, delivered) = mpsc::channel();
        spawn_reader(socket, Arc::clone(&stop), move |_, data| {
            lengths.send(data.len()).is_ok()
        })
        .unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.send_to(&vec![b'x'; 60_000], at).unwrap();
        sender.send_to(b"login,alice,127.0.0.1:5", at).unwrap();
        let timeout = Duration::from_secs(10);
        assert_eq!(delivered.recv_timeout(timeout), Ok(MAX_DATAGRAM + 1));
        assert_eq!(delivered.recv_timeout(timeout), Ok(23));
        stop.store(true, Ordering::Relaxed);
    }
}
