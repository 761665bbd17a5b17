//! The two .NET encodings the textbook program uses: `Encoding.Unicode` (UTF-16LE, no BOM) for
//! datagrams, and `BinaryWriter.Write(string)` / `BinaryReader.ReadString()` for the list.

use std::io::{self, Read};

/// `text` as `Encoding.Unicode.GetBytes` writes it.
pub fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// `Encoding.Unicode.GetString`, strict: `None` for an odd length or a lone surrogate.
pub fn from_utf16le(data: &[u8]) -> Option<String> {
    if data.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = data
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// `BinaryWriter.Write(string)`: the UTF-8 byte length as a 7-bit encoded int (low group first,
/// high bit = more), then the UTF-8 bytes.
pub fn write_dotnet_string(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 5);
    let mut len = text.len();
    while len >= 0x80 {
        out.push((len & 0x7f) as u8 | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(text.as_bytes());
    out
}

/// `BinaryReader.ReadString()`: an error if the stream ends early, the prefix runs past five
/// bytes, or the text is not UTF-8.
pub fn read_dotnet_string(reader: &mut impl Read) -> io::Result<String> {
    let mut len: u64 = 0;
    for shift in (0..35).step_by(7) {
        let mut byte = [0u8; 1];
        reader.read_exact(&mut byte)?;
        len |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            let len = usize::try_from(len).map_err(|_| bad("length overflows"))?;
            let mut text = vec![0u8; len];
            reader.read_exact(&mut text)?;
            return String::from_utf8(text).map_err(|_| bad("text is not UTF-8"));
        }
    }
    Err(bad("length prefix longer than five bytes"))
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_keyword_and_chinese_in_utf16le() {
        assert_eq!(
            utf16le("login,"),
            [0x6c, 0x00, 0x6f, 0x00, 0x67, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x2c, 0x00]
        );
        assert_eq!(utf16le("小"), [0x0f, 0x5c]);
        assert_eq!(from_utf16le(&utf16le("老王😀")).as_deref(), Some("老王😀"));
        assert_eq!(from_utf16le(b"l\0o"), None);
        assert_eq!(from_utf16le(&[0x3d, 0xd8]), None);
    }

    #[test]
    fn dotnet_strings_round_trip_with_multi_byte_prefixes() {
        let text = "a".repeat(300);
        let bytes = write_dotnet_string(&text);
        assert_eq!(bytes[..2], [0xac, 0x02]);
        assert_eq!(read_dotnet_string(&mut bytes.as_slice()).unwrap(), text);
        assert!(read_dotnet_string(&mut &bytes[..100]).is_err());
        assert!(read_dotnet_string(&mut &[0x80u8; 6][..]).is_err());
    }
}
