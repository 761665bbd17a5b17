//! The chat program's commands (`/msg NAME TEXT`, `/list`, `/trust NAME`, `/verify NAME`,
//! `/history NAME [N]`, `/quit`), parsed without I/O so every front end reads them alike.

use std::fmt;

/// A command typed by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// `/msg NAME TEXT`: send `text` to the online user `to`.
    Msg {
        /// The online name, as listed.
        to: &'a str,
        /// Everything after the name and one space, verbatim.
        text: &'a str,
    },
    /// `/list`: show who is online.
    List,
    /// `/trust NAME`: believe the key now listed for that online user.
    Trust {
        /// The online name, as listed.
        name: &'a str,
    },
    /// `/verify NAME`: show the safety number shared with that online user.
    Verify {
        /// The online name, as listed.
        name: &'a str,
    },
    /// `/history NAME [N]`: show the last `N` messages exchanged with that contact.
    History {
        /// The contact's name, as known.
        name: &'a str,
        /// How many; `None` for the default.
        count: Option<usize>,
    },
    /// `/quit`: log out and exit.
    Quit,
}

/// Why a line is not a command to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// Nothing but white space.
    Empty,
    /// The line does not start with `/`.
    NotACommand,
    /// `/something` that is not a command.
    Unknown(String),
    /// `/list` or `/quit` followed by something.
    UnexpectedArgument(&'static str),
    /// `/msg`, `/trust` or `/verify` without a name; holds the command.
    MissingName(&'static str),
    /// No online name starts the argument (followed by a space); holds the argument.
    NoSuchUser(String),
    /// `/msg NAME` with nothing to send; holds the name.
    MissingText(String),
}

const USAGE: &str =
    "commands: /msg NAME TEXT, /list, /trust NAME, /verify NAME, /history NAME [N], /quit";

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Empty => write!(f, "empty line; {USAGE}"),
            CommandError::NotACommand => write!(f, "not a command; {USAGE}"),
            CommandError::Unknown(word) => write!(f, "unknown command {word}; {USAGE}"),
            CommandError::UnexpectedArgument(cmd) => write!(f, "{cmd} takes no argument"),
            CommandError::MissingName("/msg") => f.write_str("usage: /msg NAME TEXT"),
            CommandError::MissingName("/history") => f.write_str("usage: /history NAME [N]"),
            CommandError::MissingName(cmd) => write!(f, "usage: {cmd} NAME"),
            CommandError::NoSuchUser(arg) => {
                write!(f, "no contact's name starts \"{arg}\" (see /list)")
            }
            CommandError::MissingText(name) => write!(f, "no text to send to {name}"),
        }
    }
}

impl std::error::Error for CommandError {}

/// Parses one input line (a trailing `\n` or `\r\n` is ignored). `online` holds the names
/// that may be named (those online, and contacts a message may wait for): `/msg` picks the
/// LONGEST of them that the argument starts with, followed by a space, since names may hold
/// inner spaces ("bob" and "bob smith" can both be online).
pub fn parse_command<'a>(
    line: &'a str,
    online: impl IntoIterator<Item = &'a str>,
) -> Result<Command<'a>, CommandError> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line).trim_start();
    if line.trim_end().is_empty() {
        return Err(CommandError::Empty);
    }
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    match word {
        "/msg" => parse_msg(rest, online),
        "/list" => without_argument(rest, "/list", Command::List),
        "/trust" => listed_name(rest, "/trust", online).map(|name| Command::Trust { name }),
        "/verify" => listed_name(rest, "/verify", online).map(|name| Command::Verify { name }),
        "/history" => parse_history(rest, online),
        "/quit" => without_argument(rest, "/quit", Command::Quit),
        _ if word.starts_with('/') => Err(CommandError::Unknown(word.to_owned())),
        _ => Err(CommandError::NotACommand),
    }
}

fn without_argument<'a>(
    rest: &str,
    name: &'static str,
    command: Command<'a>,
) -> Result<Command<'a>, CommandError> {
    if rest.trim().is_empty() {
        Ok(command)
    } else {
        Err(CommandError::UnexpectedArgument(name))
    }
}

/// The whole argument, which must be an online name exactly.
fn listed_name<'a>(
    rest: &'a str,
    command: &'static str,
    online: impl IntoIterator<Item = &'a str>,
) -> Result<&'a str, CommandError> {
    let arg = rest.trim();
    if arg.is_empty() {
        return Err(CommandError::MissingName(command));
    }
    online
        .into_iter()
        .find(|name| *name == arg)
        .ok_or_else(|| CommandError::NoSuchUser(arg.to_owned()))
}

/// `/history NAME [N]`: the name exactly, or the name then a count.
fn parse_history<'a>(
    rest: &'a str,
    online: impl IntoIterator<Item = &'a str>,
) -> Result<Command<'a>, CommandError> {
    let arg = rest.trim();
    if arg.is_empty() {
        return Err(CommandError::MissingName("/history"));
    }
    let names: Vec<&'a str> = online.into_iter().collect();
    if let Some(name) = names.iter().find(|name| **name == arg) {
        return Ok(Command::History { name, count: None });
    }
    let counted = arg
        .rsplit_once(char::is_whitespace)
        .and_then(|(name, count)| {
            let count = count.parse::<usize>().ok()?;
            let name = names.iter().find(|n| **n == name.trim_end())?;
            Some(Command::History {
                name,
                count: Some(count),
            })
        });
    counted.ok_or_else(|| CommandError::NoSuchUser(arg.to_owned()))
}

fn parse_msg<'a>(
    rest: &'a str,
    online: impl IntoIterator<Item = &'a str>,
) -> Result<Command<'a>, CommandError> {
    // Names never start with white space, so any run of it after `/msg` is a separator.
    let arg = rest.trim_start();
    if arg.trim_end().is_empty() {
        return Err(CommandError::MissingName("/msg"));
    }
    let mut longest: Option<(&'a str, &'a str)> = None;
    let mut whole: Option<&'a str> = None;
    for name in online {
        let Some(after) = arg.strip_prefix(name).filter(|_| !name.is_empty()) else {
            continue;
        };
        if let Some(text) = after.strip_prefix(' ') {
            if longest.is_none_or(|(best, _)| name.len() > best.len()) {
                longest = Some((name, text));
            }
        } else if after.trim_end().is_empty() {
            whole = Some(name);
        }
    }
    match (longest, whole) {
        (Some((to, text)), _) if !text.trim().is_empty() => Ok(Command::Msg { to, text }),
        (Some((to, _)), _) | (None, Some(to)) => Err(CommandError::MissingText(to.to_owned())),
        (None, None) => Err(CommandError::NoSuchUser(arg.trim_end().to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONLINE: [&str; 4] = ["bob", "bob smith", "小明", "小明 王"];

    fn parse(line: &str) -> Result<Command<'_>, CommandError> {
        parse_command(line, ONLINE)
    }

    #[test]
    fn msg_picks_the_longest_listed_name() {
        assert_eq!(
            parse("/msg bob smith hi there\n"),
            Ok(Command::Msg {
                to: "bob smith",
                text: "hi there"
            })
        );
        assert_eq!(
            parse("/msg bob hi"),
            Ok(Command::Msg {
                to: "bob",
                text: "hi"
            })
        );
        // "bob smith" alone: only "bob" is followed by a space, so "smith" is the text.
        assert_eq!(
            parse("/msg bob smith"),
            Ok(Command::Msg {
                to: "bob",
                text: "smith"
            })
        );
    }

    #[test]
    fn order_of_the_online_list_does_not_matter() {
        let reversed = ["bob smith", "bob"];
        assert_eq!(
            parse_command("/msg bob smith yo", reversed),
            Ok(Command::Msg {
                to: "bob smith",
                text: "yo"
            })
        );
    }

    #[test]
    fn chinese_names() {
        assert_eq!(
            parse("/msg 小明 王 你好，世界\r\n"),
            Ok(Command::Msg {
                to: "小明 王",
                text: "你好，世界"
            })
        );
        assert_eq!(
            parse("/msg 小明 你好"),
            Ok(Command::Msg {
                to: "小明",
                text: "你好"
            })
        );
        assert_eq!(
            parse("/msg 小 你好"),
            Err(CommandError::NoSuchUser("小 你好".to_owned()))
        );
    }

    #[test]
    fn text_is_kept_verbatim_after_one_space() {
        assert_eq!(
            parse("/msg   bob  a, b;  c  "),
            Ok(Command::Msg {
                to: "bob",
                text: " a, b;  c  "
            })
        );
    }

    #[test]
    fn list_and_quit() {
        assert_eq!(parse("/list\n"), Ok(Command::List));
        assert_eq!(parse("  /quit  "), Ok(Command::Quit));
        assert_eq!(
            parse("/quit now"),
            Err(CommandError::UnexpectedArgument("/quit"))
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(parse(""), Err(CommandError::Empty));
        assert_eq!(parse(" \r\n"), Err(CommandError::Empty));
        assert_eq!(parse("hello"), Err(CommandError::NotACommand));
        assert_eq!(
            parse("/whois bob"),
            Err(CommandError::Unknown("/whois".into()))
        );
        assert_eq!(parse("/msg"), Err(CommandError::MissingName("/msg")));
        assert_eq!(parse("/msg   "), Err(CommandError::MissingName("/msg")));
        assert_eq!(
            parse("/msg carol hi"),
            Err(CommandError::NoSuchUser("carol hi".into()))
        );
        assert_eq!(
            parse("/msg bob"),
            Err(CommandError::MissingText("bob".into()))
        );
        assert_eq!(
            parse("/msg bob   "),
            Err(CommandError::MissingText("bob".into()))
        );
        assert_eq!(
            parse("/msg bob smith "),
            Err(CommandError::MissingText("bob smith".into()))
        );
        assert_eq!(
            parse_command("/msg bob hi", []),
            Err(CommandError::NoSuchUser("bob hi".into()))
        );
        assert!(CommandError::MissingName("/msg")
            .to_string()
            .contains("/msg NAME TEXT"));
        assert!(CommandError::Unknown("/x".into())
            .to_string()
            .contains("/x"));
    }

    #[test]
    fn trust_and_verify_name_one_online_user_exactly() {
        assert_eq!(
            parse("/trust bob smith\n"),
            Ok(Command::Trust { name: "bob smith" })
        );
        assert_eq!(
            parse("/verify  小明 "),
            Ok(Command::Verify { name: "小明" })
        );
        assert_eq!(
            parse("/verify bo"),
            Err(CommandError::NoSuchUser("bo".into()))
        );
        assert_eq!(parse("/trust"), Err(CommandError::MissingName("/trust")));
        assert!(CommandError::MissingName("/verify")
            .to_string()
            .contains("/verify NAME"));
    }

    #[test]
    fn history_names_a_contact_and_maybe_a_count() {
        assert_eq!(
            parse("/history bob smith"),
            Ok(Command::History {
                name: "bob smith",
                count: None
            })
        );
        assert_eq!(
            parse("/history bob smith 5"),
            Ok(Command::History {
                name: "bob smith",
                count: Some(5)
            })
        );
        assert_eq!(
            parse("/history 小明 王  100 "),
            Ok(Command::History {
                name: "小明 王",
                count: Some(100)
            })
        );
        assert_eq!(
            parse("/history bob -1"),
            Err(CommandError::NoSuchUser("bob -1".into()))
        );
        assert_eq!(
            parse("/history"),
            Err(CommandError::MissingName("/history"))
        );
        assert!(CommandError::MissingName("/history")
            .to_string()
            .contains("[N]"));
    }

    #[test]
    fn a_name_must_be_followed_by_a_space() {
        assert_eq!(
            parse("/msg bobby hi"),
            Err(CommandError::NoSuchUser("bobby hi".into()))
        );
    }
}
