//! Reading the user's command lines from stdin on a thread of their own.

use std::io::{self, BufRead, Read};
use std::thread;

/// Longest command line accepted; a chat datagram holds far less anyway.
const MAX_LINE: u64 = 64 << 10;

/// One thing read from stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdinLine {
    /// A line, without its line end.
    Line(String),
    /// A line that cannot be a command, and why.
    Invalid(String),
    /// End of input (or stdin failed): time to log out.
    End,
}

/// Reads stdin line by line until its end or until `deliver` returns false.
pub fn spawn(deliver: impl FnMut(StdinLine) -> bool + Send + 'static) -> io::Result<()> {
    thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_lines(io::stdin().lock(), deliver))?;
    Ok(())
}

fn read_lines(mut input: impl BufRead, mut deliver: impl FnMut(StdinLine) -> bool) {
    loop {
        let mut buf = Vec::new();
        match (&mut input).take(MAX_LINE).read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => {
                deliver(StdinLine::End);
                return;
            }
            Ok(_) => {}
        }
        let line = if buf.last() != Some(&b'\n') && buf.len() as u64 == MAX_LINE {
            skip_rest_of_line(&mut input);
            StdinLine::Invalid(format!("line longer than {MAX_LINE} bytes ignored"))
        } else {
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            match String::from_utf8(buf) {
                Ok(line) => StdinLine::Line(line),
                Err(_) => StdinLine::Invalid("line is not valid UTF-8; ignored".into()),
            }
        };
        if !deliver(line) {
            return;
        }
    }
}

fn skip_rest_of_line(input: &mut impl BufRead) {
    loop {
        let (consumed, done) = match input.fill_buf() {
            Ok([]) | Err(_) => return,
            Ok(chunk) => match chunk.iter().position(|&b| b == b'\n') {
                Some(end) => (end + 1, true),
                None => (chunk.len(), false),
            },
        };
        input.consume(consumed);
        if done {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Vec<StdinLine> {
        let mut got = Vec::new();
        read_lines(input, |line| {
            got.push(line);
            true
        });
        got
    }

    #[test]
    fn lines_then_end() {
        assert_eq!(
            read_all(b"/list\r\n/msg bob hi\nlast"),
            vec![
                StdinLine::Line("/list".into()),
                StdinLine::Line("/msg bob hi".into()),
                StdinLine::Line("last".into()),
                StdinLine::End,
            ]
        );
    }

    #[test]
    fn bad_lines_are_reported_and_skipped() {
        let mut input = vec![b'x'; MAX_LINE as usize + 10];
        input.extend_from_slice(b"\n\xff\xfe\n/quit\n");
        let got = read_all(&input);
        assert!(matches!(got.first(), Some(StdinLine::Invalid(_))));
        assert!(matches!(got.get(1), Some(StdinLine::Invalid(_))));
        assert_eq!(got.get(2), Some(&StdinLine::Line("/quit".into())));
        assert_eq!(got.get(3), Some(&StdinLine::End));
    }
}
