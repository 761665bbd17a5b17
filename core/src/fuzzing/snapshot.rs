//! Snapshot lines, long ones included: the input is parsed as a line, and also taken as a count
//! and a unit that is repeated into a line of up to [`MAX_LONG_LINE`] bytes. Parsing stays
//! linear (a quadratic parser times out here), a repeated unit gives repeated entries, and
//! every way a snapshot can arrive (a line in any chunks, a classic list) gives the same list.

use crate::wire::{decode_classic_list, LineDecoder, ServerLine, UserEntry, MAX_SERVER_LINE};

/// Longest line built from a repeated unit: long enough for tens of thousands of entries.
const MAX_LONG_LINE: usize = 256 << 10;

/// The input as a snapshot line, then a long line made of its tail repeated.
pub fn snapshot(data: &[u8]) {
    if let Ok(ServerLine::Snapshot(entries)) = ServerLine::parse(data) {
        agrees(&entries, data);
    }
    let [hi, lo, unit @ ..] = data else {
        return;
    };
    let wanted = usize::from(u16::from_be_bytes([*hi, *lo]));
    let reps = wanted.min(MAX_LONG_LINE / unit.len().max(1));
    let mut line = unit.repeat(reps);
    line.extend_from_slice(b"end");
    let long = ServerLine::parse(&line);
    let mut single = unit.to_vec();
    single.extend_from_slice(b"end");
    if let Ok(ServerLine::Snapshot(unit_entries)) = ServerLine::parse(&single) {
        let repeated: Vec<UserEntry> = std::iter::repeat_n(unit_entries, reps).flatten().collect();
        assert_eq!(long, Ok(ServerLine::Snapshot(repeated)), "{reps} units");
    }
    if let Ok(ServerLine::Snapshot(entries)) = long {
        agrees(&entries, &line);
    }
}

/// `entries` parsed from `line`: they re-encode and re-parse to themselves, and arrive the same
/// through the line decoder in small chunks and as a classic list.
fn agrees(entries: &[UserEntry], line: &[u8]) {
    let snapshot = ServerLine::Snapshot(entries.to_vec());
    let encoded = snapshot.to_vec();
    assert_eq!(
        ServerLine::parse(&encoded).as_ref(),
        Ok(&snapshot),
        "re-parse"
    );

    let mut decoder = LineDecoder::new(MAX_SERVER_LINE);
    let chunk = 1 + line.len() % 61;
    let mut lines = Vec::new();
    for part in encoded.chunks(chunk) {
        decoder.push(part);
        while let Some(Ok(l)) = decoder.next_line() {
            lines.push(ServerLine::parse(l));
        }
    }
    assert_eq!(lines, [Ok(snapshot.clone())], "through the line decoder");

    let text = encoded.strip_suffix(b"\n").unwrap_or(&encoded);
    let mut classic = leb128(text.len());
    classic.extend_from_slice(text);
    assert_eq!(
        decode_classic_list(&classic),
        Ok(Some((entries.to_vec(), classic.len()))),
        "as a classic list"
    );
}

/// The .NET 7-bit length prefix, written independently of the codec's encoder.
fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while n >= 0x80 {
        out.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out
}
