//! Splits a TCP byte stream into lines, whatever the chunking.

/// The stream held a line longer than the decoder's limit. The decoder refuses everything after
/// it: the connection has to be closed, since the line boundary can no longer be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTooLong;

/// Reassembles `\n`-terminated lines from chunks split at any byte.
///
/// Work is linear in the bytes pushed: each byte is scanned for `\n` once, and consumed lines are
/// dropped from the front in bulk, so a 10 MB snapshot arriving one byte at a time costs no more
/// than one arriving whole. An unterminated line is never buffered past `max_line` (+2 for a
/// `\r\n`): the decoder reports [`LineTooLong`] and drops it.
#[derive(Debug, Clone)]
pub struct LineDecoder {
    buf: Vec<u8>,
    /// Start of the first line not yet handed out.
    start: usize,
    /// Bytes before this offset are known to hold no `\n` after `start`.
    scanned: usize,
    max_line: usize,
    broken: bool,
}

impl LineDecoder {
    /// A decoder refusing lines longer than `max_line` bytes (not counting the line end).
    pub fn new(max_line: usize) -> Self {
        LineDecoder {
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            max_line,
            broken: false,
        }
    }

    /// Lines from now on may be up to `max_line` bytes (a claimed session's `relay` lines are
    /// longer than what may come before the claim).
    pub fn set_max_line(&mut self, max_line: usize) {
        self.max_line = max_line;
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        if self.broken {
            return;
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
        if self.unterminated_len() > self.max_line + 2 && !self.has_newline_after_scan() {
            self.break_stream();
        }
    }

    /// The next complete line without its `\n` / `\r\n`, or `Err` once a line was too long.
    /// `None` means more bytes are needed.
    #[must_use]
    pub fn next_line(&mut self) -> Option<Result<&[u8], LineTooLong>> {
        if self.broken {
            return Some(Err(LineTooLong));
        }
        let from = self.scanned.max(self.start);
        match memchr::memchr(b'\n', &self.buf[from..]) {
            Some(offset) => {
                let end = from + offset;
                let line_start = self.start;
                self.start = end + 1;
                self.scanned = self.start;
                let line = &self.buf[line_start..end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() > self.max_line {
                    self.break_stream();
                    return Some(Err(LineTooLong));
                }
                Some(Ok(&self.buf[line_start..line_start + line.len()]))
            }
            None => {
                self.scanned = self.buf.len();
                if self.buf.len() - self.start > self.max_line + 2 {
                    self.break_stream();
                    return Some(Err(LineTooLong));
                }
                None
            }
        }
    }

    /// Bytes buffered that are not yet part of a returned line.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Bytes after the last `\n` known so far.
    fn unterminated_len(&self) -> usize {
        self.buf.len() - self.scanned.max(self.start)
    }

    fn has_newline_after_scan(&self) -> bool {
        memchr::memchr(b'\n', &self.buf[self.scanned.max(self.start)..]).is_some()
    }

    fn break_stream(&mut self) {
        self.broken = true;
        self.buf = Vec::new();
        self.start = 0;
        self.scanned = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(d: &mut LineDecoder) -> Vec<Result<Vec<u8>, LineTooLong>> {
        let mut out = Vec::new();
        while let Some(line) = d.next_line() {
            let stop = line.is_err();
            out.push(line.map(<[u8]>::to_vec));
            if stop {
                break;
            }
        }
        out
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        let mut d = LineDecoder::new(32);
        d.push(b"ping\r\nlogin,a,1.2.3.4:5\nhal");
        assert_eq!(
            drain(&mut d),
            vec![Ok(b"ping".to_vec()), Ok(b"login,a,1.2.3.4:5".to_vec())]
        );
        d.push(b"f\n");
        assert_eq!(drain(&mut d), vec![Ok(b"half".to_vec())]);
    }

    #[test]
    fn limit_is_exact_and_excludes_line_end() {
        let mut d = LineDecoder::new(4);
        d.push(b"abcd\r\n");
        assert_eq!(drain(&mut d), vec![Ok(b"abcd".to_vec())]);
        d.push(b"abcde\n");
        assert_eq!(drain(&mut d), vec![Err(LineTooLong)]);
        d.push(b"ok\n");
        assert_eq!(drain(&mut d), vec![Err(LineTooLong)]);
    }

    #[test]
    fn endless_line_is_refused_without_buffering() {
        let mut d = LineDecoder::new(512);
        for _ in 0..10_000 {
            d.push(&[b'x'; 100]);
            assert!(d.buffered() <= 512 + 2 + 100);
        }
        assert_eq!(d.next_line(), Some(Err(LineTooLong)));
    }

    #[test]
    fn lines_before_an_overlong_one_are_delivered_first() {
        let mut d = LineDecoder::new(4);
        d.push(b"ok\nxxxxxxxxxx");
        assert_eq!(drain(&mut d), vec![Ok(b"ok".to_vec()), Err(LineTooLong)]);
    }
}
