//! Property tests: round-trips for every message, totality on arbitrary bytes, and chunking.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;

use super::*;

pub(crate) fn name() -> impl Strategy<Value = Name> {
    // Any scalar values, including CJK and emoji; keep only valid names.
    proptest::string::string_regex("[a-zA-Z0-9 _\u{4e00}-\u{4e20}\u{1f600}-\u{1f610}.-]{1,32}")
        .expect("valid regex")
        .prop_filter_map("valid name", |s| Name::new(&s).ok())
}

pub(crate) fn endpoint() -> impl Strategy<Value = SocketAddr> {
    let v4 = any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o)));
    let v6 = any::<[u16; 8]>().prop_map(|s| IpAddr::V6(Ipv6Addr::from(s)));
    (prop_oneof![v4, v6], any::<u16>()).prop_map(|(ip, port)| canonical(SocketAddr::new(ip, port)))
}

pub(crate) fn entry() -> impl Strategy<Value = UserEntry> {
    (name(), endpoint()).prop_map(|(n, e)| UserEntry::new(n, e))
}

fn client_datagram() -> impl Strategy<Value = ClientDatagram> {
    prop_oneof![
        entry().prop_map(ClientDatagram::Login),
        entry().prop_map(ClientDatagram::Logout)
    ]
}

fn key() -> impl Strategy<Value = PublicKey> {
    any::<[u8; 32]>().prop_map(PublicKey::from_bytes)
}

fn server_datagram() -> impl Strategy<Value = ServerDatagram> {
    prop_oneof![
        (1u16..).prop_map(|tcp_port| ServerDatagram::Accept { tcp_port }),
        proptest::sample::select(RejectReason::ALL).prop_map(ServerDatagram::Reject),
    ]
}

fn payload() -> impl Strategy<Value = RelayPayload> {
    proptest::collection::vec(any::<u8>(), 1..=MAX_CHAT_DATAGRAM)
        .prop_filter_map("within the limit", |d| RelayPayload::encode(&d))
}

fn client_line() -> impl Strategy<Value = ClientLine> {
    prop_oneof![
        (entry(), proptest::option::of(key()))
            .prop_map(|(entry, key)| ClientLine::Login { entry, key }),
        entry().prop_map(ClientLine::Logout),
        Just(ClientLine::Ping),
        name().prop_map(ClientLine::Intro),
        (name(), payload()).prop_map(|(to, payload)| ClientLine::Relay { to, payload }),
    ]
}

fn server_line() -> impl Strategy<Value = ServerLine> {
    prop_oneof![
        proptest::collection::vec(entry(), 0..20).prop_map(ServerLine::Snapshot),
        entry().prop_map(ServerLine::Login),
        entry().prop_map(ServerLine::Logout),
        name().prop_map(|name| ServerLine::Dialect {
            name,
            dialect: Dialect::Classic
        }),
        (name(), key()).prop_map(|(name, key)| ServerLine::Key { name, key }),
        Just(ServerLine::Pong),
        proptest::sample::select(ErrorReason::ALL).prop_map(ServerLine::Error),
        entry().prop_map(ServerLine::Intro),
        (name(), payload()).prop_map(|(from, payload)| ServerLine::Relay { from, payload }),
    ]
}

proptest! {
    #[test]
    fn client_datagrams_round_trip(d in client_datagram()) {
        prop_assert_eq!(ClientDatagram::parse(&d.to_vec()), Ok(d));
    }

    #[test]
    fn server_datagrams_round_trip(d in server_datagram()) {
        prop_assert_eq!(ServerDatagram::parse(&d.to_vec()), Ok(d));
    }

    #[test]
    fn client_lines_round_trip(l in client_line()) {
        prop_assert_eq!(ClientLine::parse(&l.to_vec()), Ok(l));
    }

    #[test]
    fn server_lines_round_trip(l in server_line()) {
        prop_assert_eq!(ServerLine::parse(&l.to_vec()), Ok(l));
    }

    #[test]
    fn peer_datagrams_round_trip(
        from in name(),
        sid in any::<u64>(),
        seq in 1u64..,
        text in "(?s).{1,200}",
        is_ack in any::<bool>(),
    ) {
        let sid = SessionId::new(sid);
        let d = if is_ack {
            PeerDatagram::Ack { from, sid, seq }
        } else {
            PeerDatagram::Msg { from, sid, seq, text: &text }
        };
        let bytes = d.to_vec();
        prop_assert_eq!(PeerDatagram::parse(&bytes), Ok(d));
    }

    #[test]
    fn parsers_are_total(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = ClientDatagram::parse(&bytes);
        let _ = ServerDatagram::parse(&bytes);
        let _ = ClientLine::parse(&bytes);
        let _ = ServerLine::parse(&bytes);
        let _ = PeerDatagram::parse(&bytes);
    }

    #[test]
    fn parsers_are_total_on_near_valid_text(
        bytes in "(login|logout|Accept|Reject|msg|ack|error|dialect|ping|pong|end|[,;:\\[\\]0-9a-f.]){0,40}"
    ) {
        let bytes = bytes.as_bytes();
        let _ = ClientDatagram::parse(bytes);
        let _ = ServerDatagram::parse(bytes);
        let _ = ClientLine::parse(bytes);
        let _ = ServerLine::parse(bytes);
        let _ = PeerDatagram::parse(bytes);
    }

    #[test]
    fn chunked_stream_decodes_as_whole(
        lines in proptest::collection::vec(server_line(), 1..20),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..30),
    ) {
        let mut stream = Vec::new();
        for l in &lines {
            l.encode(&mut stream);
        }
        let mut cut_points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        cut_points.sort_unstable();
        let mut decoder = LineDecoder::new(1 << 20);
        let mut decoded = Vec::new();
        let mut prev = 0;
        for cut in cut_points.into_iter().chain([stream.len()]) {
            decoder.push(&stream[prev..cut]);
            prev = cut;
            while let Some(line) = decoder.next_line() {
                let line = line.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                decoded.push(ServerLine::parse(line).map_err(|e| TestCaseError::fail(e.to_string()))?);
            }
        }
        prop_assert_eq!(decoded, lines);
    }
}

#[test]
fn ten_thousand_entry_snapshot_round_trips() {
    let entries: Vec<UserEntry> = (0..10_000u32)
        .map(|i| {
            UserEntry::new(
                Name::new(&format!("user{i}")).unwrap(),
                SocketAddr::new(Ipv4Addr::new(10, 0, (i >> 8) as u8, i as u8).into(), 40000),
            )
        })
        .collect();
    let line = ServerLine::Snapshot(entries);
    let bytes = line.to_vec();
    let mut decoder = LineDecoder::new(bytes.len());
    for chunk in bytes.chunks(7) {
        decoder.push(chunk);
    }
    let got = decoder.next_line().expect("a line").expect("within limit");
    assert_eq!(ServerLine::parse(got), Ok(line));
}
