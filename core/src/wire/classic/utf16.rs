//! UTF-16LE text, as C# `Encoding.Unicode` writes it: no BOM, two bytes per code unit.

use crate::wire::error::WireError;

/// Whether a datagram is in the classic dialect: its second byte is zero.
///
/// Every classic message starts with an ASCII keyword (`login`, `logout`, `Accept`, `talk`),
/// whose first UTF-16LE code unit has a zero high byte (`l\0o\0...`). A native message starts
/// with a keyword of several ASCII letters, so its second byte is a letter, never zero. Only the
/// second byte is looked at because a native `msg` may legitimately carry a NUL in its text.
pub fn is_classic_datagram(data: &[u8]) -> bool {
    data.get(1) == Some(&0)
}

/// Decodes UTF-16LE. An odd byte count or an unpaired surrogate is [`WireError::BadUtf16`].
///
/// The result is at most 1.5 times as long as `data`, so callers bound memory by bounding the
/// input.
pub fn decode_utf16le(data: &[u8]) -> Result<String, WireError> {
    if data.len() % 2 != 0 {
        return Err(WireError::BadUtf16);
    }
    let low = data.iter().step_by(2);
    let high = data.iter().skip(1).step_by(2);
    let units = low.zip(high).map(|(&lo, &hi)| u16::from_le_bytes([lo, hi]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| WireError::BadUtf16)
}

/// Appends `text` in UTF-16LE to `out`.
pub fn encode_utf16le(text: &str, out: &mut Vec<u8>) {
    out.reserve(text.len() * 2);
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_keyword_byte_for_byte() {
        let mut out = Vec::new();
        encode_utf16le("login,", &mut out);
        assert_eq!(
            out,
            [0x6c, 0x00, 0x6f, 0x00, 0x67, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x2c, 0x00]
        );
        assert_eq!(decode_utf16le(&out).as_deref(), Ok("login,"));
    }

    #[test]
    fn chinese_and_astral_text_round_trip() {
        let mut out = Vec::new();
        encode_utf16le("小明😀", &mut out);
        // 小 U+5C0F, 明 U+660E, 😀 as the surrogate pair D83D DE00.
        assert_eq!(out, [0x0f, 0x5c, 0x0e, 0x66, 0x3d, 0xd8, 0x00, 0xde]);
        assert_eq!(decode_utf16le(&out).as_deref(), Ok("小明😀"));
    }

    #[test]
    fn odd_length_and_lone_surrogates_are_refused() {
        assert_eq!(decode_utf16le(b"l\0o"), Err(WireError::BadUtf16));
        // A high surrogate with nothing after it, then one followed by a plain letter.
        assert_eq!(decode_utf16le(&[0x3d, 0xd8]), Err(WireError::BadUtf16));
        assert_eq!(
            decode_utf16le(&[0x3d, 0xd8, 0x61, 0x00]),
            Err(WireError::BadUtf16)
        );
        // A low surrogate on its own.
        assert_eq!(decode_utf16le(&[0x00, 0xde]), Err(WireError::BadUtf16));
    }

    #[test]
    fn dialects_are_told_apart_by_the_second_byte() {
        let mut classic = Vec::new();
        encode_utf16le("login,a,1.2.3.4:5", &mut classic);
        assert!(is_classic_datagram(&classic));
        assert!(!is_classic_datagram(b"login,a,1.2.3.4:5"));
        assert!(!is_classic_datagram(
            b"msg,a,0000000000000001,1,nul \0 inside"
        ));
        assert!(!is_classic_datagram(b""));
        assert!(!is_classic_datagram(b"l"));
    }
}
