//! Sockets for many clients on one event loop, spread over source addresses 127.0.0.x so no
//! per-IP limit (the server's pending logins, the kernel's ephemeral ports) is ever reached.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};

use rustix::io::Errno;
use smol::Async;
use socket2::{Domain, Protocol, Socket, Type};

/// How many loopback source addresses the clients are spread over.
pub const SOURCE_IPS: u32 = 64;

/// The loopback source address of client `i`.
pub fn source_ip(i: usize) -> Ipv4Addr {
    let octet = 1 + (i as u32 % SOURCE_IPS) as u8;
    Ipv4Addr::new(127, 0, 0, octet)
}

/// A socket made non-blocking by `socket` itself and bound to `ip`: a storm makes two per client,
/// and every system call the generator spends on its own clients is one the server waits for.
fn bound(ty: Type, protocol: Protocol, ip: Ipv4Addr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, ty.nonblocking(), Some(protocol))?;
    socket.bind(&SocketAddr::new(IpAddr::V4(ip), 0).into())?;
    Ok(socket)
}

/// A non-blocking UDP socket on `ip`, any port.
pub fn bind_udp(ip: Ipv4Addr) -> io::Result<UdpSocket> {
    Ok(bound(Type::DGRAM, Protocol::UDP, ip)?.into())
}

/// Starts a non-blocking TCP connection from `ip` to `to`: it is established once the socket is
/// writable (then `take_error` says whether it failed).
pub fn start_connect(ip: Ipv4Addr, to: SocketAddr) -> io::Result<TcpStream> {
    let socket = bound(Type::STREAM, Protocol::TCP, ip)?;
    socket.set_tcp_nodelay(true)?;
    match socket.connect(&to.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(Errno::INPROGRESS.raw_os_error()) => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from(socket))
}

/// Opens a TCP connection from `ip` to `to` without blocking the event loop.
pub async fn connect_from(ip: Ipv4Addr, to: SocketAddr) -> io::Result<Async<TcpStream>> {
    let stream = Async::new(start_connect(ip, to)?)?;
    stream.writable().await?;
    if let Some(e) = stream.get_ref().take_error()? {
        return Err(e);
    }
    Ok(stream)
}

/// Number of `\n` bytes in `data`: one per line for feige and the floor.
pub fn newlines(data: &[u8]) -> u64 {
    data.iter().filter(|&&b| b == b'\n').count() as u64
}
