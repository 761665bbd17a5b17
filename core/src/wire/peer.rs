//! Chat between peers: `msg` and `ack` datagrams, straight from client to client.

use std::fmt;
use std::hash::{Hash, Hasher};

use super::error::WireError;
use super::fields::{decimal, keyword, name, next_field, strip_line_end, utf8};
use super::name::Name;

/// Most bytes in one chat datagram, header included, so it fits an IPv6 minimum-MTU packet.
pub const MAX_CHAT_DATAGRAM: usize = 1200;

/// A sender's session id: 16 hex digits, fresh at each login, so a restarted sender's messages
/// never look like duplicates of its old ones.
///
/// Equality is by value (either case parses to the same id); the digits are kept as received so
/// an `ack` echoes them exactly.
#[derive(Clone, Copy)]
pub struct SessionId {
    value: u64,
    digits: [u8; 16],
}

impl SessionId {
    /// An id written in lowercase.
    pub fn new(value: u64) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0u8; 16];
        for (i, d) in digits.iter_mut().enumerate() {
            *d = HEX[((value >> (60 - 4 * i)) & 0xf) as usize];
        }
        SessionId { value, digits }
    }

    /// Parses exactly 16 hex digits in either case.
    pub fn parse(s: &str) -> Result<Self, WireError> {
        let bytes = s.as_bytes();
        if bytes.len() != 16 || !bytes.iter().all(u8::is_ascii_hexdigit) {
            return Err(WireError::BadSessionId);
        }
        let value = u64::from_str_radix(s, 16).map_err(|_| WireError::BadSessionId)?;
        let mut digits = [0u8; 16];
        digits.copy_from_slice(bytes);
        Ok(SessionId { value, digits })
    }

    /// The id's value.
    pub fn value(self) -> u64 {
        self.value
    }

    /// The digits as received (or lowercase, for an id made with [`SessionId::new`]).
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.digits).unwrap_or("0000000000000000")
    }
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for SessionId {}

impl Hash for SessionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.as_str())
    }
}

/// Peer → peer datagrams. The text is borrowed from the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerDatagram<'a> {
    /// `msg,<from>,<sid>,<seq>,<text>`: the text is the rest of the datagram, verbatim.
    Msg {
        /// The sending user.
        from: Name,
        /// The sender's session.
        sid: SessionId,
        /// 1, 2, 3… per (sender session, receiver).
        seq: u64,
        /// The chat text: commas and newlines included, never empty.
        text: &'a str,
    },
    /// `ack,<from>,<sid>,<seq>`: `from` acknowledges the message (`sid`, `seq`).
    Ack {
        /// The acknowledging user.
        from: Name,
        /// The session id echoed from the message.
        sid: SessionId,
        /// The sequence number echoed from the message.
        seq: u64,
    },
}

impl<'a> PeerDatagram<'a> {
    /// Parses one datagram. A `msg` keeps every byte after its fourth comma as text; an `ack`
    /// tolerates one trailing `\n` or `\r\n`.
    pub fn parse(data: &'a [u8]) -> Result<Self, WireError> {
        if data.len() > MAX_CHAT_DATAGRAM {
            return Err(WireError::TooLong);
        }
        let text = utf8(data)?;
        match keyword(text) {
            ("msg", rest) => {
                let (rest, from, sid, seq) = header(rest)?;
                let text = rest
                    .strip_prefix(',')
                    .ok_or(WireError::MissingField("text"))?;
                if text.is_empty() {
                    return Err(WireError::EmptyText);
                }
                Ok(PeerDatagram::Msg {
                    from,
                    sid,
                    seq,
                    text,
                })
            }
            ("ack", _) => {
                let text = utf8(strip_line_end(data))?;
                let (rest, from, sid, seq) = header(keyword(text).1)?;
                if !rest.is_empty() {
                    return Err(WireError::ExtraField);
                }
                Ok(PeerDatagram::Ack { from, sid, seq })
            }
            ("", "") => Err(WireError::Empty),
            _ => Err(WireError::UnknownMessage),
        }
    }

    /// Appends the datagram's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            PeerDatagram::Msg {
                from,
                sid,
                seq,
                text,
            } => {
                write_header(out, "msg", from, sid, *seq);
                out.push(b',');
                out.extend_from_slice(text.as_bytes());
            }
            PeerDatagram::Ack { from, sid, seq } => write_header(out, "ack", from, sid, *seq),
        }
    }

    /// The datagram's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.encode(&mut out);
        out
    }
}

/// How many text bytes fit in a `msg` from `from` with this `seq`.
pub fn max_text_len(from: &Name, seq: u64) -> usize {
    // "msg," + from + "," + 16 + "," + seq + ","
    let header = 4 + from.len() + 1 + 16 + 1 + decimal_len(seq) + 1;
    super::MAX_SEALED_PLAINTEXT.saturating_sub(header)
}

fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

fn header(rest: &str) -> Result<(&str, Name, SessionId, u64), WireError> {
    let (rest, raw_from) = next_field(rest, "from")?;
    let from = name(raw_from)?;
    let (rest, raw_sid) = next_field(rest, "sid")?;
    let sid = SessionId::parse(raw_sid)?;
    let (rest, raw_seq) = next_field(rest, "seq")?;
    let seq = match decimal(raw_seq) {
        Some(n) if n >= 1 => n,
        _ => return Err(WireError::BadSeq),
    };
    Ok((rest, from, sid, seq))
}

fn write_header(out: &mut Vec<u8>, kw: &str, from: &Name, sid: &SessionId, seq: u64) {
    use std::io::Write;
    out.extend_from_slice(kw.as_bytes());
    out.push(b',');
    out.extend_from_slice(from.as_bytes());
    out.push(b',');
    out.extend_from_slice(sid.as_str().as_bytes());
    // Writing to a Vec cannot fail.
    let _ = write!(out, ",{seq}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{MAX_NAME_BYTES, MAX_SEALED_PLAINTEXT};

    #[test]
    fn commas_and_newlines_stay_in_the_text() {
        let raw = "msg,小明,00000000000000ff,3,hi, there\nsecond line\n".as_bytes();
        let d = PeerDatagram::parse(raw).unwrap();
        assert_eq!(
            d,
            PeerDatagram::Msg {
                from: Name::new("小明").unwrap(),
                sid: SessionId::new(255),
                seq: 3,
                text: "hi, there\nsecond line\n",
            }
        );
        assert_eq!(d.to_vec(), raw);
    }

    #[test]
    fn session_id_parses_either_case_and_echoes_as_received() {
        let d = PeerDatagram::parse(b"ack,bob,00000000000000FF,7\n").unwrap();
        let PeerDatagram::Ack { sid, .. } = &d else {
            panic!("not an ack: {d:?}")
        };
        assert_eq!(*sid, SessionId::new(255));
        assert_eq!(sid.as_str(), "00000000000000FF");
        assert_eq!(d.to_vec(), b"ack,bob,00000000000000FF,7");
    }

    #[test]
    fn bad_headers_are_named() {
        assert_eq!(
            PeerDatagram::parse(b"msg,bob,123,1,hi"),
            Err(WireError::BadSessionId)
        );
        assert_eq!(
            PeerDatagram::parse(b"msg,bob,0000000000000001,0,hi"),
            Err(WireError::BadSeq)
        );
        assert_eq!(
            PeerDatagram::parse(b"msg,bob,0000000000000001,01,hi"),
            Err(WireError::BadSeq)
        );
        assert_eq!(
            PeerDatagram::parse(b"msg,bob,0000000000000001,1,"),
            Err(WireError::EmptyText)
        );
        assert_eq!(
            PeerDatagram::parse(b"msg,bob,0000000000000001,1"),
            Err(WireError::MissingField("text"))
        );
        assert_eq!(
            PeerDatagram::parse(b"ack,bob,0000000000000001,1,x"),
            Err(WireError::ExtraField)
        );
    }

    #[test]
    fn datagram_limit_is_exact() {
        // The text room is what one sealed datagram carries, less the `msg` header: a message
        // that fits fills its sealed chat datagram exactly (`MAX_CHAT_DATAGRAM` bytes on the wire).
        let from = Name::new("bob").unwrap();
        let room = max_text_len(&from, 1);
        let header = "msg,bob,0000000000000001,1,".len();
        assert_eq!(room, MAX_SEALED_PLAINTEXT - header);
        assert_eq!(room, 1171 - 27);
        let fits = PeerDatagram::Msg {
            from: from.clone(),
            sid: SessionId::new(1),
            seq: 1,
            text: &"x".repeat(room),
        }
        .to_vec();
        assert_eq!(fits.len(), MAX_SEALED_PLAINTEXT);
        assert!(PeerDatagram::parse(&fits).is_ok());
        // One more digit in the seq, one byte less of text.
        assert_eq!(max_text_len(&from, 10), room - 1);
        // The longest name at the largest seq still leaves room.
        let longest = Name::new(&"😀".repeat(MAX_NAME_BYTES / 4)).unwrap();
        assert_eq!(
            max_text_len(&longest, u64::MAX),
            MAX_SEALED_PLAINTEXT - (4 + MAX_NAME_BYTES + 1 + 16 + 1 + 20 + 1)
        );
        // The parser itself bounds a datagram by the chat limit.
        let mut longest = fits;
        longest.resize(MAX_CHAT_DATAGRAM, b'x');
        assert!(PeerDatagram::parse(&longest).is_ok());
        longest.push(b'x');
        assert_eq!(PeerDatagram::parse(&longest), Err(WireError::TooLong));
    }
}
