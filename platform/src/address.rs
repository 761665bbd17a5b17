//! Socket addressing shared by the transports.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

/// The socket's address, with an unspecified IP replaced by the one the system routes to
/// `server` from: a probe socket is connected for that (the socket itself stays unconnected, since
/// it talks to every peer). This is the endpoint a client declares in its login.
pub fn local_endpoint(socket: &UdpSocket, server: SocketAddr) -> io::Result<SocketAddr> {
    let local = socket.local_addr()?;
    if !local.ip().is_unspecified() {
        return Ok(local);
    }
    let probe = if server.is_ipv4() {
        UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?
    } else {
        UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0))?
    };
    probe.connect(server)?;
    Ok(SocketAddr::new(probe.local_addr()?.ip(), local.port()))
}

/// The sending side of a UDP socket, for a transport's owner. The socket's address family is read
/// once: every datagram sent is written in it, and asking the kernel per datagram would double
/// the system calls of each.
pub struct Outgoing {
    socket: UdpSocket,
    is_v6: bool,
}

impl Outgoing {
    /// `socket` as it is (a non-blocking one is sent on without waiting).
    pub fn new(socket: UdpSocket) -> io::Result<Outgoing> {
        let is_v6 = socket.local_addr()?.is_ipv6();
        Ok(Outgoing { socket, is_v6 })
    }

    /// Sends one datagram. UDP may lose it anyway (and the protocol retries), so a full socket
    /// buffer drops it rather than stall the owner; a failure concerns that destination only,
    /// so it is logged, not fatal.
    pub fn send(&self, to: SocketAddr, data: &[u8]) {
        let to = in_family(to, self.is_v6);
        match self.socket.send_to(data, to) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                tracing::debug!("udp send to {to}: socket buffer full, datagram dropped");
            }
            Err(e) => tracing::debug!("udp send to {to}: {e}"),
        }
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
    fn unspecified_binds_declare_the_routed_ip() {
        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
        let server = "127.0.0.1:9000".parse().unwrap();
        let local = local_endpoint(&socket, server).unwrap();
        assert_eq!(local.ip().to_string(), "127.0.0.1");
        assert_eq!(local.port(), socket.local_addr().unwrap().port());
    }

    /// An IPv6 socket reaches an IPv4 peer (as IPv4-mapped), and an IPv4 socket a peer listed
    /// IPv4-mapped.
    #[test]
    fn outgoing_writes_each_destination_in_the_socket_s_family() {
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let at = peer.local_addr().unwrap();
        let mapped = SocketAddr::new(
            std::net::IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()),
            at.port(),
        );
        let v4 = Outgoing::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
        v4.send(mapped, b"from v4");
        let mut buf = [0u8; 16];
        let (len, _) = peer.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"from v4");
        if let Ok(dual) = UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0)) {
            let v6 = Outgoing::new(dual).unwrap();
            v6.send(at, b"from v6");
            let (len, _) = peer.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..len], b"from v6");
        }
    }

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
