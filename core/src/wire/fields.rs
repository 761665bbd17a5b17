//! nom building blocks shared by every message: fields, names, endpoints, numbers.

use std::net::{IpAddr, SocketAddr};

use nom::character::complete::char;
use nom::combinator::eof;
use nom::{IResult, Parser};

use super::error::WireError;
use super::name::Name;

/// Strips one trailing `\n` or `\r\n`, as every datagram and line may carry one.
pub fn strip_line_end(data: &[u8]) -> &[u8] {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    data.strip_suffix(b"\r").unwrap_or(data)
}

/// Decodes UTF-8 with a typed error.
pub fn utf8(data: &[u8]) -> Result<&str, WireError> {
    std::str::from_utf8(data).map_err(|_| WireError::NotUtf8)
}

/// A field: everything up to the next `,` or `;` (which no field may hold). Both are ASCII, so
/// a byte search is exact on UTF-8 and far cheaper than decoding every character.
pub fn field(input: &str) -> IResult<&str, &str> {
    let end = memchr::memchr2(b',', b';', input.as_bytes()).unwrap_or(input.len());
    // `end` is at an ASCII byte or the end, so both halves are on character boundaries.
    Ok((&input[end..], &input[..end]))
}

/// `,` then a field; `what` names the field in the error when it is missing.
pub fn next_field<'a>(input: &'a str, what: &'static str) -> Result<(&'a str, &'a str), WireError> {
    let sep: IResult<&str, char> = char(',').parse(input);
    let (rest, _) = sep.map_err(|_| WireError::MissingField(what))?;
    field(rest).map_err(|_| WireError::MissingField(what))
}

/// `,` then a name: everything up to the next `,`, so a `;` inside is reported as a bad name.
pub fn next_name_field(input: &str) -> Result<(&str, &str), WireError> {
    let rest = input
        .strip_prefix(',')
        .ok_or(WireError::MissingField("name"))?;
    let end = memchr::memchr(b',', rest.as_bytes()).unwrap_or(rest.len());
    Ok((&rest[end..], &rest[..end]))
}

/// Splits the kind keyword (first field) from the rest of a message.
pub fn keyword(input: &str) -> (&str, &str) {
    match field(input) {
        Ok((rest, kw)) => (kw, rest),
        Err(_) => (input, ""),
    }
}

/// Requires the input to be used up.
pub fn finish(rest: &str) -> Result<(), WireError> {
    let end: IResult<&str, &str> = eof.parse(rest);
    end.map(|_| ()).map_err(|_| WireError::ExtraField)
}

/// Parses a name field.
pub fn name(s: &str) -> Result<Name, WireError> {
    Ok(Name::new(s)?)
}

/// Parses `ip:port` or `[ipv6]:port`, with the canonical IPv4 form of a mapped IPv6 address.
pub fn endpoint(s: &str) -> Result<SocketAddr, WireError> {
    let addr: SocketAddr = s.parse().map_err(|_| WireError::BadEndpoint)?;
    Ok(canonical(addr))
}

/// The form feige stores and writes an address in: IPv4-mapped IPv6 becomes IPv4, and the IPv6
/// flow label and scope are dropped, so the same host and port always compare equal.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    let ip: IpAddr = addr.ip().to_canonical();
    SocketAddr::new(ip, addr.port())
}

/// Writes an endpoint the way Rust's `SocketAddr` displays it (IPv6 bracketed).
pub fn write_endpoint(out: &mut Vec<u8>, addr: SocketAddr) {
    use std::io::Write;
    let addr = canonical(addr);
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{addr}");
}

/// Parses a TCP port 1–65535 written in decimal without sign or leading zeros.
pub fn port(s: &str) -> Result<u16, WireError> {
    match decimal(s) {
        Some(n) if (1..=u64::from(u16::MAX)).contains(&n) => Ok(n as u16),
        _ => Err(WireError::BadPort),
    }
}

/// A canonical decimal number: digits only, no leading zero (except `0` itself), fits in u64.
pub fn decimal(s: &str) -> Option<u64> {
    let digits: IResult<&str, &str> = nom::character::complete::digit1.parse(s);
    let (rest, digits) = digits.ok()?;
    if !rest.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    digits.parse().ok()
}
