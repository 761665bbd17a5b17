//! The endpoint a client declares in its login.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use crate::app::cli::unspecified_for;

/// The UDP socket's address, with an unspecified IP replaced by the one the system routes to the
/// server from: a probe socket is connected for that (the main socket stays unconnected, since it
/// talks to every peer).
pub fn local_endpoint(socket: &UdpSocket, server: SocketAddr) -> io::Result<SocketAddr> {
    let local = socket.local_addr()?;
    if !local.ip().is_unspecified() {
        return Ok(local);
    }
    let probe = UdpSocket::bind(unspecified_for(server))?;
    probe.connect(server)?;
    Ok(SocketAddr::new(probe.local_addr()?.ip(), local.port()))
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
}
