//! The textbook client: receives on the endpoint it declares, sends everything from throw-away
//! sockets, fetches the list by a TCP connection on which it says nothing.

use std::io::{ErrorKind, Read};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::dotnet::{from_utf16le, read_dotnet_string};
use super::send_from_fresh_socket;
use crate::proc::STEP;

/// A textbook client, bound and listening; [`login`](Self::login) logs it in.
pub struct ClassicPeer {
    name: String,
    /// The one socket it receives on, at the endpoint it declares.
    inbox: UdpSocket,
    endpoint: SocketAddr,
    /// Where it logged in (the server's UDP address), once it did.
    server: Option<SocketAddr>,
    /// The source address of every datagram it sent, in order.
    sent_from: Vec<SocketAddr>,
    /// Every datagram received so far, decoded, with its source.
    seen: Vec<(String, SocketAddr)>,
}

/// What the list connection gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOutcome {
    /// The list text, `n1,ep1;...;end`.
    pub text: String,
    /// The `(name, endpoint)` entries before `end`.
    pub entries: Vec<(String, String)>,
    /// Where the `Accept` came from.
    pub accept_from: SocketAddr,
    /// The server closed the connection right after the list.
    pub closed_after: bool,
}

impl ClassicPeer {
    /// Binds the receive socket at `ip`, any free port: the endpoint it will declare.
    pub fn bind(name: &str, ip: &str) -> ClassicPeer {
        let ip: IpAddr = ip.parse().expect("an IP address");
        let inbox = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind the receive socket");
        let endpoint = inbox.local_addr().expect("a bound socket");
        ClassicPeer {
            name: name.to_owned(),
            inbox,
            endpoint,
            server: None,
            sent_from: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// The declared endpoint, where it receives.
    pub fn endpoint(&self) -> SocketAddr {
        self.endpoint
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The source address of every datagram sent so far.
    pub fn sent_from(&self) -> &[SocketAddr] {
        &self.sent_from
    }

    /// Sends one UTF-16LE datagram from a fresh socket on its IP.
    pub fn send(&mut self, to: SocketAddr, text: &str) {
        let from = send_from_fresh_socket(self.endpoint.ip(), to, text);
        self.sent_from.push(from);
    }

    /// Logs in as the textbook client does: one `login,<name>,<endpoint>` datagram, the
    /// `Accept,<port>` from any source, a TCP connection to (the Accept's source IP, port) on
    /// which it sends nothing, and one `ReadString` that must end with `end`.
    ///
    /// Panics (failing the test) on anything else, with what was seen.
    pub fn login(&mut self, server: SocketAddr) -> ListOutcome {
        self.server = Some(server);
        self.send(server, &format!("login,{},{}", self.name, self.endpoint));
        let (accept, accept_from) = self.wait_for("Accept", |text| text.starts_with("Accept,"));
        let port: u16 = accept
            .strip_prefix("Accept,")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{}: bad Accept {accept:?}", self.name));
        let mut stream = self.connect(SocketAddr::new(accept_from.ip(), port));
        stream
            .set_read_timeout(Some(STEP))
            .expect("set a read timeout");
        let text = read_dotnet_string(&mut stream)
            .unwrap_or_else(|e| panic!("{}: cannot read the list: {e}", self.name));
        assert!(
            text.ends_with("end"),
            "{}: the list does not end with `end`: {text:?}",
            self.name
        );
        let entries = text
            .trim_end_matches("end")
            .split(';')
            .filter(|entry| !entry.is_empty())
            .map(|entry| match entry.split_once(',') {
                Some((name, ep)) => (name.to_owned(), ep.to_owned()),
                None => panic!("{}: bad list entry {entry:?} in {text:?}", self.name),
            })
            .collect();
        let mut rest = [0u8; 1];
        let closed_after = matches!(stream.read(&mut rest), Ok(0));
        ListOutcome {
            text,
            entries,
            accept_from,
            closed_after,
        }
    }

    /// A TCP connection to `to` from the peer's IP (on loopback every IP is this host's, so the
    /// source IP is chosen explicitly, as a real host's one address would be).
    pub fn connect(&self, to: SocketAddr) -> TcpStream {
        let socket = Socket::new(Domain::for_address(to), Type::STREAM, Some(Protocol::TCP))
            .expect("a TCP socket");
        let from = SocketAddr::new(self.endpoint.ip(), 0);
        socket
            .bind(&SockAddr::from(from))
            .expect("bind the peer's IP");
        socket
            .connect_timeout(&SockAddr::from(to), STEP)
            .unwrap_or_else(|e| panic!("{}: cannot connect to {to}: {e}", self.name));
        socket.into()
    }

    /// `talk,<time>,<our name>,<text>` to `to`, from a fresh port.
    pub fn talk(&mut self, to: SocketAddr, time: &str, text: &str) {
        let talk = format!("talk,{time},{},{text}", self.name);
        self.send(to, &talk);
    }

    /// `logout,<name>,<endpoint>` to the server, from a fresh port.
    pub fn logout(&mut self) {
        let server = self.server.expect("logged in first");
        let logout = format!("logout,{},{}", self.name, self.endpoint);
        self.send(server, &logout);
    }

    /// The next datagram, decoded; `None` after `timeout`. A datagram that is not UTF-16LE text
    /// fails the test: nobody should send one to a textbook client.
    pub fn recv(&mut self, timeout: Duration) -> Option<(String, SocketAddr)> {
        self.inbox
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .expect("set a read timeout");
        let mut buf = vec![0u8; 65_536];
        let (len, from) = match self.inbox.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None
            }
            Err(e) => panic!("{}: receive failed: {e}", self.name),
        };
        let data = buf.get(..len).unwrap_or_default();
        let text = from_utf16le(data)
            .unwrap_or_else(|| panic!("{}: not UTF-16LE from {from}: {data:?}", self.name));
        self.seen.push((text.clone(), from));
        Some((text, from))
    }

    /// Skips datagrams until one satisfies `matches`; panics after [`STEP`].
    pub fn wait_for(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> (String, SocketAddr) {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "{}: no {what} within {STEP:?}; seen: {:#?}",
                    self.name, self.seen
                );
            }
            if let Some((text, from)) = self.recv(left) {
                if matches(&text) {
                    return (text, from);
                }
            }
        }
    }

    /// Whether a datagram satisfying `matches` was received so far (without waiting).
    pub fn has_seen(&self, matches: impl Fn(&str) -> bool) -> bool {
        self.seen.iter().any(|(text, _)| matches(text))
    }
}
