//! The UDP side shared by both drivers: a receive task, and sends from the owner task.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use async_io::{Async, Timer};
use smol::channel::Sender;

/// Big enough for any UDP datagram, so nothing arrives truncated.
const MAX_DATAGRAM: usize = 65_536;

/// Receives datagrams and hands each to the owner (as `wrap(from, data)`) until the owner is gone.
pub async fn receive<I>(
    socket: Arc<Async<UdpSocket>>,
    inputs: Sender<I>,
    wrap: impl Fn(SocketAddr, Vec<u8>) -> I,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
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

/// Sends one datagram without waiting: UDP may lose it anyway (and the protocol retries), and
/// the owner task must not stall behind a full socket buffer. A failure concerns that
/// destination only, so it is logged, not fatal.
pub fn send(socket: &Async<UdpSocket>, to: SocketAddr, data: &[u8]) {
    let socket = socket.get_ref();
    let local_is_v6 = socket.local_addr().is_ok_and(|a| a.is_ipv6());
    let to = in_family(to, local_is_v6);
    match socket.send_to(data, to) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            tracing::debug!("udp send to {to}: socket buffer full, datagram dropped");
        }
        Err(e) => tracing::debug!("udp send to {to}: {e}"),
    }
}

/// `to` written in the socket's address family: an IPv6 socket reaches IPv4 peers through
/// IPv4-mapped addresses, an IPv4 socket needs the plain IPv4 form of a mapped one.
fn in_family(to: SocketAddr, socket_is_v6: bool) -> SocketAddr {
    match (to, socket_is_v6) {
        (SocketAddr::V4(v4), true) => SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port()),
        (SocketAddr::V6(v6), false) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => to,
        },
        _ => to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_matching() {
        let v4: SocketAddr = "127.0.0.1:5".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5".parse().unwrap();
        let v6: SocketAddr = "[::1]:5".parse().unwrap();
        assert_eq!(in_family(v4, true), mapped);
        assert_eq!(in_family(mapped, false), v4);
        assert_eq!(in_family(v4, false), v4);
        assert_eq!(in_family(v6, true), v6);
        assert_eq!(in_family(v6, false), v6);
    }
}
