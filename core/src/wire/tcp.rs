//! Lines on the TCP session between a client and the server. Each line ends with `\n`
//! (`\r\n` is tolerated on input); the [`LineDecoder`](super::LineDecoder) splits the stream.

use super::error::WireError;
use super::fields::{endpoint, field, finish, keyword, name, next_field, strip_line_end, utf8};
use super::key::PublicKey;
use super::name::Name;
use super::presence::{entry_fields, entry_prefix, write_presence, UserEntry};
use super::reason::ErrorReason;
use super::relay::{RelayPayload, MAX_RELAY_PAYLOAD};
use super::MAX_NAME_BYTES;

/// Most bytes in a client → server line, not counting its line end; `relay` lines excepted.
pub const MAX_CLIENT_LINE: usize = 512;

/// Most bytes in a client → server `relay` line (the longest name, the largest datagram), not
/// counting its line end: the bound of the server's line decoder.
pub const MAX_RELAY_LINE: usize = "relay,".len() + MAX_NAME_BYTES + 1 + MAX_RELAY_PAYLOAD;

/// Default bound on a server → client line: a snapshot of 100,000 sessions with the longest
/// names and IPv6 endpoints still fits.
pub const MAX_SERVER_LINE: usize = 16 << 20;

/// Client → server lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientLine {
    /// `login,<name>,<localEndpoint>[,<key>]`: the first line, claiming the pending login of
    /// that name; `key` is the user's public key, for the server's directory.
    Login {
        /// Who claims, declaring the endpoint its UDP login declared.
        entry: UserEntry,
        /// The user's long-term public key (absent from clients without one).
        key: Option<PublicKey>,
    },
    /// `logout,<name>,<endpoint>`: orderly logout.
    Logout(UserEntry),
    /// `ping`: keepalive.
    Ping,
    /// `intro,<name>`: asks the server to introduce us to `name`, so both sides probe each
    /// other's endpoint at once and open their NATs (protocol.md 8.2).
    Intro(Name),
    /// `relay,<name>,<payload>`: a datagram for `name`, through the server, when no direct path
    /// works.
    Relay {
        /// The recipient.
        to: Name,
        /// The datagram.
        payload: RelayPayload,
    },
}

/// How a user speaks, announced to native clients right after that user's `login` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum Dialect {
    /// The textbook C# client: UTF-16LE datagrams, `talk` chat without acks.
    Classic,
}

impl Dialect {
    /// The dialect as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Classic => "classic",
        }
    }
}

/// Server → client lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerLine {
    /// `n1,ep1;n2,ep2;...;end`: everyone online, the newcomer included.
    Snapshot(Vec<UserEntry>),
    /// `login,<name>,<remoteEndpoint>`: someone joined.
    Login(UserEntry),
    /// `logout,<name>,<remoteEndpoint>`: someone left.
    Logout(UserEntry),
    /// `dialect,<name>,<dialect>`: that user speaks another dialect.
    Dialect {
        /// The user.
        name: Name,
        /// Their dialect.
        dialect: Dialect,
    },
    /// `key,<name>,<key>`: that user's public key, as it announced it.
    Key {
        /// The user.
        name: Name,
        /// Their long-term public key.
        key: PublicKey,
    },
    /// `pong`: answer to `ping`.
    Pong,
    /// `error,<reason>`: the server closes the connection for this reason.
    Error(ErrorReason),
    /// `intro,<name>,<endpoint>`: `name`, at the endpoint the server sees it at, is being
    /// introduced to us (or we to it): probe it now.
    Intro(UserEntry),
    /// `relay,<name>,<payload>`: a datagram from `name`, relayed by the server.
    Relay {
        /// The sender, as the server knows it (the datagram's key says who really sealed it).
        from: Name,
        /// The datagram.
        payload: RelayPayload,
    },
}

impl ClientLine {
    /// Parses one line (with or without its line end).
    pub fn parse(line: &[u8]) -> Result<Self, WireError> {
        let line = strip_line_end(line);
        if line.len() > MAX_RELAY_LINE
            || (line.len() > MAX_CLIENT_LINE && !line.starts_with(b"relay,"))
        {
            return Err(WireError::TooLong);
        }
        let text = utf8(line)?;
        match keyword(text) {
            ("", "") => Err(WireError::Empty),
            ("ping", "") => Ok(ClientLine::Ping),
            ("intro", rest) => {
                let (rest, raw_name) = next_field(rest, "name")?;
                finish(rest)?;
                Ok(ClientLine::Intro(name(raw_name)?))
            }
            ("relay", rest) => {
                let (to, payload) = relay_fields(rest)?;
                Ok(ClientLine::Relay { to, payload })
            }
            ("login", rest) => {
                let (rest, entry) = entry_prefix(rest)?;
                let key = match rest {
                    "" => None,
                    _ => {
                        let (rest, raw_key) = next_field(rest, "key")?;
                        finish(rest)?;
                        Some(PublicKey::parse(raw_key)?)
                    }
                };
                Ok(ClientLine::Login { entry, key })
            }
            ("logout", rest) => entry_fields(rest).map(ClientLine::Logout),
            _ => Err(WireError::UnknownMessage),
        }
    }

    /// Appends the line, with its `\n`, to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ClientLine::Login { entry, key } => {
                write_presence(out, "login", entry);
                if let Some(key) = key {
                    out.push(b',');
                    out.extend_from_slice(key.to_string().as_bytes());
                }
            }
            ClientLine::Logout(e) => write_presence(out, "logout", e),
            ClientLine::Ping => out.extend_from_slice(b"ping"),
            ClientLine::Intro(name) => {
                out.extend_from_slice(b"intro,");
                out.extend_from_slice(name.as_bytes());
            }
            ClientLine::Relay { to, payload } => write_relay(out, to, payload),
        }
        out.push(b'\n');
    }

    /// The line's bytes, with its `\n`.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        self.encode(&mut out);
        out
    }
}

impl ServerLine {
    /// Parses one line (with or without its line end).
    pub fn parse(line: &[u8]) -> Result<Self, WireError> {
        let text = utf8(strip_line_end(line))?;
        if text.is_empty() {
            return Err(WireError::Empty);
        }
        // A snapshot is the only line holding `;`, or the bare `end` of an empty one.
        if text == "end" || text.contains(';') {
            return parse_snapshot(text).map(ServerLine::Snapshot);
        }
        match keyword(text) {
            ("pong", "") => Ok(ServerLine::Pong),
            ("login", rest) => entry_fields(rest).map(ServerLine::Login),
            ("logout", rest) => entry_fields(rest).map(ServerLine::Logout),
            ("error", rest) => {
                let (rest, reason) = next_field(rest, "reason")?;
                finish(rest)?;
                Ok(ServerLine::Error(ErrorReason::parse(reason)?))
            }
            ("dialect", rest) => {
                let (rest, raw_name) = next_field(rest, "name")?;
                let name = name(raw_name)?;
                let (rest, raw_dialect) = next_field(rest, "dialect")?;
                finish(rest)?;
                let dialect = match raw_dialect {
                    "classic" => Dialect::Classic,
                    _ => return Err(WireError::UnknownMessage),
                };
                Ok(ServerLine::Dialect { name, dialect })
            }
            ("key", rest) => {
                let (rest, raw_name) = next_field(rest, "name")?;
                let name = name(raw_name)?;
                let (rest, raw_key) = next_field(rest, "key")?;
                finish(rest)?;
                Ok(ServerLine::Key {
                    name,
                    key: PublicKey::parse(raw_key)?,
                })
            }
            ("intro", rest) => entry_fields(rest).map(ServerLine::Intro),
            ("relay", rest) => {
                let (from, payload) = relay_fields(rest)?;
                Ok(ServerLine::Relay { from, payload })
            }
            _ => Err(WireError::UnknownMessage),
        }
    }

    /// Appends the line, with its `\n`, to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ServerLine::Snapshot(entries) => {
                encode_snapshot(out, entries.iter().map(|e| (&e.name, e.endpoint)));
                return;
            }
            ServerLine::Login(e) => write_presence(out, "login", e),
            ServerLine::Logout(e) => write_presence(out, "logout", e),
            ServerLine::Dialect { name, dialect } => {
                out.extend_from_slice(b"dialect,");
                out.extend_from_slice(name.as_bytes());
                out.push(b',');
                out.extend_from_slice(dialect.as_str().as_bytes());
            }
            ServerLine::Key { name, key } => {
                out.extend_from_slice(b"key,");
                out.extend_from_slice(name.as_bytes());
                out.push(b',');
                out.extend_from_slice(key.to_string().as_bytes());
            }
            ServerLine::Pong => out.extend_from_slice(b"pong"),
            ServerLine::Error(reason) => {
                out.extend_from_slice(b"error,");
                out.extend_from_slice(reason.as_str().as_bytes());
            }
            ServerLine::Intro(e) => write_presence(out, "intro", e),
            ServerLine::Relay { from, payload } => write_relay(out, from, payload),
        }
        out.push(b'\n');
    }

    /// The line's bytes, with its `\n`.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        self.encode(&mut out);
        out
    }
}

/// `,<name>,<payload>`: the fields of a `relay` line, either way.
fn relay_fields(rest: &str) -> Result<(Name, RelayPayload), WireError> {
    let (rest, raw_name) = next_field(rest, "name")?;
    let peer = name(raw_name)?;
    let (rest, raw_payload) = next_field(rest, "payload")?;
    finish(rest)?;
    Ok((peer, RelayPayload::parse(raw_payload)?))
}

fn write_relay(out: &mut Vec<u8>, peer: &Name, payload: &RelayPayload) {
    out.extend_from_slice(b"relay,");
    out.extend_from_slice(peer.as_bytes());
    out.push(b',');
    out.extend_from_slice(payload.as_str().as_bytes());
}

/// Writes a snapshot line, `\n` included, straight from the caller's registry (no entries
/// are cloned).
pub fn encode_snapshot<'a>(
    out: &mut Vec<u8>,
    entries: impl IntoIterator<Item = (&'a Name, std::net::SocketAddr)>,
) {
    for (name, ep) in entries {
        write_snapshot_entry(out, name, ep);
    }
    out.extend_from_slice(b"end\n");
}

/// One entry of a snapshot, `name,endpoint;`: what a server keeps encoded per session, so that a
/// snapshot is a concatenation.
pub fn encode_snapshot_entry(name: &Name, ep: std::net::SocketAddr) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.as_str().len() + 2 + 47);
    write_snapshot_entry(&mut out, name, ep);
    out
}

fn write_snapshot_entry(out: &mut Vec<u8>, name: &Name, ep: std::net::SocketAddr) {
    out.extend_from_slice(name.as_bytes());
    out.push(b',');
    super::fields::write_endpoint(out, ep);
    out.push(b';');
}

/// Parses `n1,ep1;...;end` in one pass: linear in the line's length, whatever the entry count.
fn parse_snapshot(mut rest: &str) -> Result<Vec<UserEntry>, WireError> {
    let mut entries = Vec::new();
    loop {
        if rest == "end" {
            return Ok(entries);
        }
        let (after_name, raw_name) = field(rest).map_err(|_| WireError::BadSnapshot)?;
        let (after_ep, raw_ep) = next_field(after_name, "endpoint")?;
        let name = name(raw_name)?;
        let endpoint = endpoint(raw_ep)?;
        entries.push(UserEntry { name, endpoint });
        rest = after_ep.strip_prefix(';').ok_or(WireError::BadSnapshot)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, ep: &str) -> UserEntry {
        UserEntry::new(Name::new(name).unwrap(), ep.parse().unwrap())
    }

    #[test]
    fn seed_snapshot_byte_for_byte() {
        let line = ServerLine::parse(b"alice,1.2.3.4:5;bob,[::1]:6;end").unwrap();
        assert_eq!(
            line,
            ServerLine::Snapshot(vec![entry("alice", "1.2.3.4:5"), entry("bob", "[::1]:6")])
        );
        assert_eq!(line.to_vec(), b"alice,1.2.3.4:5;bob,[::1]:6;end\n");
    }

    #[test]
    fn seed_logout_byte_for_byte() {
        let line = ServerLine::parse(b"logout,bob,[::1]:6\r\n").unwrap();
        assert_eq!(line, ServerLine::Logout(entry("bob", "[::1]:6")));
        assert_eq!(line.to_vec(), b"logout,bob,[::1]:6\n");
    }

    #[test]
    fn users_named_like_keywords_stay_in_the_snapshot() {
        let raw = b"login,1.2.3.4:5;end,[::1]:6;pong,1.1.1.1:1;end";
        match ServerLine::parse(raw).unwrap() {
            ServerLine::Snapshot(e) => {
                let names: Vec<&str> = e.iter().map(|e| e.name.as_str()).collect();
                assert_eq!(names, ["login", "end", "pong"]);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn malformed_snapshots_are_refused() {
        for bad in [
            &b"alice,1.2.3.4:5;"[..],
            b"alice,1.2.3.4:5;en",
            b"alice;end",
            b"alice,1.2.3.4:5,x;end",
            b"alice,1.2.3.4:5;end;",
        ] {
            assert!(ServerLine::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_error_reason_round_trips() {
        for &reason in ErrorReason::ALL {
            let line = ServerLine::Error(reason);
            assert_eq!(ServerLine::parse(&line.to_vec()), Ok(line));
        }
    }

    #[test]
    fn client_lines() {
        assert_eq!(ClientLine::parse(b"ping\n"), Ok(ClientLine::Ping));
        assert_eq!(ClientLine::parse(b"ping,x"), Err(WireError::UnknownMessage));
        assert_eq!(
            ClientLine::parse(b"login,alice,127.0.0.1:5000\r\n"),
            Ok(ClientLine::Login {
                entry: entry("alice", "127.0.0.1:5000"),
                key: None
            })
        );
        let key = PublicKey::from_bytes([0xab; 32]);
        let claim = format!("login,alice,127.0.0.1:5000,{key}\n");
        assert_eq!(
            ClientLine::parse(claim.as_bytes()),
            Ok(ClientLine::Login {
                entry: entry("alice", "127.0.0.1:5000"),
                key: Some(key)
            })
        );
        assert_eq!(
            ClientLine::parse(b"login,alice,127.0.0.1:5000,abc"),
            Err(WireError::BadKey)
        );
        assert_eq!(
            ClientLine::parse(
                format!("{}\n", claim.trim_end())
                    .replace('\n', ",x")
                    .as_bytes()
            ),
            Err(WireError::ExtraField)
        );
        assert_eq!(ClientLine::parse(b""), Err(WireError::Empty));
        let long = vec![b'a'; MAX_CLIENT_LINE + 1];
        assert_eq!(ClientLine::parse(&long), Err(WireError::TooLong));
    }

    #[test]
    fn key_line() {
        let line = ServerLine::Key {
            name: Name::new("小明").unwrap(),
            key: PublicKey::from_bytes([7; 32]),
        };
        let text = format!("key,小明,{}\n", "07".repeat(32));
        assert_eq!(line.to_vec(), text.as_bytes());
        assert_eq!(ServerLine::parse(text.as_bytes()), Ok(line));
        assert_eq!(ServerLine::parse(b"key,bob,00"), Err(WireError::BadKey));
    }

    #[test]
    fn intro_lines() {
        let asked = ClientLine::Intro(Name::new("小明").unwrap());
        assert_eq!(asked.to_vec(), "intro,小明\n".as_bytes());
        assert_eq!(ClientLine::parse(&asked.to_vec()), Ok(asked));
        assert_eq!(
            ClientLine::parse(b"intro"),
            Err(WireError::MissingField("name"))
        );
        assert_eq!(ClientLine::parse(b"intro,a,b"), Err(WireError::ExtraField));
        let told = ServerLine::Intro(entry("bob", "198.51.100.7:40000"));
        assert_eq!(told.to_vec(), b"intro,bob,198.51.100.7:40000\n");
        assert_eq!(ServerLine::parse(&told.to_vec()), Ok(told));
    }

    #[test]
    fn relay_lines_may_be_longer_than_other_client_lines() {
        let name = Name::new(&"名".repeat(MAX_NAME_BYTES / 3)).unwrap();
        let payload = RelayPayload::encode(&[0xfe; crate::wire::MAX_CHAT_DATAGRAM]).unwrap();
        let line = ClientLine::Relay {
            to: name.clone(),
            payload: payload.clone(),
        };
        let bytes = line.to_vec();
        assert_eq!(bytes.len() - 1, MAX_RELAY_LINE - (MAX_NAME_BYTES % 3));
        assert_eq!(ClientLine::parse(&bytes), Ok(line));
        let relayed = ServerLine::Relay {
            from: name,
            payload,
        };
        assert_eq!(ServerLine::parse(&relayed.to_vec()), Ok(relayed));
        let long_ping = format!("intro,{}", "x".repeat(MAX_CLIENT_LINE));
        assert_eq!(
            ClientLine::parse(long_ping.as_bytes()),
            Err(WireError::TooLong)
        );
        let long_relay = format!("relay,a,{}", "A".repeat(MAX_RELAY_LINE));
        assert_eq!(
            ClientLine::parse(long_relay.as_bytes()),
            Err(WireError::TooLong)
        );
        assert_eq!(
            ClientLine::parse(b"relay,bob,not base64!"),
            Err(WireError::BadPayload)
        );
    }

    #[test]
    fn dialect_line() {
        let line = ServerLine::Dialect {
            name: Name::new("老王").unwrap(),
            dialect: Dialect::Classic,
        };
        assert_eq!(line.to_vec(), "dialect,老王,classic\n".as_bytes());
        assert_eq!(ServerLine::parse(&line.to_vec()), Ok(line));
    }
}
