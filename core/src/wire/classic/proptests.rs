//! Property tests for the classic dialect: round-trips, totality, and a list cut at every byte.

use proptest::prelude::*;

use super::*;
use crate::wire::proptests::{entry, name};

fn classic_datagram() -> impl Strategy<Value = ClassicDatagram> {
    prop_oneof![
        entry().prop_map(ClassicDatagram::Login),
        entry().prop_map(ClassicDatagram::Logout),
        (1u16..).prop_map(|tcp_port| ClassicDatagram::Accept { tcp_port }),
        ("[^,]{0,16}", name(), "(?s).{1,200}")
            .prop_map(|(time, from, text)| ClassicDatagram::Talk { time, from, text }),
    ]
}

fn utf16(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    encode_utf16le(text, &mut out);
    out
}

proptest! {
    #[test]
    fn utf16le_round_trips(text in any::<String>()) {
        let bytes = utf16(&text);
        prop_assert_eq!(bytes.len(), 2 * text.encode_utf16().count());
        prop_assert_eq!(decode_utf16le(&bytes), Ok(text));
    }

    #[test]
    fn classic_datagrams_round_trip(d in classic_datagram()) {
        let bytes = d.to_vec();
        prop_assert!(is_classic_datagram(&bytes));
        prop_assert_eq!(ClassicDatagram::parse(&bytes), Ok(d));
    }

    #[test]
    fn lists_decode_only_when_whole(
        entries in proptest::collection::vec(entry(), 0..12),
        junk in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut bytes = Vec::new();
        encode_classic_list(entries.iter().map(|e| (&e.name, e.endpoint)), &mut bytes);
        let whole = bytes.len();
        for cut in 0..whole {
            prop_assert_eq!(decode_classic_list(&bytes[..cut]), Ok(None), "cut at {}", cut);
        }
        bytes.extend_from_slice(&junk);
        prop_assert_eq!(decode_classic_list(&bytes), Ok(Some((entries, whole))));
    }

    #[test]
    fn classic_parsers_are_total(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = ClassicDatagram::parse(&bytes);
        let _ = decode_utf16le(&bytes);
        if let Ok(Some((_, used))) = decode_classic_list(&bytes) {
            prop_assert!(used <= bytes.len());
        }
    }

    #[test]
    fn classic_parsers_are_total_on_near_valid_text(
        text in "(login|logout|Accept|talk|end|[,;: \\[\\]0-9a-f.\n\r\u{d7ff}\u{e000}]){0,40}"
    ) {
        let _ = ClassicDatagram::parse(&utf16(&text));
        let mut list = vec![text.len().min(127) as u8];
        list.extend_from_slice(text.as_bytes());
        let _ = decode_classic_list(&list);
    }
}
