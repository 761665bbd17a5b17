//! Raw protocol from the test itself, to act as a hostile or careless peer would.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::STEP;

/// A UDP socket of the test's own.
pub struct RawUdp {
    /// The socket, bound to a loopback address.
    pub socket: UdpSocket,
}

impl RawUdp {
    /// Binds `ip`, any free port.
    pub fn bind(ip: &str) -> RawUdp {
        let ip: IpAddr = ip.parse().expect("an IP address");
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind a UDP socket");
        RawUdp { socket }
    }

    /// Where the socket is bound.
    pub fn local(&self) -> SocketAddr {
        self.socket.local_addr().expect("a bound socket")
    }

    /// Sends one datagram.
    pub fn send(&self, to: SocketAddr, data: &[u8]) {
        self.socket.send_to(data, to).expect("send a datagram");
    }

    /// The next datagram, or `None` after `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<(Vec<u8>, SocketAddr)> {
        self.socket
            .set_read_timeout(Some(timeout))
            .expect("set a timeout");
        let mut buf = vec![0u8; 65_536];
        let (len, from) = self.socket.recv_from(&mut buf).ok()?;
        buf.truncate(len);
        Some((buf, from))
    }

    /// Sends `login,<name>,<local>` until the server answers; returns its answer (resending
    /// covers a datagram lost on a loaded machine).
    pub fn login(&self, server: SocketAddr, name: &str) -> String {
        let login = format!("login,{name},{}", self.local());
        let deadline = Instant::now() + STEP;
        while Instant::now() < deadline {
            self.send(server, login.as_bytes());
            if let Some((data, from)) = self.recv(Duration::from_millis(500)) {
                if from == server {
                    return String::from_utf8_lossy(&data).trim_end().to_owned();
                }
            }
        }
        panic!("no answer to {login:?} from {server}");
    }

    /// Logs `name` in and returns the TCP port of the server's `Accept`; any other answer fails
    /// the test.
    pub fn accept_port(&self, server: SocketAddr, name: &str) -> u16 {
        let answer = self.login(server, name);
        answer
            .strip_prefix("Accept,")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{name}: expected Accept,<port>, got {answer:?}"))
    }
}

/// A native login of `name` from `ip`, as a client does it by hand: the UDP socket, and the TCP
/// session with its claim sent.
pub fn raw_login(ip: &str, server: SocketAddr, name: &str) -> (RawUdp, RawTcp) {
    let udp = RawUdp::bind(ip);
    let port = udp.accept_port(server, name);
    let tcp = RawTcp::claim(ip, SocketAddr::new(server.ip(), port), name, &udp);
    (udp, tcp)
}

/// A TCP connection of the test's own, read with a timeout.
pub struct RawTcp {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl RawTcp {
    /// Connects to `to` from `from_ip` (127.0.0.2 is as good as 127.0.0.1 on Linux loopback).
    pub fn connect_from(from_ip: &str, to: SocketAddr) -> RawTcp {
        let from_ip: IpAddr = from_ip.parse().expect("an IP address");
        let socket = Socket::new(Domain::for_address(to), Type::STREAM, Some(Protocol::TCP))
            .expect("a TCP socket");
        socket
            .bind(&SockAddr::from(SocketAddr::new(from_ip, 0)))
            .expect("bind the source address");
        socket
            .connect_timeout(&SockAddr::from(to), STEP)
            .expect("connect");
        RawTcp {
            stream: socket.into(),
            pending: Vec::new(),
        }
    }

    /// Connects from `ip` to `to` and claims the login of `name` made from `udp`.
    pub fn claim(ip: &str, to: SocketAddr, name: &str, udp: &RawUdp) -> RawTcp {
        RawTcp::claim_with_key(ip, to, name, udp, None)
    }

    /// [`claim`](Self::claim), announcing `key` (64 hex digits) when given.
    pub fn claim_with_key(
        ip: &str,
        to: SocketAddr,
        name: &str,
        udp: &RawUdp,
        key: Option<&str>,
    ) -> RawTcp {
        let mut tcp = RawTcp::connect_from(ip, to);
        let key = key.map(|key| format!(",{key}")).unwrap_or_default();
        tcp.write(format!("login,{name},{}{key}\n", udp.local()).as_bytes())
            .expect("the claim");
        tcp
    }

    /// Writes bytes; the result tells whether the peer still takes them.
    pub fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(data)
    }

    /// The next line (without its `\n`), or `None` at end of stream, on error, or after [`STEP`].
    pub fn read_line(&mut self) -> Option<String> {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return Some(String::from_utf8_lossy(&line).trim_end().to_owned());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.stream.set_read_timeout(Some(left)).ok()?;
            let mut buf = [0u8; 4096];
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(len) => self.pending.extend_from_slice(buf.get(..len)?),
            }
        }
    }

    /// A clone of the stream, to write from another thread while this one reads.
    pub fn try_clone_stream(&self) -> TcpStream {
        self.stream.try_clone().expect("clone the stream")
    }
}

/// `GET /metrics` from `at`: the body of the answer, which must be `200 OK`.
pub fn scrape(at: SocketAddr) -> String {
    let mut stream = TcpStream::connect_timeout(&at, STEP).expect("connect to /metrics");
    stream.set_read_timeout(Some(STEP)).expect("set a timeout");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: feige\r\n\r\n")
        .expect("send the request");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the answer");
    let answer = String::from_utf8(answer).expect("a UTF-8 answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    body.to_owned()
}

/// The value of the sample `name` (its labels written out) in a metrics text; 0 when absent.
pub fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}
