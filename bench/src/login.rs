//! A raw feige login over real sockets: the UDP `login` datagram (retried with the documented
//! back-off), `Accept`, then the TCP claim from the same source IP. What follows on the TCP
//! session is left to the caller, who counts or checks the lines.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use feige_core::wire::ServerDatagram;
use smol::future;
use smol::io::AsyncWriteExt;
use smol::{Async, Timer};

use crate::net::connect_from;

/// First retry delay and number of tries, as the real client does it.
pub const FIRST_RETRY: Duration = Duration::from_millis(500);
pub const TRIES: u32 = 6;

/// A client's UDP socket, bound before the login so its endpoint is known in advance.
pub struct Pending {
    udp: Async<UdpSocket>,
    /// The endpoint the server will observe and list.
    pub endpoint: SocketAddr,
}

impl Pending {
    /// Binds the UDP socket on `ip`.
    pub fn bind(ip: std::net::Ipv4Addr) -> io::Result<Pending> {
        let udp = Async::<UdpSocket>::bind(SocketAddr::new(IpAddr::V4(ip), 0))?;
        let endpoint = udp.get_ref().local_addr()?;
        Ok(Pending { udp, endpoint })
    }

    /// Logs `name` in at `server_udp`: returns the TCP session with the claim sent. The UDP
    /// socket is closed afterwards; the server keeps listing its endpoint.
    pub async fn login(self, server_udp: SocketAddr, name: &str) -> io::Result<Async<TcpStream>> {
        let datagram = format!("login,{name},{}", self.endpoint);
        let mut wait = FIRST_RETRY;
        let mut buf = [0u8; 256];
        let mut tcp_port = None;
        for _ in 0..TRIES {
            self.udp.send_to(datagram.as_bytes(), server_udp).await?;
            let answer = future::or(async { Some(self.udp.recv_from(&mut buf).await) }, async {
                Timer::after(wait).await;
                None
            })
            .await;
            wait *= 2;
            let Some(received) = answer else { continue };
            let (len, _) = received?;
            tcp_port = Some(accept_port(name, buf.get(..len).unwrap_or_default())?);
            break;
        }
        let port =
            tcp_port.ok_or_else(|| io::Error::other(format!("{name}: no answer to login")))?;
        let ip = match self.endpoint.ip() {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(_) => return Err(io::Error::other("IPv4 loopback only")),
        };
        let mut stream = connect_from(ip, SocketAddr::new(server_udp.ip(), port)).await?;
        stream
            .write_all(format!("login,{name},{}\n", self.endpoint).as_bytes())
            .await?;
        Ok(stream)
    }
}

/// The TCP port an `Accept` answer to `name`'s login gives; a `Reject` or anything else is an
/// error.
pub fn accept_port(name: &str, answer: &[u8]) -> io::Result<u16> {
    match ServerDatagram::parse(answer) {
        Ok(ServerDatagram::Accept { tcp_port }) => Ok(tcp_port),
        Ok(ServerDatagram::Reject(reason)) => {
            Err(io::Error::other(format!("{name}: rejected: {reason:?}")))
        }
        _ => Err(io::Error::other(format!("{name}: unexpected datagram"))),
    }
}
