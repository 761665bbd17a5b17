//! The UDP side shared by both drivers: a receive task, and sends from the owner task.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use async_io::{Async, Timer};
use feige_core::wire::MAX_DATAGRAM;
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
