//! Arbitrary typed messages, built valid from arbitrary parts: every encoder's output parses
//! back to the value it encoded.

use std::net::SocketAddr;

use arbitrary::{Arbitrary, Unstructured};

use crate::wire::{
    canonical, decode_classic_list, encode_classic_list, is_classic_datagram, max_talk_text_units,
    max_text_len, ClassicDatagram, ClientDatagram, ClientLine, Dialect, ErrorReason, Name,
    PeerDatagram, RejectReason, ServerDatagram, ServerLine, SessionId, UserEntry, MAX_CLIENT_LINE,
    MAX_NAME_BYTES, MAX_NAME_CHARS,
};

/// The raw parts of one message of each kind.
#[derive(Debug, Arbitrary)]
enum Message {
    ClientDatagram {
        logout: bool,
        user: RawEntry,
    },
    Accept {
        port: u16,
    },
    Reject(RejectReason),
    ClientLogin(RawEntry),
    ClientLogout(RawEntry),
    Ping,
    Snapshot(Vec<RawEntry>),
    Joined(RawEntry),
    Left(RawEntry),
    Dialect {
        name: String,
        dialect: Dialect,
    },
    Pong,
    Error(ErrorReason),
    Msg {
        from: String,
        sid: RawSessionId,
        seq: u64,
        text: String,
    },
    Ack {
        from: String,
        sid: RawSessionId,
        seq: u64,
    },
    ClassicPresence {
        logout: bool,
        user: RawEntry,
    },
    ClassicAccept {
        port: u16,
    },
    Talk {
        time: String,
        from: String,
        text: String,
    },
    ClassicList(Vec<RawEntry>),
}

#[derive(Debug, Arbitrary)]
struct RawEntry {
    name: String,
    endpoint: SocketAddr,
}

#[derive(Debug, Arbitrary)]
struct RawSessionId {
    value: u64,
    /// Written in uppercase, which must be echoed as received.
    upper: bool,
}

/// Encodes and re-parses every message in `data`.
pub fn roundtrip(data: &[u8]) {
    let Ok(messages) = Vec::<Message>::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    for message in messages {
        check(message);
    }
}

fn check(message: Message) {
    match message {
        Message::ClientDatagram { logout, user } => {
            let entry = entry(user);
            let d = if logout {
                ClientDatagram::Logout(entry)
            } else {
                ClientDatagram::Login(entry)
            };
            let bytes = d.to_vec();
            assert!(!is_classic_datagram(&bytes));
            assert_eq!(ClientDatagram::parse(&bytes), Ok(d));
        }
        Message::Accept { port } => {
            let d = ServerDatagram::Accept {
                tcp_port: port.max(1),
            };
            assert_eq!(ServerDatagram::parse(&d.to_vec()), Ok(d));
        }
        Message::Reject(reason) => {
            let d = ServerDatagram::Reject(reason);
            assert_eq!(ServerDatagram::parse(&d.to_vec()), Ok(d));
        }
        Message::ClientLogin(user) => client_line(ClientLine::Login {
            entry: entry(user),
            key: None,
        }),
        Message::ClientLogout(user) => client_line(ClientLine::Logout(entry(user))),
        Message::Ping => client_line(ClientLine::Ping),
        Message::Snapshot(users) => {
            server_line(ServerLine::Snapshot(users.into_iter().map(entry).collect()))
        }
        Message::Joined(user) => server_line(ServerLine::Login(entry(user))),
        Message::Left(user) => server_line(ServerLine::Logout(entry(user))),
        Message::Dialect { name: raw, dialect } => server_line(ServerLine::Dialect {
            name: name(&raw),
            dialect,
        }),
        Message::Pong => server_line(ServerLine::Pong),
        Message::Error(reason) => server_line(ServerLine::Error(reason)),
        Message::Msg {
            from,
            sid,
            seq,
            text,
        } => {
            let from = name(&from);
            let seq = seq.max(1);
            let text = truncate(&text, max_text_len(&from, seq));
            if text.is_empty() {
                return;
            }
            peer(PeerDatagram::Msg {
                from,
                sid: session_id(&sid),
                seq,
                text,
            })
        }
        Message::Ack { from, sid, seq } => peer(PeerDatagram::Ack {
            from: name(&from),
            sid: session_id(&sid),
            seq: seq.max(1),
        }),
        Message::ClassicPresence { logout, user } => {
            let entry = entry(user);
            classic(if logout {
                ClassicDatagram::Logout(entry)
            } else {
                ClassicDatagram::Login(entry)
            })
        }
        Message::ClassicAccept { port } => classic(ClassicDatagram::Accept {
            tcp_port: port.max(1),
        }),
        Message::Talk { time, from, text } => {
            let time: String = time.chars().filter(|&c| c != ',').collect();
            let from = name(&from);
            let room = max_talk_text_units(&time, &from);
            let text: String = text
                .chars()
                .scan(0, |units, c| {
                    *units += c.len_utf16();
                    (*units <= room).then_some(c)
                })
                .collect();
            if text.is_empty() {
                return;
            }
            classic(ClassicDatagram::Talk { time, from, text })
        }
        Message::ClassicList(users) => {
            let entries: Vec<UserEntry> = users.into_iter().map(entry).collect();
            let mut bytes = Vec::new();
            encode_classic_list(entries.iter().map(|e| (&e.name, e.endpoint)), &mut bytes);
            assert_eq!(
                decode_classic_list(&bytes),
                Ok(Some((entries, bytes.len())))
            );
        }
    }
}

fn client_line(line: ClientLine) {
    let bytes = line.to_vec();
    assert!(bytes.len() <= MAX_CLIENT_LINE + 1, "a line over the limit");
    assert_eq!(ClientLine::parse(&bytes), Ok(line));
}

fn server_line(line: ServerLine) {
    assert_eq!(ServerLine::parse(&line.to_vec()), Ok(line));
}

/// A peer datagram round-trips, and its session id keeps its digits as written (an `ack` must
/// echo them exactly), not just its value.
fn peer(d: PeerDatagram<'_>) {
    let bytes = d.to_vec();
    assert!(!is_classic_datagram(&bytes));
    let parsed = PeerDatagram::parse(&bytes);
    assert_eq!(parsed.as_ref(), Ok(&d));
    let digits = |d: &PeerDatagram<'_>| match d {
        PeerDatagram::Msg { sid, .. } | PeerDatagram::Ack { sid, .. } => sid.as_str().to_owned(),
    };
    assert_eq!(
        parsed.map(|p| digits(&p)),
        Ok(digits(&d)),
        "session id digits"
    );
}

fn classic(d: ClassicDatagram) {
    let bytes = d.to_vec();
    assert!(is_classic_datagram(&bytes));
    assert_eq!(ClassicDatagram::parse(&bytes), Ok(d));
}

/// A valid name made of what `raw` holds: separators and control characters dropped, outer
/// white space trimmed, cut to the limits; `x` if nothing is left.
fn name(raw: &str) -> Name {
    let kept: String = raw
        .chars()
        .filter(|&c| c != ',' && c != ';' && !c.is_control())
        .collect();
    let mut cut = String::new();
    for c in kept.trim().chars().take(MAX_NAME_CHARS) {
        if cut.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        cut.push(c);
    }
    Name::new(cut.trim())
        .or_else(|_| Name::new("x"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn entry(raw: RawEntry) -> UserEntry {
    UserEntry::new(name(&raw.name), canonical(raw.endpoint))
}

fn session_id(raw: &RawSessionId) -> SessionId {
    if raw.upper {
        let digits = format!("{:016X}", raw.value);
        SessionId::parse(&digits).unwrap_or_else(|e| panic!("{digits}: {e}"))
    } else {
        SessionId::new(raw.value)
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
