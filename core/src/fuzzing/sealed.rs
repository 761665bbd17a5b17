//! `SealedDatagram::parse`: any bytes give a value or an error, never a panic; a value is
//! exactly the bytes it came from; and sealed and text datagrams are never confused.

use crate::wire::{is_classic_datagram, is_sealed, PeerDatagram, SealedDatagram};

pub fn sealed(data: &[u8]) {
    if PeerDatagram::parse(data).is_ok() {
        assert!(!is_sealed(data), "a text datagram looks sealed");
    }
    let Ok(parsed) = SealedDatagram::parse(data) else {
        return;
    };
    assert!(is_sealed(data), "parsed as sealed but not is_sealed");
    assert!(
        PeerDatagram::parse(data).is_err(),
        "a sealed datagram parses as text"
    );
    let encoded = parsed.to_vec();
    assert_eq!(encoded, data, "not byte for byte");
    assert_eq!(SealedDatagram::parse(&encoded), Ok(parsed));
    // Whatever its second byte says, a sealed datagram is not classic text: callers ask
    // `is_sealed` first, so only that must hold.
    let _ = is_classic_datagram(data);
}
