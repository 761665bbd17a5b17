//! The chat program's command parser on arbitrary input and online lists: `/msg` must pick the
//! longest online name that starts its argument followed by a space, and hand back the rest.

use crate::client::{parse_command, Command};

/// The input is lossy UTF-8 text: its first line is the command (line end included), every
/// further line an online name.
pub fn command(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let (line, names) = match input.split_once('\n') {
        Some((line, names)) => (&input[..=line.len()], names),
        None => (input.as_ref(), ""),
    };
    let online: Vec<&str> = names.split('\n').collect();
    let Ok(Command::Msg { to, text }) = parse_command(line, online.iter().copied()) else {
        return;
    };
    assert!(online.contains(&to), "{to:?} is not online");
    assert!(!text.trim().is_empty(), "empty text accepted");
    let line = line.trim_start();
    let arg = line
        .strip_prefix("/msg")
        .map(str::trim_start)
        .unwrap_or_else(|| panic!("{line:?} is no /msg"));
    let expected = format!("{to} {text}");
    let line_end = arg.strip_prefix(expected.as_str());
    assert!(
        matches!(line_end, Some("" | "\n" | "\r" | "\r\n")),
        "{arg:?} is not {to:?} then {text:?}"
    );
    let longer = online.iter().filter(|n| n.len() > to.len()).any(|n| {
        arg.strip_prefix(*n)
            .is_some_and(|after| after.starts_with(' '))
    });
    assert!(!longer, "a longer online name starts {arg:?}");
}
