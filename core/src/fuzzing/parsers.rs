//! One body per message parser: any bytes give a value or an error, never a panic, and a value
//! re-encodes to bytes that parse back to it (and re-encode to themselves: canonical bytes are a
//! fixed point). Where the encoding is verbatim, the bytes must come back exactly.

use crate::wire::{
    is_classic_datagram, ClientDatagram, ClientLine, PeerDatagram, ServerDatagram, ServerLine,
};

/// `ClientDatagram::parse` (UDP login/logout to the server).
pub fn client_datagram(data: &[u8]) {
    let Ok(parsed) = ClientDatagram::parse(data) else {
        return;
    };
    assert!(
        !is_classic_datagram(data),
        "a native datagram looks classic"
    );
    let encoded = parsed.to_vec();
    let again = ClientDatagram::parse(&encoded);
    assert_eq!(again.as_ref(), Ok(&parsed), "re-parse of {encoded:?}");
    assert_eq!(again.map(|d| d.to_vec()), Ok(encoded), "not a fixed point");
}

/// `ServerDatagram::parse` (`Accept` / `Reject`): its fields are canonical, so the encoding is
/// the input without its line end.
pub fn server_datagram(data: &[u8]) {
    let Ok(parsed) = ServerDatagram::parse(data) else {
        return;
    };
    let encoded = parsed.to_vec();
    assert_eq!(encoded, without_line_end(data), "not verbatim");
    assert_eq!(ServerDatagram::parse(&encoded), Ok(parsed));
}

/// `PeerDatagram::parse` (`msg` / `ack`): a `msg` keeps its text verbatim and an `ack` drops only
/// its line end, and every header field is canonical or echoed, so the encoding is exact.
pub fn peer_datagram(data: &[u8]) {
    let Ok(parsed) = PeerDatagram::parse(data) else {
        return;
    };
    assert!(
        !is_classic_datagram(data),
        "a native datagram looks classic"
    );
    let encoded = parsed.to_vec();
    match parsed {
        PeerDatagram::Msg { .. } => assert_eq!(encoded, data, "msg not verbatim"),
        PeerDatagram::Ack { .. } => assert_eq!(encoded, without_line_end(data), "ack not verbatim"),
    }
    let again = PeerDatagram::parse(&encoded);
    assert_eq!(again.as_ref(), Ok(&parsed), "re-parse of {encoded:?}");
}

/// `ClientLine::parse` (claim, logout, ping on TCP).
pub fn client_line(data: &[u8]) {
    let Ok(parsed) = ClientLine::parse(data) else {
        return;
    };
    let encoded = parsed.to_vec();
    assert_eq!(encoded.last(), Some(&b'\n'), "a line ends with a newline");
    let again = ClientLine::parse(&encoded);
    assert_eq!(again.as_ref(), Ok(&parsed), "re-parse of {encoded:?}");
    assert_eq!(again.map(|l| l.to_vec()), Ok(encoded), "not a fixed point");
}

/// `ServerLine::parse` (snapshot, presence, dialect, pong, error on TCP).
pub fn server_line(data: &[u8]) {
    let Ok(parsed) = ServerLine::parse(data) else {
        return;
    };
    let encoded = parsed.to_vec();
    assert_eq!(
        encoded.iter().position(|&b| b == b'\n'),
        Some(encoded.len() - 1),
        "exactly one newline, at the end"
    );
    let again = ServerLine::parse(&encoded);
    assert_eq!(again.as_ref(), Ok(&parsed), "re-parse of {encoded:?}");
    assert_eq!(again.map(|l| l.to_vec()), Ok(encoded), "not a fixed point");
}

/// The input without one trailing `\n`, then without one trailing `\r`, as every parser
/// tolerates.
pub(super) fn without_line_end(data: &[u8]) -> &[u8] {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    data.strip_suffix(b"\r").unwrap_or(data)
}
