//! A faithful stand-in for the textbook C# program (`classic.md`): its client ([`ClassicPeer`])
//! and its server ([`ClassicServer`]), written from the observed facts and independently of
//! feige's own codec, so that a fault in that codec cannot hide itself in the tests.
//!
//! Like the original, every datagram is UTF-16LE and goes out from a fresh UDP socket (a new
//! source port each time); the client only receives on the endpoint it declares; the list is one
//! .NET `BinaryWriter.Write(string)` value on a TCP connection the server closes right after.

mod client;
mod dotnet;
mod server;

pub use client::{ClassicPeer, ListOutcome};
pub use dotnet::{read_dotnet_string, utf16le, write_dotnet_string};
pub use server::ClassicServer;

use std::net::{IpAddr, SocketAddr, UdpSocket};

/// Sends `text` in UTF-16LE from a fresh UDP socket on `ip` (any port), as the textbook program
/// sends everything; returns the source address it went out from.
pub fn send_from_fresh_socket(ip: IpAddr, to: SocketAddr, text: &str) -> SocketAddr {
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind a throw-away UDP socket");
    socket
        .send_to(&utf16le(text), to)
        .expect("send a classic datagram");
    socket.local_addr().expect("a bound socket")
}
