//! The classic dialect's decoders on arbitrary bytes: a UTF-16LE datagram and the
//! length-prefixed user list of the textbook server.

use crate::wire::{
    decode_classic_list, decode_utf16le, encode_classic_list, encode_utf16le, is_classic_datagram,
    ClassicDatagram, ServerLine,
};

/// UTF-16LE text, a classic datagram and a classic list, each decoded from `data`.
pub fn classic(data: &[u8]) {
    utf16(data);
    datagram(data);
    list(data);
}

/// UTF-16LE decoding is exact: whatever decodes, encodes back to the same bytes.
fn utf16(data: &[u8]) {
    if let Ok(text) = decode_utf16le(data) {
        let mut encoded = Vec::new();
        encode_utf16le(&text, &mut encoded);
        assert_eq!(encoded, data, "UTF-16LE round trip of {text:?}");
    }
}

/// A datagram round-trips; a `talk` keeps every field verbatim, so it comes back byte for byte.
fn datagram(data: &[u8]) {
    let Ok(parsed) = ClassicDatagram::parse(data) else {
        return;
    };
    assert!(is_classic_datagram(data), "a classic datagram looks native");
    let encoded = parsed.to_vec();
    if let ClassicDatagram::Talk { .. } = parsed {
        assert_eq!(encoded, data, "talk not verbatim");
    }
    let again = ClassicDatagram::parse(&encoded);
    assert_eq!(again.as_ref(), Ok(&parsed), "re-parse of {encoded:?}");
    assert_eq!(again.map(|d| d.to_vec()), Ok(encoded), "not a fixed point");
}

/// A list decodes the same whatever follows it or however much of it has arrived: a shorter
/// prefix is "read more", never an error or another list; an error stays an error when more
/// bytes come. A decoded list re-encodes to a list of the same entries.
fn list(data: &[u8]) {
    let mut longer = data.to_vec();
    longer.extend_from_slice(b"\x03end;end");
    match decode_classic_list(data) {
        Ok(Some((entries, used))) => {
            assert!(used <= data.len(), "used {used} of {} bytes", data.len());
            let whole = data.get(..used).unwrap_or_default();
            assert_eq!(
                decode_classic_list(whole),
                Ok(Some((entries.clone(), used)))
            );
            assert_eq!(
                decode_classic_list(&longer),
                Ok(Some((entries.clone(), used)))
            );
            for cut in prefix_cuts(used) {
                let part = data.get(..cut).unwrap_or_default();
                assert_eq!(decode_classic_list(part), Ok(None), "prefix of {cut} bytes");
            }
            let mut encoded = Vec::new();
            encode_classic_list(entries.iter().map(|e| (&e.name, e.endpoint)), &mut encoded);
            assert_eq!(
                decode_classic_list(&encoded),
                Ok(Some((entries.clone(), encoded.len())))
            );
            // The prefix ends at the first byte without its high bit.
            let prefix = data.iter().position(|b| b & 0x80 == 0).map_or(0, |i| i + 1);
            let text = data.get(prefix..used).unwrap_or_default();
            assert_eq!(ServerLine::parse(text), Ok(ServerLine::Snapshot(entries)));
        }
        Ok(None) => {}
        Err(e) => assert_eq!(
            decode_classic_list(&longer),
            Err(e),
            "error undone by more bytes"
        ),
    }
}

/// Every cut for short lists, a sample for long ones, so a run stays linear.
fn prefix_cuts(used: usize) -> Vec<usize> {
    if used <= 64 {
        (0..used).collect()
    } else {
        vec![0, 1, used / 2, used - 1]
    }
}
