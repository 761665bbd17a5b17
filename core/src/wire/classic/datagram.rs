//! Classic UDP datagrams: the seed's presence messages and `Accept` in UTF-16LE, plus `talk`.

use crate::wire::error::WireError;
use crate::wire::fields::{keyword, name, strip_line_end, utf8};
use crate::wire::name::Name;
use crate::wire::presence::{entry_fields, write_presence, UserEntry};
use crate::wire::udp::ServerDatagram;

use super::utf16::{decode_utf16le, encode_utf16le};

/// Most bytes in one classic datagram: 1200 UTF-16 code units, the same character budget as a
/// native chat datagram's 1200 bytes, so a receive buffer of this size holds any valid one.
pub const MAX_CLASSIC_DATAGRAM: usize = 2400;

/// Everything the classic dialect sends by UDP. The same `login`/`logout` shape goes client →
/// server and, as presence, server → client, so one type serves both directions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassicDatagram {
    /// `login,<name>,<ip>:<port>`: a login, or the server announcing one.
    Login(UserEntry),
    /// `logout,<name>,<ip>:<port>`: a logout, or the server announcing one.
    Logout(UserEntry),
    /// `Accept,<tcpPort>`: fetch the list by TCP from this port.
    Accept {
        /// The server's TCP port.
        tcp_port: u16,
    },
    /// `talk,<time>,<senderName>,<text>`: a chat message, never acknowledged.
    Talk {
        /// The sender's clock as its culture writes it (`21:05:07`, `9:05:07 PM`…): opaque
        /// text without commas, possibly empty.
        time: String,
        /// The sending user.
        from: Name,
        /// The rest of the datagram verbatim: commas and line ends included, never empty.
        text: String,
    },
}

impl ClassicDatagram {
    /// Parses one UTF-16LE datagram of at most [`MAX_CLASSIC_DATAGRAM`] bytes. A `talk` keeps
    /// every character after its third comma as text; the other messages tolerate one trailing
    /// `\n` or `\r\n`, like their native forms.
    pub fn parse(data: &[u8]) -> Result<Self, WireError> {
        if data.len() > MAX_CLASSIC_DATAGRAM {
            return Err(WireError::TooLong);
        }
        let whole = decode_utf16le(data)?;
        if let ("talk", rest) = keyword(&whole) {
            return parse_talk(rest);
        }
        let text = utf8(strip_line_end(whole.as_bytes()))?;
        match keyword(text) {
            ("", "") => Err(WireError::Empty),
            ("login", rest) => entry_fields(rest).map(ClassicDatagram::Login),
            ("logout", rest) => entry_fields(rest).map(ClassicDatagram::Logout),
            ("Accept", _) => match ServerDatagram::parse(text.as_bytes())? {
                ServerDatagram::Accept { tcp_port } => Ok(ClassicDatagram::Accept { tcp_port }),
                ServerDatagram::Reject(_) => Err(WireError::UnknownMessage),
            },
            _ => Err(WireError::UnknownMessage),
        }
    }

    /// Appends the datagram's UTF-16LE bytes to `out`. Nothing is checked: a `talk` whose time
    /// holds a comma, or that is longer than [`MAX_CLASSIC_DATAGRAM`], goes out as given.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut utf8_form = Vec::with_capacity(96);
        match self {
            ClassicDatagram::Login(e) => write_presence(&mut utf8_form, "login", e),
            ClassicDatagram::Logout(e) => write_presence(&mut utf8_form, "logout", e),
            ClassicDatagram::Accept { tcp_port } => ServerDatagram::Accept {
                tcp_port: *tcp_port,
            }
            .encode(&mut utf8_form),
            ClassicDatagram::Talk { time, from, text } => {
                for part in ["talk,", time, ",", from.as_str(), ",", text] {
                    encode_utf16le(part, out);
                }
                return;
            }
        }
        // The native encoders write UTF-8, so nothing is ever replaced here.
        encode_utf16le(&String::from_utf8_lossy(&utf8_form), out);
    }

    /// The datagram's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(192);
        self.encode(&mut out);
        out
    }
}

/// How many UTF-16 code units of text (`text.encode_utf16().count()`) fit in a `talk` from
/// `from` stamped `time`, so the datagram stays within [`MAX_CLASSIC_DATAGRAM`].
pub fn max_talk_text_units(time: &str, from: &Name) -> usize {
    // "talk," + time + "," + from + ","
    let header = 5 + time.encode_utf16().count() + 1 + from.encode_utf16().count() + 1;
    (MAX_CLASSIC_DATAGRAM / 2).saturating_sub(header)
}

/// Parses the `,<time>,<name>,<text>` after `talk`. Fields are cut at `,` only: the time is
/// opaque, and a `;` in the name is reported as a bad name rather than a missing field.
fn parse_talk(rest: &str) -> Result<ClassicDatagram, WireError> {
    let rest = rest
        .strip_prefix(',')
        .ok_or(WireError::MissingField("time"))?;
    let (time, rest) = rest
        .split_once(',')
        .ok_or(WireError::MissingField("name"))?;
    let (raw_from, text) = rest
        .split_once(',')
        .ok_or(WireError::MissingField("text"))?;
    let from = name(raw_from)?;
    if text.is_empty() {
        return Err(WireError::EmptyText);
    }
    Ok(ClassicDatagram::Talk {
        time: time.to_owned(),
        from,
        text: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::NameError;

    fn utf16(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode_utf16le(text, &mut out);
        out
    }

    fn entry(name: &str, ep: &str) -> UserEntry {
        UserEntry::new(Name::new(name).unwrap(), ep.parse().unwrap())
    }

    fn talk(time: &str, from: &str, text: &str) -> ClassicDatagram {
        ClassicDatagram::Talk {
            time: time.into(),
            from: Name::new(from).unwrap(),
            text: text.into(),
        }
    }

    #[test]
    fn login_byte_for_byte() {
        let bytes = ClassicDatagram::Login(entry("bob", "10.0.0.2:43300")).to_vec();
        assert_eq!(
            &bytes[..12],
            [0x6c, 0x00, 0x6f, 0x00, 0x67, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x2c, 0x00]
        );
        assert_eq!(bytes, utf16("login,bob,10.0.0.2:43300"));
        assert_eq!(
            ClassicDatagram::parse(&bytes),
            Ok(ClassicDatagram::Login(entry("bob", "10.0.0.2:43300")))
        );
    }

    #[test]
    fn accept_and_logout_byte_for_byte() {
        let accept = ClassicDatagram::Accept { tcp_port: 9001 };
        assert_eq!(accept.to_vec(), utf16("Accept,9001"));
        assert_eq!(ClassicDatagram::parse(&utf16("Accept,9001")), Ok(accept));
        let logout = ClassicDatagram::Logout(entry("小明", "[::1]:6"));
        assert_eq!(logout.to_vec(), utf16("logout,小明,[::1]:6"));
        assert_eq!(
            ClassicDatagram::parse(&utf16("logout,小明,[::1]:6")),
            Ok(logout)
        );
    }

    #[test]
    fn talk_times_of_every_culture_are_opaque() {
        for time in ["21:05:07", "9:05:07", "9:05:07 PM", "下午 9:05:07", ""] {
            let raw = format!("talk,{time},老王,你好");
            let d = ClassicDatagram::parse(&utf16(&raw)).unwrap();
            assert_eq!(d, talk(time, "老王", "你好"));
            assert_eq!(d.to_vec(), utf16(&raw));
        }
    }

    #[test]
    fn talk_text_keeps_commas_and_line_ends() {
        let raw = utf16("talk,9:05:07 PM,bob,hi, there\r\nsecond line\n");
        let d = ClassicDatagram::parse(&raw).unwrap();
        assert_eq!(d, talk("9:05:07 PM", "bob", "hi, there\r\nsecond line\n"));
        assert_eq!(d.to_vec(), raw);
    }

    #[test]
    fn one_trailing_line_end_is_tolerated_outside_talk() {
        for raw in ["login,a,1.2.3.4:5\n", "login,a,1.2.3.4:5\r\n"] {
            assert_eq!(
                ClassicDatagram::parse(&utf16(raw)),
                Ok(ClassicDatagram::Login(entry("a", "1.2.3.4:5")))
            );
        }
        assert_eq!(
            ClassicDatagram::parse(&utf16("Accept,9001\n")),
            Ok(ClassicDatagram::Accept { tcp_port: 9001 })
        );
        assert_eq!(
            ClassicDatagram::parse(&utf16("login,a,1.2.3.4:5\n\n")),
            Err(WireError::BadEndpoint)
        );
    }

    #[test]
    fn malformed_datagrams_name_their_fault() {
        let cases: [(&[u8], WireError); 4] = [
            (b"l\0o\0g", WireError::BadUtf16),
            (&[0x6c, 0x00, 0x3d, 0xd8], WireError::BadUtf16),
            (b"", WireError::Empty),
            (b"\n\0", WireError::Empty),
        ];
        for (raw, err) in cases {
            assert_eq!(ClassicDatagram::parse(raw), Err(err), "{raw:?}");
        }
        for (raw, err) in [
            ("hello", WireError::UnknownMessage),
            ("Reject,name_taken", WireError::UnknownMessage),
            ("Accept,0", WireError::BadPort),
            ("login,a", WireError::MissingField("endpoint")),
            ("logout,a,1.2.3.4:5,x", WireError::ExtraField),
            ("talk", WireError::MissingField("time")),
            ("talk,9:05:07", WireError::MissingField("name")),
            ("talk,9:05:07,bob", WireError::MissingField("text")),
            ("talk,9:05:07,bob,", WireError::EmptyText),
            (
                "talk,9:05:07,b;b,hi",
                WireError::BadName(NameError::Separator),
            ),
            (
                "talk,9:05:07, bob,hi",
                WireError::BadName(NameError::OuterWhiteSpace),
            ),
        ] {
            assert_eq!(ClassicDatagram::parse(&utf16(raw)), Err(err), "{raw}");
        }
    }

    #[test]
    fn size_limit_is_exact() {
        let from = Name::new("bob").unwrap();
        let room = max_talk_text_units("9:05:07 PM", &from);
        let fits = talk("9:05:07 PM", "bob", &"字".repeat(room)).to_vec();
        assert_eq!(fits.len(), MAX_CLASSIC_DATAGRAM);
        assert!(ClassicDatagram::parse(&fits).is_ok());
        let over = talk("9:05:07 PM", "bob", &"字".repeat(room + 1)).to_vec();
        assert_eq!(ClassicDatagram::parse(&over), Err(WireError::TooLong));
    }
}
