//! The classic user list: one .NET `BinaryWriter.Write(string)` value, i.e. a LEB128 byte length
//! then UTF-8 text `n1,ip:port;n2,ip:port;end`, the only thing on its TCP connection.
//!
//! The prefix is .NET's `Write7BitEncodedInt`, a 32-bit variant of LEB128 with its own limits
//! (five bytes at most, the fifth holding the top four bits), so it is written here rather than
//! taken from a general LEB128 crate.

use std::net::SocketAddr;

use crate::wire::error::WireError;
use crate::wire::fields::strip_line_end;
use crate::wire::name::Name;
use crate::wire::presence::UserEntry;
use crate::wire::tcp::{encode_snapshot, ServerLine, MAX_SERVER_LINE};

/// Most text bytes a classic list may announce: the bound on a native snapshot line.
pub const MAX_CLASSIC_LIST: usize = MAX_SERVER_LINE;

/// Most bytes in a length prefix: 7 bits each, 32 bits in all.
const MAX_PREFIX_BYTES: usize = 5;

/// Appends the prefixed list to `out`, straight from the caller's registry (no entries are
/// cloned). A list longer than [`MAX_CLASSIC_LIST`] is written as is; its reader refuses it.
pub fn encode_classic_list<'a>(
    entries: impl IntoIterator<Item = (&'a Name, SocketAddr)>,
    out: &mut Vec<u8>,
) {
    let mut line = Vec::with_capacity(256);
    encode_snapshot(&mut line, entries);
    // The native snapshot is a line; the classic list is the same text without its `\n`.
    let text = strip_line_end(&line);
    let mut len = text.len();
    while len >= 0x80 {
        // Low seven bits, with the high bit saying more follow.
        out.push((len & 0x7f) as u8 | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(text);
}

/// Decodes a prefixed list from the bytes received so far on its connection.
///
/// `Ok(None)`: not all there yet, read more. `Ok(Some((entries, used)))`: the list, taken from
/// the first `used` bytes. Errors come as soon as the bytes prove them, so a reader can stop
/// early: [`WireError::BadLengthPrefix`] for a prefix past five bytes or 32 bits,
/// [`WireError::TooLong`] for an announced length over [`MAX_CLASSIC_LIST`], and the snapshot
/// errors of [`ServerLine::parse`] (with [`WireError::BadSnapshot`] for text that is no list at
/// all). Like a snapshot line, the text may end with one `\n` or `\r\n`.
pub fn decode_classic_list(data: &[u8]) -> Result<Option<(Vec<UserEntry>, usize)>, WireError> {
    let Some((len, prefix)) = length_prefix(data)? else {
        return Ok(None);
    };
    if len > MAX_CLASSIC_LIST {
        return Err(WireError::TooLong);
    }
    let used = prefix + len;
    let Some(text) = data.get(prefix..used) else {
        return Ok(None);
    };
    match ServerLine::parse(text) {
        Ok(ServerLine::Snapshot(entries)) => Ok(Some((entries, used))),
        Ok(_) | Err(WireError::Empty | WireError::UnknownMessage) => Err(WireError::BadSnapshot),
        Err(e) => Err(e),
    }
}

/// Reads the length prefix: `Ok(None)` while it is incomplete, else the length and the
/// prefix's byte count. Non-minimal forms (`80 00` for 0) are accepted, as .NET accepts them.
fn length_prefix(data: &[u8]) -> Result<Option<(usize, usize)>, WireError> {
    let mut len: u32 = 0;
    for (i, &byte) in data.iter().take(MAX_PREFIX_BYTES).enumerate() {
        let group = u32::from(byte & 0x7f);
        let shift = 7 * i as u32;
        // The fifth byte carries bits 28–31 only, and must end the prefix.
        if i == MAX_PREFIX_BYTES - 1 && byte > 0x0f {
            return Err(WireError::BadLengthPrefix);
        }
        len |= group << shift;
        if byte & 0x80 == 0 {
            let len = usize::try_from(len).map_err(|_| WireError::TooLong)?;
            return Ok(Some((len, i + 1)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, ep: &str) -> UserEntry {
        UserEntry::new(Name::new(name).unwrap(), ep.parse().unwrap())
    }

    fn encode(entries: &[UserEntry]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_classic_list(entries.iter().map(|e| (&e.name, e.endpoint)), &mut out);
        out
    }

    #[test]
    fn list_byte_for_byte() {
        let entries = [entry("alice", "1.2.3.4:5"), entry("小明", "[::1]:6")];
        let text = "alice,1.2.3.4:5;小明,[::1]:6;end";
        let mut expected = vec![text.len() as u8];
        expected.extend_from_slice(text.as_bytes());
        let bytes = encode(&entries);
        assert_eq!(bytes, expected);
        assert_eq!(
            decode_classic_list(&bytes),
            Ok(Some((entries.to_vec(), bytes.len())))
        );
    }

    #[test]
    fn empty_list_is_just_end() {
        assert_eq!(encode(&[]), b"\x03end");
        assert_eq!(decode_classic_list(b"\x03end"), Ok(Some((vec![], 4))));
    }

    #[test]
    fn leb128_of_300_is_ac_02() {
        assert_eq!(length_prefix(&[0xac, 0x02]), Ok(Some((300, 2))));
        // 13 entries of "userNN,10.0.0.1:1;" and 3 of "userNN,10.0.0.1:1000;", then "end".
        let entries: Vec<UserEntry> = (10..26)
            .map(|i| {
                let port = if i < 13 { "1000" } else { "1" };
                entry(&format!("user{i}"), &format!("10.0.0.1:{port}"))
            })
            .collect();
        let bytes = encode(&entries);
        assert_eq!(bytes[..2], [0xac, 0x02]);
        assert_eq!(bytes.len(), 2 + 300);
        assert_eq!(decode_classic_list(&bytes), Ok(Some((entries, 302))));
    }

    #[test]
    fn prefix_limits() {
        assert_eq!(length_prefix(&[0x80, 0x80, 0x80, 0x80]), Ok(None));
        assert_eq!(length_prefix(&[0x80, 0x00]), Ok(Some((0, 2))));
        assert_eq!(
            length_prefix(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Ok(Some((u32::MAX as usize, 5)))
        );
        assert_eq!(
            length_prefix(&[0x80, 0x80, 0x80, 0x80, 0x80]),
            Err(WireError::BadLengthPrefix)
        );
        assert_eq!(
            length_prefix(&[0xff, 0xff, 0xff, 0xff, 0x10]),
            Err(WireError::BadLengthPrefix)
        );
        assert_eq!(
            decode_classic_list(&[0x80, 0x80, 0x80, 0x80, 0x80]),
            Err(WireError::BadLengthPrefix)
        );
    }

    #[test]
    fn oversized_list_is_refused_before_its_text_arrives() {
        let over = MAX_CLASSIC_LIST + 1;
        let prefix = [
            (over & 0x7f) as u8 | 0x80,
            (over >> 7 & 0x7f) as u8 | 0x80,
            (over >> 14 & 0x7f) as u8 | 0x80,
            (over >> 21) as u8,
        ];
        assert_eq!(length_prefix(&prefix), Ok(Some((over, 4))));
        assert_eq!(decode_classic_list(&prefix), Err(WireError::TooLong));
    }

    #[test]
    fn incomplete_then_complete_with_bytes_after() {
        let bytes = encode(&[entry("a", "1.2.3.4:5")]);
        assert_eq!(decode_classic_list(&[]), Ok(None));
        assert_eq!(decode_classic_list(&bytes[..bytes.len() - 1]), Ok(None));
        let mut more = bytes.clone();
        more.extend_from_slice(b"junk");
        assert_eq!(
            decode_classic_list(&more),
            Ok(Some((vec![entry("a", "1.2.3.4:5")], bytes.len())))
        );
    }

    #[test]
    fn text_that_is_no_list_is_refused() {
        for (text, err) in [
            (&b""[..], WireError::BadSnapshot),
            (b"login,a,1.2.3.4:5", WireError::BadSnapshot),
            (b"pong", WireError::BadSnapshot),
            (b"a,1.2.3.4:5", WireError::BadSnapshot),
            (b"a,1.2.3.4:5;en", WireError::MissingField("endpoint")),
            (b"a,nowhere;end", WireError::BadEndpoint),
            (b"\xff;end", WireError::NotUtf8),
        ] {
            let mut bytes = vec![text.len() as u8];
            bytes.extend_from_slice(text);
            assert_eq!(decode_classic_list(&bytes), Err(err), "{text:?}");
        }
    }
}
