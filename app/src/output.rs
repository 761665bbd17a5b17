//! Writing event lines to stdout, one flush per line so a reader on a pipe sees each at once.

use std::io::Write;

/// Prints `text` and a newline. A closed stdout is not worth dying for: the events are only
/// informative, and the protocol must still end properly (say, log out).
pub fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}
