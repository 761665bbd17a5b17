//! Datagrams between a client and the server (one message per datagram).

use super::error::WireError;
use super::fields::{keyword, port, strip_line_end, utf8};
use super::presence::{entry_fields, write_presence, UserEntry};
use super::reason::RejectReason;

/// Client → server datagrams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientDatagram {
    /// `login,<name>,<localEndpoint>`: ask to log in.
    Login(UserEntry),
    /// `logout,<name>,<endpoint>`: leave (honoured only from the endpoint the user logged in from).
    Logout(UserEntry),
}

/// Server → client datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerDatagram {
    /// `Accept,<tcpPort>`: connect by TCP to this port within the pending window.
    Accept {
        /// The server's TCP port.
        tcp_port: u16,
    },
    /// `Reject,<reason>`: the login is refused.
    Reject(RejectReason),
}

impl ClientDatagram {
    /// Parses one datagram; a trailing `\n` or `\r\n` is tolerated.
    pub fn parse(data: &[u8]) -> Result<Self, WireError> {
        let text = utf8(strip_line_end(data))?;
        if text.is_empty() {
            return Err(WireError::Empty);
        }
        match keyword(text) {
            ("login", rest) => entry_fields(rest).map(ClientDatagram::Login),
            ("logout", rest) => entry_fields(rest).map(ClientDatagram::Logout),
            _ => Err(WireError::UnknownMessage),
        }
    }

    /// Appends the datagram's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ClientDatagram::Login(e) => write_presence(out, "login", e),
            ClientDatagram::Logout(e) => write_presence(out, "logout", e),
        }
    }

    /// The datagram's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        self.encode(&mut out);
        out
    }
}

impl ServerDatagram {
    /// Parses one datagram; a trailing `\n` or `\r\n` is tolerated.
    pub fn parse(data: &[u8]) -> Result<Self, WireError> {
        let text = utf8(strip_line_end(data))?;
        if text.is_empty() {
            return Err(WireError::Empty);
        }
        let (kw, rest) = keyword(text);
        let value = match rest.strip_prefix(',') {
            Some(v) if !v.contains([',', ';']) => v,
            Some(_) => return Err(WireError::ExtraField),
            None if matches!(kw, "Accept" | "Reject") => {
                return Err(WireError::MissingField(if kw == "Accept" {
                    "port"
                } else {
                    "reason"
                }))
            }
            None => return Err(WireError::UnknownMessage),
        };
        match kw {
            "Accept" => Ok(ServerDatagram::Accept {
                tcp_port: port(value)?,
            }),
            "Reject" => Ok(ServerDatagram::Reject(RejectReason::parse(value)?)),
            _ => Err(WireError::UnknownMessage),
        }
    }

    /// Appends the datagram's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ServerDatagram::Accept { tcp_port } => {
                out.extend_from_slice(format!("Accept,{tcp_port}").as_bytes())
            }
            ServerDatagram::Reject(reason) => {
                out.extend_from_slice(b"Reject,");
                out.extend_from_slice(reason.as_str().as_bytes());
            }
        }
    }

    /// The datagram's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        self.encode(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Name, NameError};

    fn entry(name: &str, ep: &str) -> UserEntry {
        UserEntry::new(Name::new(name).unwrap(), ep.parse().unwrap())
    }

    #[test]
    fn seed_login_byte_for_byte() {
        let d = ClientDatagram::parse(b"login,alice,127.0.0.1:5000").unwrap();
        assert_eq!(d, ClientDatagram::Login(entry("alice", "127.0.0.1:5000")));
        assert_eq!(d.to_vec(), b"login,alice,127.0.0.1:5000");
    }

    #[test]
    fn seed_accept_byte_for_byte() {
        let d = ServerDatagram::parse(b"Accept,9001").unwrap();
        assert_eq!(d, ServerDatagram::Accept { tcp_port: 9001 });
        assert_eq!(d.to_vec(), b"Accept,9001");
    }

    #[test]
    fn trailing_line_end_is_tolerated_once() {
        assert!(ClientDatagram::parse(b"login,alice,127.0.0.1:5000\r\n").is_ok());
        assert!(ClientDatagram::parse(b"login,alice,127.0.0.1:5000\n").is_ok());
        assert_eq!(
            ClientDatagram::parse(b"login,alice,127.0.0.1:5000\n\n"),
            Err(WireError::BadEndpoint)
        );
    }

    #[test]
    fn every_reject_reason_round_trips() {
        for &reason in RejectReason::ALL {
            let bytes = ServerDatagram::Reject(reason).to_vec();
            assert_eq!(
                ServerDatagram::parse(&bytes),
                Ok(ServerDatagram::Reject(reason))
            );
        }
        assert_eq!(
            ServerDatagram::parse(b"Reject,because"),
            Err(WireError::UnknownReason)
        );
    }

    #[test]
    fn typed_errors_say_what_is_wrong() {
        assert_eq!(ClientDatagram::parse(b""), Err(WireError::Empty));
        assert_eq!(ClientDatagram::parse(b"\xff\xfe"), Err(WireError::NotUtf8));
        assert_eq!(
            ClientDatagram::parse(b"hello"),
            Err(WireError::UnknownMessage)
        );
        assert_eq!(
            ClientDatagram::parse(b"login,alice"),
            Err(WireError::MissingField("endpoint"))
        );
        assert_eq!(
            ClientDatagram::parse(b"login, alice,1.2.3.4:5"),
            Err(WireError::BadName(NameError::OuterWhiteSpace))
        );
        assert_eq!(
            ClientDatagram::parse(b"login,alice,1.2.3.4:5,x"),
            Err(WireError::ExtraField)
        );
        assert_eq!(
            ClientDatagram::parse(b"login,alice,localhost:5"),
            Err(WireError::BadEndpoint)
        );
        assert_eq!(ServerDatagram::parse(b"Accept,0"), Err(WireError::BadPort));
        assert_eq!(
            ServerDatagram::parse(b"Accept,09001"),
            Err(WireError::BadPort)
        );
        assert_eq!(
            ServerDatagram::parse(b"Accept,65536"),
            Err(WireError::BadPort)
        );
        assert_eq!(
            ServerDatagram::parse(b"Accept"),
            Err(WireError::MissingField("port"))
        );
    }

    #[test]
    fn chinese_names_and_ipv6_endpoints() {
        let d = ClientDatagram::parse("logout,小明,[::1]:6".as_bytes()).unwrap();
        assert_eq!(d, ClientDatagram::Logout(entry("小明", "[::1]:6")));
        assert_eq!(d.to_vec(), "logout,小明,[::1]:6".as_bytes());
    }

    #[test]
    fn mapped_ipv6_is_stored_as_ipv4() {
        let d = ClientDatagram::parse(b"login,a,[::ffff:127.0.0.1]:5").unwrap();
        assert_eq!(d, ClientDatagram::Login(entry("a", "127.0.0.1:5")));
    }
}
