//! The UDP side shared by both drivers: a receive task, and sends from the owner task.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use async_io::{Async, Timer};
use feige_core::wire::MAX_DATAGRAM;
use feige_platform::address::in_family;
use smol::channel::Sender;

/// One byte more than any valid datagram: a longer one arrives truncated (and is refused as
/// malformed), so a flood of 64 KiB datagrams costs no more memory than valid ones.
const READ_SIZE: usize = MAX_DATAGRAM + 1;

/// Receives datagrams and hands each to the owner (as `wrap(from, data)`) until the owner is gone.
pub async fn receive<I>(
    socket: Arc<Async<UdpSocket>>,
    inputs: Sender<I>,
    wrap: impl Fn(SocketAddr, Vec<u8>) -> I,
) {
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((len, from)) => {
                let data = buf.get(..len).unwrap_or_default().to_vec();
                if inputs.send(wrap(from, data)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                // An ICMP error reported on the socket, say: the socket itself is fine.
                tracing::debug!("udp receive: {e}");
                Timer::after(Duration::from_millis(10)).await;
            }
        }
    }
}

/// The owner's side of the UDP socket. Its address family is read once: every datagram sent is
/// written in it, and asking the kernel per datagram would double the system calls of each.
pub struct Outgoing {
    socket: Arc<Async<UdpSocket>>,
    is_v6: bool,
}

impl Outgoing {
    pub fn new(socket: Arc<Async<UdpSocket>>) -> io::Result<Outgoing> {
        let is_v6 = socket.get_ref().local_addr()?.is_ipv6();
        Ok(Outgoing { socket, is_v6 })
    }

    /// Sends one datagram without waiting: UDP may lose it anyway (and the protocol retries),
    /// and the owner task must not stall behind a full socket buffer. A failure concerns that
    /// destination only, so it is logged, not fatal.
    pub fn send(&self, to: SocketAddr, data: &[u8]) {
        let to = in_family(to, self.is_v6);
        match self.socket.get_ref().send_to(data, to) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                tracing::debug!("udp send to {to}: socket buffer full, datagram dropped");
            }
            Err(e) => tracing::debug!("udp send to {to}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime;

    #[test]
    fn an_oversized_datagram_reaches_the_owner_truncated() {
        let socket = Arc::new(Async::<UdpSocket>::bind(([127, 0, 0, 1], 0)).unwrap());
        let at = socket.get_ref().local_addr().unwrap();
        let (tx, rx) = smol::channel::bounded(4);
        let receiving = runtime::spawn(receive(socket, tx, |_, data: Vec<u8>| data.len()));
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.send_to(&vec![b'x'; 60_000], at).unwrap();
        sender.send_to(b"login,alice,127.0.0.1:5", at).unwrap();
        let lengths = runtime::block_on(async { [rx.recv().await, rx.recv().await] });
        assert_eq!(lengths, [Ok(MAX_DATAGRAM + 1), Ok(23)]);
        drop(receiving);
    }
}
