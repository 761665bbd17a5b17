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

/// `to` written in the socket's address family: an IPv6 socket reaches IPv4 peers through
/// IPv4-mapped addresses, an IPv4 socket needs the plain IPv4 form of a mapped one.
pub fn in_family(to: SocketAddr, socket_is_v6: bool) -> SocketAddr {
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
