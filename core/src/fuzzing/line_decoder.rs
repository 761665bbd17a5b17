//! The TCP line decoder fed a stream cut into arbitrary chunks, drained at arbitrary moments:
//! it must hand out exactly the lines (and the one `LineTooLong`) that a plain split of the
//! whole stream gives, and never hold more than one line's worth of bytes.

use arbitrary::{Arbitrary, Unstructured};

use crate::wire::{LineDecoder, LineTooLong};

#[derive(Debug, Arbitrary)]
struct Stream {
    max_line: u8,
    chunks: Vec<Chunk>,
}

#[derive(Debug, Arbitrary)]
struct Chunk {
    data: Vec<u8>,
    /// Whether the reader takes the lines out before the next chunk arrives.
    drain: bool,
}

type Lines = Vec<Result<Vec<u8>, LineTooLong>>;

/// Chunked decoding, whole-stream decoding and a reference split must agree.
pub fn line_decoder(data: &[u8]) {
    let Ok(stream) = Stream::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let max_line = usize::from(stream.max_line);

    let mut chunked = Reader::new(max_line);
    for chunk in &stream.chunks {
        chunked.decoder.push(&chunk.data);
        if chunk.drain {
            chunked.drain();
        }
    }
    chunked.drain();

    let whole_stream: Vec<u8> = stream.chunks.iter().flat_map(|c| c.data.clone()).collect();
    let mut whole = Reader::new(max_line);
    whole.decoder.push(&whole_stream);
    whole.drain();

    let expected = reference(&whole_stream, max_line);
    assert_eq!(whole.lines, expected, "whole-stream decoding");
    assert_eq!(chunked.lines, expected, "chunked decoding");
}

/// A decoder and every line it handed out so far.
struct Reader {
    decoder: LineDecoder,
    lines: Lines,
    max_line: usize,
}

impl Reader {
    fn new(max_line: usize) -> Self {
        Reader {
            decoder: LineDecoder::new(max_line),
            lines: Vec::new(),
            max_line,
        }
    }

    /// Takes every complete line out. After the error the decoder stays broken, so it is
    /// recorded once.
    fn drain(&mut self) {
        if self.lines.last().is_some_and(Result::is_err) {
            assert_eq!(
                self.decoder.next_line(),
                Some(Err(LineTooLong)),
                "stays broken"
            );
            return;
        }
        while let Some(line) = self.decoder.next_line() {
            let broken = line.is_err();
            self.lines.push(line.map(<[u8]>::to_vec));
            if broken {
                return;
            }
        }
        assert!(
            self.decoder.buffered() <= self.max_line + 2,
            "{} bytes held for a line of at most {}",
            self.decoder.buffered(),
            self.max_line
        );
    }
}

/// Splits at `\n`, drops one `\r` before it, and stops at the first line over `max_line`; an
/// unterminated tail over `max_line + 2` bytes can never become a valid line.
fn reference(stream: &[u8], max_line: usize) -> Lines {
    let mut lines = Vec::new();
    let mut rest = stream;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let (line, after) = rest.split_at(end);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > max_line {
            lines.push(Err(LineTooLong));
            return lines;
        }
        lines.push(Ok(line.to_vec()));
        rest = after.get(1..).unwrap_or_default();
    }
    if rest.len() > max_line + 2 {
        lines.push(Err(LineTooLong));
    }
    lines
}
