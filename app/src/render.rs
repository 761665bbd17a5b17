//! Events as output lines: one JSON object per line for programs (`--json`), or plain lines for a
//! person. The JSON names and fields are those of the design (`docs/architecture.md`).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use feige_core::client::{ClientEvent, Via};
use feige_core::server::ServerEvent;
use feige_core::wire::{Name, UserEntry};
use serde::Serialize;

use super::chat::{local_at, utc_at, ChatEvent};
use crate::driver::Listening;
use crate::server_log::LogLine;
use crate::store::{HistoryEntry, HistoryStatus};

/// How events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// Lines for a person, with `✓`, `✗` and `→` markers.
    Human,
    /// Lines for a person, ASCII markers only.
    Plain,
}

#[derive(Serialize)]
struct UserJson<'a> {
    name: &'a str,
    endpoint: SocketAddr,
}

impl<'a> From<&'a UserEntry> for UserJson<'a> {
    fn from(user: &'a UserEntry) -> Self {
        UserJson {
            name: user.name.as_str(),
            endpoint: user.endpoint,
        }
    }
}

fn users_json(users: &[UserEntry]) -> Vec<UserJson<'_>> {
    users.iter().map(UserJson::from).collect()
}

#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum ChatJson<'a> {
    LoggedIn {
        name: &'a str,
        endpoint: SocketAddr,
        users: Vec<UserJson<'a>>,
    },
    Users {
        users: Vec<UserJson<'a>>,
    },
    Joined(UserJson<'a>),
    Left(UserJson<'a>),
    Message {
        from: &'a str,
        text: &'a str,
        encrypted: bool,
    },
    Queued {
        to: &'a str,
        id: u64,
    },
    Sent {
        to: &'a str,
        id: u64,
    },
    Delivered {
        to: &'a str,
        id: u64,
        encrypted: bool,
    },
    Failed {
        to: &'a str,
        id: u64,
        reason: &'a str,
    },
    LoginFailed {
        reason: &'a str,
    },
    Disconnected {
        reason: &'a str,
    },
    Error {
        message: &'a str,
    },
    KeyPinned {
        name: &'a str,
        fingerprint: String,
    },
    KeyChanged {
        name: &'a str,
        old: String,
        new: String,
    },
    SafetyNumber {
        name: &'a str,
        number: &'a str,
    },
    Path {
        peer: &'a str,
        via: &'a str,
        endpoint: SocketAddr,
    },
    Reconnecting {
        attempt: u32,
        in_ms: u64,
    },
    Reconnected {
        name: &'a str,
        endpoint: SocketAddr,
        users: Vec<UserJson<'a>>,
    },
    LoggedOut {},
}

/// A chat event as JSON: one object per line — one line, but for a `/history` answer, whose
/// every message is one.
fn chat_json(event: &ChatEvent) -> String {
    let object = match event {
        ChatEvent::Users(users) => ChatJson::Users {
            users: users_json(users),
        },
        ChatEvent::Error(message) => ChatJson::Error { message },
        ChatEvent::History { with, entries } => {
            return history(with, entries, Format::Json, &Marks::ASCII)
        }
        ChatEvent::SafetyNumber { name, number } => ChatJson::SafetyNumber {
            name: name.as_str(),
            number,
        },
        ChatEvent::Core(core) => match core {
            ClientEvent::LoggedIn { me, users } => ChatJson::LoggedIn {
                name: me.name.as_str(),
                endpoint: me.endpoint,
                users: users_json(users),
            },
            ClientEvent::Joined(user) => ChatJson::Joined(user.into()),
            ClientEvent::Left(user) => ChatJson::Left(user.into()),
            ClientEvent::Message {
                from,
                text,
                encrypted,
            } => ChatJson::Message {
                from: from.as_str(),
                text,
                encrypted: *encrypted,
            },
            ClientEvent::Queued { to, id } => ChatJson::Queued {
                to: to.as_str(),
                id: id.0,
            },
            ClientEvent::Sent { to, id } => ChatJson::Sent {
                to: to.as_str(),
                id: id.0,
            },
            ClientEvent::Delivered { to, id, encrypted } => ChatJson::Delivered {
                to: to.as_str(),
                id: id.0,
                encrypted: *encrypted,
            },
            ClientEvent::KeyPinned { name, key } => ChatJson::KeyPinned {
                name: name.as_str(),
                fingerprint: key.fingerprint(),
            },
            ClientEvent::KeyChanged { name, old, new } => ChatJson::KeyChanged {
                name: name.as_str(),
                old: old.fingerprint(),
                new: new.fingerprint(),
            },
            ClientEvent::Failed { to, id, reason } => ChatJson::Failed {
                to: to.as_str(),
                id: id.0,
                reason: reason.as_str(),
            },
            ClientEvent::Path {
                peer,
                via,
                endpoint,
            } => ChatJson::Path {
                peer: peer.as_str(),
                via: via.as_str(),
                endpoint: *endpoint,
            },
            ClientEvent::Reconnecting { attempt, in_ms } => ChatJson::Reconnecting {
                attempt: *attempt,
                in_ms: *in_ms,
            },
            ClientEvent::Reconnected { me, users } => ChatJson::Reconnected {
                name: me.name.as_str(),
                endpoint: me.endpoint,
                users: users_json(users),
            },
            ClientEvent::LoginFailed(reason) => ChatJson::LoginFailed {
                reason: reason.as_str(),
            },
            ClientEvent::Disconnected(reason) => ChatJson::Disconnected {
                reason: reason.as_str(),
            },
            ClientEvent::LoggedOut => ChatJson::LoggedOut {},
        },
    };
    to_json_line(&object)
}

/// Server output, `--json`. `listening` comes first; the others follow the core's
/// [`ServerEvent`]s as the server's log passes them on (see [`LogLine`]).
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum ServerJson<'a> {
    Listening {
        udp: SocketAddr,
        tcp: SocketAddr,
        #[serde(skip_serializing_if = "Option::is_none")]
        metrics: Option<SocketAddr>,
    },
    Accepted {
        name: &'a str,
        from: SocketAddr,
    },
    Rejected {
        /// The source IP, or `*` for sources past the tally's bound.
        from_ip: String,
        reason: &'a str,
        count: u64,
        /// Seconds the count covers; 0 for the first refusal from a source, reported at once.
        interval_s: u64,
    },
    Joined {
        name: &'a str,
        endpoint: SocketAddr,
    },
    Left {
        name: &'a str,
        endpoint: SocketAddr,
        reason: &'a str,
    },
    ConnectionRefused {
        conn: u64,
        reason: &'a str,
    },
    EventsDropped {
        count: u64,
    },
    /// The cluster's store can be reached (`up`) or not (`down`).
    Cluster {
        store: &'static str,
    },
    /// Another coordinator lost its lease: its members are unlisted everywhere.
    NodeLost {
        node: String,
    },
}

impl<'a> From<&'a LogLine> for ServerJson<'a> {
    fn from(line: &'a LogLine) -> Self {
        let event = match line {
            LogLine::Event(event) => event,
            LogLine::Refused {
                from_ip,
                reason,
                count,
                interval,
            } => {
                return ServerJson::Rejected {
                    from_ip: from_ip.map_or_else(|| "*".to_owned(), |ip| ip.to_string()),
                    reason: reason.as_str(),
                    count: *count,
                    interval_s: interval.as_secs(),
                }
            }
            LogLine::Dropped(count) => return ServerJson::EventsDropped { count: *count },
        };
        match event {
            ServerEvent::Accepted { name, from } => ServerJson::Accepted {
                name: name.as_str(),
                from: *from,
            },
            ServerEvent::Rejected { from, reason } => ServerJson::Rejected {
                from_ip: from.ip().to_string(),
                reason: reason.as_str(),
                count: 1,
                interval_s: 0,
            },
            ServerEvent::Joined { name, endpoint } => ServerJson::Joined {
                name: name.as_str(),
                endpoint: *endpoint,
            },
            ServerEvent::Left {
                name,
                endpoint,
                reason,
            } => ServerJson::Left {
                name: name.as_str(),
                endpoint: *endpoint,
                reason: reason.as_str(),
            },
            ServerEvent::ConnectionRefused { conn, reason } => ServerJson::ConnectionRefused {
                conn: conn.0,
                reason: reason.as_str(),
            },
            ServerEvent::Store { up } => ServerJson::Cluster {
                store: if *up { "up" } else { "down" },
            },
            ServerEvent::Reaping { node } => ServerJson::NodeLost {
                node: node.to_string(),
            },
        }
    }
}

fn to_json_line(value: &impl Serialize) -> String {
    // These types hold only strings, numbers and addresses: serialising them cannot fail.
    serde_json::to_string(value)
        .unwrap_or_else(|e| format!(r#"{{"event":"error","message":"{e}"}}"#))
}

/// One message of `/history`, `--json`.
#[derive(Serialize)]
struct HistoryJson<'a> {
    event: &'static str,
    with: &'a str,
    from: &'a str,
    text: &'a str,
    /// RFC 3339, UTC.
    at: String,
    /// `received`, `queued`, `delivered`, `failed`, or `sent` (ours to a textbook peer, which
    /// nothing acknowledges).
    status: &'static str,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// Received sealed end to end.
    #[serde(skip_serializing_if = "Option::is_none")]
    encrypted: Option<bool>,
    /// Ours: the id its `sent`/`delivered`/`failed` events named.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
}

impl<'a> HistoryJson<'a> {
    fn new(with: &'a Name, entry: &'a HistoryEntry) -> Self {
        let (status, reason, encrypted) = match &entry.status {
            HistoryStatus::Received { encrypted } => ("received", None, Some(*encrypted)),
            HistoryStatus::Queued => ("queued", None, None),
            HistoryStatus::Sent => ("sent", None, None),
            HistoryStatus::Delivered => ("delivered", None, None),
            HistoryStatus::Failed(reason) => ("failed", Some(reason.as_str()), None),
        };
        HistoryJson {
            event: "history",
            with: with.as_str(),
            from: entry.from.as_str(),
            text: &entry.text,
            at: rfc3339(entry.at_ms),
            status,
            reason,
            encrypted,
            id: entry.id.map(|id| id.0),
        }
    }
}

/// Unix milliseconds as RFC 3339 in UTC (`2026-12-06T21:05:07.123Z`).
fn rfc3339(ms: u64) -> String {
    utc_at(ms).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `/history`: one JSON object per message, or readable lines.
fn history(with: &Name, entries: &[HistoryEntry], format: Format, marks: &Marks) -> String {
    if format == Format::Json {
        let lines: Vec<String> = entries
            .iter()
            .map(|entry| to_json_line(&HistoryJson::new(with, entry)))
            .collect();
        return lines.join("\n");
    }
    if entries.is_empty() {
        return format!("* no history with {}", printable(with.as_str()));
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|entry| {
            let mark = match &entry.status {
                HistoryStatus::Received { encrypted: true } => " ".to_owned(),
                HistoryStatus::Received { encrypted: false } => "(unencrypted) ".to_owned(),
                HistoryStatus::Queued | HistoryStatus::Sent => format!("{} ", marks.sent),
                HistoryStatus::Delivered => format!("{} ", marks.ok),
                HistoryStatus::Failed(why) => format!("{} ({why}) ", marks.failed),
            };
            format!(
                "[{}] {mark}<{}> {}",
                local_at(entry.at_ms).format("%Y-%m-%d %H:%M"),
                printable(entry.from.as_str()),
                printable(&entry.text).replace('\n', "\n    ")
            )
        })
        .collect();
    lines.join("\n")
}

/// A chat event as text to print: one line with [`Format::Json`] (a `/history` answer: one per
/// message), one or more otherwise.
pub fn chat_event(event: &ChatEvent, format: Format) -> String {
    let marks = match format {
        Format::Json => return chat_json(event),
        Format::Human => Marks::UNICODE,
        Format::Plain => Marks::ASCII,
    };
    match event {
        ChatEvent::Users(users) => online_list(users),
        ChatEvent::Error(message) => format!("! {}", printable(message)),
        ChatEvent::History { with, entries } => history(with, entries, format, &marks),
        ChatEvent::SafetyNumber { name, number } => format!(
            "* safety number with {}: {} (compare it with theirs, out of band)",
            printable(name.as_str()),
            grouped(number, 5)
        ),
        ChatEvent::Core(core) => match core {
            ClientEvent::LoggedIn { me, users } => format!(
                "* logged in as {} ({})\n{}",
                printable(me.name.as_str()),
                me.endpoint,
                online_list(users)
            ),
            ClientEvent::Joined(user) => {
                format!(
                    "* {} joined ({})",
                    printable(user.name.as_str()),
                    user.endpoint
                )
            }
            ClientEvent::Left(user) => {
                format!(
                    "* {} left ({})",
                    printable(user.name.as_str()),
                    user.endpoint
                )
            }
            ClientEvent::Message {
                from,
                text,
                encrypted,
            } => {
                let indent = " ".repeat(from.as_str().chars().count() + 3);
                let body = printable(text).replace('\n', &format!("\n{indent}"));
                let plain = if *encrypted { "" } else { "(unencrypted) " };
                format!("<{}> {plain}{body}", printable(from.as_str()))
            }
            ClientEvent::KeyPinned { name, key } => format!(
                "* key of {} pinned: {}",
                printable(name.as_str()),
                grouped(&key.fingerprint(), 4)
            ),
            ClientEvent::KeyChanged { name, old, new } => {
                let name = printable(name.as_str());
                format!(
                    "! the key of {name} changed: was {}, now {}; chat with {name} is held \
                     until you /trust {name} (compare /verify {name} with them first)",
                    grouped(&old.fingerprint(), 4),
                    grouped(&new.fingerprint(), 4)
                )
            }
            ClientEvent::Queued { to, id } => format!(
                "{} queued for {} #{id}: they are offline; it goes when they come online",
                marks.sent,
                printable(to.as_str())
            ),
            ClientEvent::Sent { to, id } => {
                format!("{} sent to {} #{id}", marks.sent, printable(to.as_str()))
            }
            ClientEvent::Delivered { to, id, .. } => {
                format!("{} delivered to {} #{id}", marks.ok, printable(to.as_str()))
            }
            ClientEvent::Failed { to, id, reason } => format!(
                "{} not delivered to {} #{id}: {reason}",
                marks.failed,
                printable(to.as_str())
            ),
            ClientEvent::Path {
                peer,
                via: Via::Direct,
                endpoint,
            } => format!(
                "* chat with {} goes direct ({endpoint})",
                printable(peer.as_str())
            ),
            ClientEvent::Path {
                peer,
                via: Via::Relay,
                endpoint,
            } => format!(
                "* chat with {} goes through the server's relay ({endpoint}): no direct path",
                printable(peer.as_str())
            ),
            ClientEvent::Reconnecting { attempt, in_ms } => format!(
                "! the server is away: logging in again in {:.1} s (attempt {attempt}); chat \
                 with those online goes on",
                Duration::from_millis(*in_ms).as_secs_f64()
            ),
            ClientEvent::Reconnected { me, users } => format!(
                "* back online as {} ({})\n{}",
                printable(me.name.as_str()),
                me.endpoint,
                online_list(users)
            ),
            ClientEvent::LoginFailed(reason) => format!("! login failed: {reason}"),
            ClientEvent::Disconnected(reason) => format!("! disconnected: {reason}"),
            ClientEvent::LoggedOut => "* logged out".to_owned(),
        },
    }
}

/// The server's first line: where it listens (`metrics` only when it serves them).
pub fn listening(at: Listening, format: Format) -> String {
    let Listening { udp, tcp, metrics } = at;
    match format {
        Format::Json => to_json_line(&ServerJson::Listening { udp, tcp, metrics }),
        Format::Human | Format::Plain => match metrics {
            Some(metrics) => format!("listening udp={udp} tcp={tcp} metrics={metrics}"),
            None => format!("listening udp={udp} tcp={tcp}"),
        },
    }
}

/// A line of the server's log.
pub fn log_line(line: &LogLine, format: Format) -> String {
    if format == Format::Json {
        return to_json_line(&ServerJson::from(line));
    }
    let event = match line {
        LogLine::Event(event) => event,
        LogLine::Refused {
            from_ip,
            reason,
            count,
            interval,
        } => {
            let from = from_ip.map_or_else(|| "further sources".to_owned(), |ip| ip.to_string());
            return if interval.is_zero() {
                format!("rejected a login from {from}: {reason}")
            } else {
                format!(
                    "rejected {count} more login(s) from {from} in {} s: {reason}",
                    interval.as_secs()
                )
            };
        }
        LogLine::Dropped(count) => {
            return format!("({count} line(s) dropped here: the output was not read fast enough)")
        }
    };
    match event {
        ServerEvent::Accepted { name, from } => {
            format!("accepted {} from {from}", printable(name.as_str()))
        }
        ServerEvent::Rejected { from, reason } => {
            format!("rejected a login from {}: {reason}", from.ip())
        }
        ServerEvent::Joined { name, endpoint } => {
            format!("joined {} ({endpoint})", printable(name.as_str()))
        }
        ServerEvent::Left {
            name,
            endpoint,
            reason,
        } => format!("left {} ({endpoint}): {reason}", printable(name.as_str())),
        ServerEvent::ConnectionRefused { conn, reason } => {
            format!("refused connection #{}: {reason}", conn.0)
        }
        ServerEvent::Store { up: true } => {
            "the cluster's store is reached: presence is shared".to_owned()
        }
        ServerEvent::Store { up: false } => {
            "the cluster's store is out of reach: logins are refused until it is back".to_owned()
        }
        ServerEvent::Reaping { node } => {
            format!("coordinator {node} lost its lease: its users are unlisted")
        }
    }
}

/// `text` in groups of `size` characters, for a person to read out.
fn grouped(text: &str, size: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The markers in front of delivery lines.
struct Marks {
    sent: &'static str,
    ok: &'static str,
    failed: &'static str,
}

impl Marks {
    const UNICODE: Marks = Marks {
        sent: "→",
        ok: "✓",
        failed: "✗",
    };
    const ASCII: Marks = Marks {
        sent: "->",
        ok: "ok",
        failed: "!!",
    };
}

fn online_list(users: &[UserEntry]) -> String {
    let mut out = format!("* online ({}):", users.len());
    for (i, user) in users.iter().enumerate() {
        let sep = if i == 0 { " " } else { ", " };
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{sep}{} ({})",
            printable(user.name.as_str()),
            user.endpoint
        );
    }
    out
}

/// Text from the network with control characters escaped, so a peer cannot drive the user's
/// terminal; newlines stay (a message may span lines).
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use feige_core::client::{FailReason, LoginFailure, MessageId};
    use feige_core::server::{ConnId, LeaveReason};
    use feige_core::wire::{ErrorReason, Name, PublicKey, RejectReason};
    use serde_json::{json, Value};

    fn user(name: &str, ep: &str) -> UserEntry {
        UserEntry::new(Name::new(name).unwrap(), ep.parse().unwrap())
    }

    fn json_of(event: ClientEvent) -> Value {
        serde_json::from_str(&chat_event(&ChatEvent::Core(event), Format::Json)).unwrap()
    }

    #[test]
    fn logged_in_lists_everyone_with_bracketed_ipv6() {
        let me = user("alice", "[::1]:4000");
        let users = vec![user("bob", "127.0.0.1:5000"), me.clone()];
        assert_eq!(
            json_of(ClientEvent::LoggedIn { me, users }),
            json!({"event":"logged_in","name":"alice","endpoint":"[::1]:4000","users":[
                {"name":"bob","endpoint":"127.0.0.1:5000"},{"name":"alice","endpoint":"[::1]:4000"}]})
        );
    }

    #[test]
    fn every_client_event_has_its_design_name_and_fields() {
        let bob = Name::new("bob").unwrap();
        let cases = [
            (
                ClientEvent::Joined(user("小明", "127.0.0.1:1")),
                json!({"event":"joined","name":"小明","endpoint":"127.0.0.1:1"}),
            ),
            (
                ClientEvent::Left(user("bob", "127.0.0.1:2")),
                json!({"event":"left","name":"bob","endpoint":"127.0.0.1:2"}),
            ),
            (
                ClientEvent::Message {
                    from: bob.clone(),
                    text: "hi, \"you\"\n".into(),
                    encrypted: true,
                },
                json!({"event":"message","from":"bob","text":"hi, \"you\"\n","encrypted":true}),
            ),
            (
                ClientEvent::Sent {
                    to: bob.clone(),
                    id: MessageId(3),
                },
                json!({"event":"sent","to":"bob","id":3}),
            ),
            (
                ClientEvent::Delivered {
                    to: bob.clone(),
                    id: MessageId(3),
                    encrypted: true,
                },
                json!({"event":"delivered","to":"bob","id":3,"encrypted":true}),
            ),
            (
                ClientEvent::KeyChanged {
                    name: bob.clone(),
                    old: PublicKey::from_bytes([1; 32]),
                    new: PublicKey::from_bytes([2; 32]),
                },
                json!({"event":"key_changed","name":"bob",
                       "old":PublicKey::from_bytes([1; 32]).fingerprint(),
                       "new":PublicKey::from_bytes([2; 32]).fingerprint()}),
            ),
            (
                ClientEvent::Failed {
                    to: bob,
                    id: MessageId(4),
                    reason: FailReason::Expired,
                },
                json!({"event":"failed","to":"bob","id":4,"reason":"expired"}),
            ),
            (
                ClientEvent::LoginFailed(LoginFailure::Rejected(RejectReason::NameTaken)),
                json!({"event":"login_failed","reason":"name-taken"}),
            ),
            (ClientEvent::LoggedOut, json!({"event":"logged_out"})),
        ];
        for (event, expected) in cases {
            assert_eq!(json_of(event), expected);
        }
    }

    #[test]
    fn answers_are_json_too() {
        let users = chat_event(
            &ChatEvent::Users(vec![user("a", "127.0.0.1:1")]),
            Format::Json,
        );
        assert_eq!(
            serde_json::from_str::<Value>(&users).unwrap(),
            json!({"event":"users","users":[{"name":"a","endpoint":"127.0.0.1:1"}]})
        );
        let error = chat_event(&ChatEvent::Error("no such user".into()), Format::Json);
        assert_eq!(
            serde_json::from_str::<Value>(&error).unwrap(),
            json!({"event":"error","message":"no such user"})
        );
    }

    #[test]
    fn json_is_one_line() {
        let event = ChatEvent::Core(ClientEvent::Message {
            from: Name::new("bob").unwrap(),
            text: "a\nb\r\n".into(),
            encrypted: true,
        });
        assert!(!chat_event(&event, Format::Json).contains('\n'));
    }

    #[test]
    fn human_lines() {
        let bob = Name::new("bob").unwrap();
        let show = |e: ClientEvent| chat_event(&ChatEvent::Core(e), Format::Human);
        assert_eq!(
            show(ClientEvent::Joined(user("bob", "127.0.0.1:4000"))),
            "* bob joined (127.0.0.1:4000)"
        );
        assert_eq!(
            show(ClientEvent::Message {
                from: bob.clone(),
                text: "hi".into(),
                encrypted: true,
            }),
            "<bob> hi"
        );
        assert_eq!(
            show(ClientEvent::Message {
                from: bob.clone(),
                text: "hi".into(),
                encrypted: false,
            }),
            "<bob> (unencrypted) hi"
        );
        assert_eq!(
            show(ClientEvent::Delivered {
                to: bob.clone(),
                id: MessageId(3),
                encrypted: true,
            }),
            "✓ delivered to bob #3"
        );
        let number = chat_event(
            &ChatEvent::SafetyNumber {
                name: bob.clone(),
                number: "0123456789".repeat(6),
            },
            Format::Human,
        );
        assert!(number.contains("01234 56789 01234"), "{number}");
        assert_eq!(
            show(ClientEvent::LoginFailed(LoginFailure::Refused(
                ErrorReason::IpMismatch
            ))),
            "! login failed: ip-mismatch"
        );
        let plain = chat_event(
            &ChatEvent::Core(ClientEvent::Delivered {
                to: bob,
                id: MessageId(3),
                encrypted: true,
            }),
            Format::Plain,
        );
        assert!(plain.is_ascii());
    }

    #[test]
    fn control_characters_from_peers_are_escaped() {
        let line = chat_event(
            &ChatEvent::Core(ClientEvent::Message {
                from: Name::new("eve").unwrap(),
                text: "\u{1b}[2Jgone\nsecond".into(),
                encrypted: true,
            }),
            Format::Human,
        );
        assert!(!line.contains('\u{1b}'));
        assert_eq!(line, "<eve> \\u{1b}[2Jgone\n      second");
    }

    #[test]
    fn server_lines() {
        let left = ServerEvent::Left {
            name: Name::new("bob").unwrap(),
            endpoint: "127.0.0.1:2".parse().unwrap(),
            reason: LeaveReason::SlowConsumer,
        };
        assert_eq!(
            serde_json::from_str::<Value>(&log_line(&LogLine::Event(left), Format::Json)).unwrap(),
            json!({"event":"left","name":"bob","endpoint":"127.0.0.1:2","reason":"slow-consumer"})
        );
        let refused = ServerEvent::ConnectionRefused {
            conn: ConnId(7),
            reason: ErrorReason::LineTooLong,
        };
        assert_eq!(
            serde_json::from_str::<Value>(&log_line(&LogLine::Event(refused), Format::Json))
                .unwrap(),
            json!({"event":"connection_refused","conn":7,"reason":"line-too-long"})
        );
        let tallied = LogLine::Refused {
            from_ip: Some("192.0.2.7".parse().unwrap()),
            reason: RejectReason::RateLimited,
            count: 41,
            interval: std::time::Duration::from_secs(1),
        };
        assert_eq!(
            serde_json::from_str::<Value>(&log_line(&tallied, Format::Json)).unwrap(),
            json!({"event":"rejected","from_ip":"192.0.2.7","reason":"rate-limited","count":41,"interval_s":1})
        );
        let others = LogLine::Refused {
            from_ip: None,
            reason: RejectReason::BadRequest,
            count: 3,
            interval: std::time::Duration::from_secs(1),
        };
        assert_eq!(
            serde_json::from_str::<Value>(&log_line(&others, Format::Json)).unwrap()["from_ip"],
            json!("*")
        );
        assert_eq!(
            serde_json::from_str::<Value>(&log_line(&LogLine::Dropped(12), Format::Json)).unwrap(),
            json!({"event":"events_dropped","count":12})
        );
        let at = Listening {
            udp: "127.0.0.1:9000".parse().unwrap(),
            tcp: "[::1]:9001".parse().unwrap(),
            metrics: None,
        };
        assert_eq!(
            listening(at, Format::Json),
            r#"{"event":"listening","udp":"127.0.0.1:9000","tcp":"[::1]:9001"}"#
        );
        assert_eq!(
            listening(at, Format::Human),
            "listening udp=127.0.0.1:9000 tcp=[::1]:9001"
        );
        let metrics = Some("127.0.0.1:9100".parse().unwrap());
        assert_eq!(
            listening(Listening { metrics, ..at }, Format::Json),
            r#"{"event":"listening","udp":"127.0.0.1:9000","tcp":"[::1]:9001","metrics":"127.0.0.1:9100"}"#
        );
    }
}
