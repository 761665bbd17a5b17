//! Members, log entries and mail as Redis stores them (see [`super::scripts`]), and back. What
//! comes back from Redis is checked like any input: a malformed entry is skipped and logged,
//! never trusted and never a panic.

use std::net::SocketAddr;

use feige_core::server::cluster::{Mail, Member, NodeId, StoreEvent};
use feige_core::wire::{Name, PublicKey, RelayPayload, UserEntry};

/// A member's key as stored: hex, or `-`.
pub fn key_text(key: Option<PublicKey>) -> String {
    key.map_or_else(|| "-".to_owned(), |k| k.to_string())
}

/// Whether a member is classic, as stored.
pub fn classic_text(classic: bool) -> &'static str {
    if classic {
        "1"
    } else {
        "0"
    }
}

/// A member from its name and `users` hash value, `node endpoint key classic` (as the `JOIN`
/// script writes it).
pub fn parse_member(name: &str, value: &str) -> Option<Member> {
    let mut parts = value.split(' ');
    let (node, endpoint, key, classic) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    member(name, node, endpoint, key, classic)
}

fn member(name: &str, node: &str, endpoint: &str, key: &str, classic: &str) -> Option<Member> {
    let key = match key {
        "-" => None,
        hex => Some(PublicKey::parse(hex).ok()?),
    };
    let classic = match classic {
        "1" => true,
        "0" => false,
        _ => return None,
    };
    Some(Member {
        node: NodeId::parse(node)?,
        entry: UserEntry {
            name: Name::new(name).ok()?,
            endpoint: endpoint.parse::<SocketAddr>().ok()?,
        },
        key,
        classic,
    })
}

/// The value of `field` among a stream entry's field, value pairs.
fn field<'a>(fields: &'a [String], name: &str) -> Option<&'a str> {
    fields
        .chunks_exact(2)
        .find(|pair| pair[0] == name)
        .map(|pair| pair[1].as_str())
}

/// A log entry: a join or a leave.
pub fn parse_log_entry(fields: &[String]) -> Option<StoreEvent> {
    let node = field(fields, "n")?;
    let name = field(fields, "u")?;
    match field(fields, "o")? {
        "j" => {
            let endpoint = field(fields, "e")?;
            let key = field(fields, "k")?;
            let classic = field(fields, "c")?;
            member(name, node, endpoint, key, classic).map(StoreEvent::Joined)
        }
        "l" => Some(StoreEvent::Left {
            node: NodeId::parse(node)?,
            name: Name::new(name).ok()?,
        }),
        _ => None,
    }
}

/// A mail entry's fields, `from` sending.
pub fn mail_fields(from: NodeId, mail: &Mail) -> Vec<(&'static str, String)> {
    let from = ("f", from.to_string());
    match mail {
        Mail::Relay {
            from: sender,
            to,
            payload,
        } => vec![
            from,
            ("t", "r".to_owned()),
            ("a", sender.to_string()),
            ("b", to.to_string()),
            ("p", payload.as_str().to_owned()),
        ],
        Mail::Intro { from: asker, to } => vec![
            from,
            ("t", "i".to_owned()),
            ("a", asker.name.to_string()),
            ("b", to.to_string()),
            ("p", asker.endpoint.to_string()),
        ],
    }
}

/// A mail entry.
pub fn parse_mail(fields: &[String]) -> Option<StoreEvent> {
    let from = NodeId::parse(field(fields, "f")?)?;
    let sender = Name::new(field(fields, "a")?).ok()?;
    let to = Name::new(field(fields, "b")?).ok()?;
    let p = field(fields, "p")?;
    let mail = match field(fields, "t")? {
        "r" => Mail::Relay {
            from: sender,
            to,
            payload: RelayPayload::parse(p).ok()?,
        },
        "i" => Mail::Intro {
            from: UserEntry {
                name: sender,
                endpoint: p.parse().ok()?,
            },
            to,
        },
        _ => return None,
    };
    Some(StoreEvent::Mail { from, mail })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the `JOIN` script stores.
    fn member_value(member: &Member) -> String {
        format!(
            "{} {} {} {}",
            member.node,
            member.entry.endpoint,
            key_text(member.key),
            classic_text(member.classic)
        )
    }

    fn strings(pairs: &[(&str, String)]) -> Vec<String> {
        pairs
            .iter()
            .flat_map(|(k, v)| [(*k).to_owned(), v.clone()])
            .collect()
    }

    #[test]
    fn members_round_trip_and_garbage_is_refused() {
        let member = Member {
            node: NodeId(0x0123_4567_89ab_cdef),
            entry: UserEntry {
                name: Name::new("bob smith").expect("a name"),
                endpoint: "[2001:db8::1]:4000".parse().expect("an endpoint"),
            },
            key: Some(PublicKey::from_bytes([7; 32])),
            classic: false,
        };
        let value = member_value(&member);
        assert_eq!(parse_member("bob smith", &value), Some(member.clone()));
        let classic = Member {
            key: None,
            classic: true,
            ..member
        };
        assert_eq!(
            parse_member("bob smith", &member_value(&classic)),
            Some(classic)
        );
        for bad in [
            "",
            "0123456789abcdef 1.2.3.4:5 - 2",
            "0123456789abcdef 1.2.3.4:5 - 0 extra",
            "nothex 1.2.3.4:5 - 0",
            "0123456789abcdef not-an-endpoint - 0",
            "0123456789abcdef 1.2.3.4:5 zz 0",
        ] {
            assert_eq!(parse_member("bob", bad), None, "{bad:?}");
        }
        assert_eq!(parse_member("", &value), None, "a name must be valid");
    }

    #[test]
    fn mail_round_trips() {
        let from = NodeId(42);
        let relay = Mail::Relay {
            from: Name::new("alice").expect("a name"),
            to: Name::new("小明").expect("a name"),
            payload: RelayPayload::encode(b"sealed bytes").expect("small"),
        };
        let intro = Mail::Intro {
            from: UserEntry {
                name: Name::new("alice").expect("a name"),
                endpoint: "198.51.100.7:40001".parse().expect("an endpoint"),
            },
            to: Name::new("bob").expect("a name"),
        };
        for mail in [relay, intro] {
            let fields = strings(&mail_fields(from, &mail));
            assert_eq!(
                parse_mail(&fields),
                Some(StoreEvent::Mail {
                    from,
                    mail: mail.clone()
                })
            );
            assert_eq!(parse_mail(&fields[..fields.len() - 2]), None);
        }
    }
}
