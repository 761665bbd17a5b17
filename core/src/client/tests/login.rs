//! Login: datagram retries, Accept/Reject, the TCP claim and the snapshot.

use super::*;
use crate::client::{ClientState, LoginFailure};
use crate::wire::{ErrorReason, RejectReason};

const LOGIN: &str = "login,alice,192.168.1.5:40001";

#[test]
fn the_first_login_datagram_is_queued_at_once() {
    let mut rig = Rig::new();
    assert_eq!(rig.datagrams(), [(addr(SERVER), LOGIN.to_owned())]);
    assert_eq!(rig.client.state(), ClientState::LoggingIn);
    assert_eq!(rig.client.poll_timeout(), Some(rig.t0 + ms(500)));
    assert!(rig.events().is_empty());
}

#[test]
fn login_is_retried_with_doubling_waits_then_times_out() {
    let mut rig = Rig::new();
    rig.transmits();
    let mut sent_at = vec![Duration::ZERO];
    while rig.client.state() == ClientState::LoggingIn {
        // An early call does nothing.
        rig.client.handle_timeout(rig.now);
        assert!(rig.transmits().is_empty());
        rig.fire_next();
        for (to, data) in rig.datagrams() {
            assert_eq!((to, data.as_str()), (addr(SERVER), LOGIN));
            sent_at.push(rig.elapsed());
        }
    }
    assert_eq!(sent_at, [0, 500, 1500, 3500, 7500].map(ms));
    assert_eq!(rig.elapsed(), ms(15_500));
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::Timeout)]
    );
    assert_eq!(rig.client.poll_timeout(), None);
    assert_eq!(rig.client.state(), ClientState::Closed);
}

#[test]
fn reject_ends_the_login_with_its_reason() {
    let mut rig = Rig::new();
    rig.transmits();
    rig.server_datagram(b"Reject,name-taken");
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::Rejected(
            RejectReason::NameTaken
        ))]
    );
    assert!(rig.transmits().is_empty());
    assert_eq!(rig.client.state(), ClientState::Closed);
    // Afterwards everything is a no-op.
    rig.server_datagram(b"Accept,9001");
    rig.advance(Duration::from_secs(100));
    assert!(rig.transmits().is_empty() && rig.events().is_empty());
}

#[test]
fn answers_from_another_address_are_not_the_server() {
    let mut rig = Rig::new();
    rig.transmits();
    rig.peer_datagram("10.0.0.1:9999", b"Reject,name-taken");
    rig.peer_datagram("10.0.0.2:9000", b"Accept,9001");
    assert_eq!(rig.client.state(), ClientState::LoggingIn);
    assert_eq!(rig.client.stats().malformed, 2);
    rig.server_datagram(b"Accept,x");
    assert_eq!(rig.client.stats().malformed, 3);
}

#[test]
fn mapped_ipv6_server_address_is_the_server() {
    let mut rig = Rig::new();
    rig.transmits();
    rig.peer_datagram("[::ffff:10.0.0.1]:9000", b"Accept,9001");
    assert_eq!(rig.client.state(), ClientState::Connecting);
}

#[test]
fn accept_connect_claim_snapshot_logged_in() {
    let mut rig = Rig::new();
    rig.transmits();
    rig.server_datagram(b"Accept,9001");
    assert_eq!(
        rig.transmits(),
        [ClientTransmit::Connect {
            to: addr("10.0.0.1:9001")
        }]
    );
    assert_eq!(rig.client.state(), ClientState::Connecting);
    // A repeated Accept (answer to a retransmitted login) is ignored; no more login retries.
    rig.server_datagram(b"Accept,9001");
    rig.advance(Duration::from_secs(10));
    assert!(rig.transmits().is_empty());

    rig.client.handle_connected(rig.now);
    // The claim announces our key.
    let key = keys_of("alice").public();
    assert_eq!(rig.transmits(), [send_line(&format!("{LOGIN},{key}\n"))]);
    rig.client.handle_connected(rig.now);
    assert!(rig.transmits().is_empty());

    // The snapshot, split at every byte.
    let snapshot = format!("bob,{BOB};alice,{OBSERVED};小明,{CAROL};end\r\n");
    for byte in snapshot.as_bytes() {
        assert!(rig.events().is_empty());
        rig.client
            .handle_tcp_bytes(rig.now, std::slice::from_ref(byte));
    }
    let users = vec![
        entry("bob", BOB),
        entry("alice", OBSERVED),
        entry("小明", CAROL),
    ];
    assert_eq!(
        rig.events(),
        [ClientEvent::LoggedIn {
            me: entry("alice", OBSERVED),
            users: users.clone()
        }]
    );
    assert_eq!(rig.client.state(), ClientState::Online);
    assert_eq!(rig.client.me(), Some(&entry("alice", OBSERVED)));
    assert_eq!(rig.client.users().cloned().collect::<Vec<_>>(), users);
}

#[test]
fn a_snapshot_without_us_is_refused() {
    let mut rig = Rig::new();
    rig.server_datagram(b"Accept,9001");
    rig.client.handle_connected(rig.now);
    rig.transmits();
    rig.line(&format!("bob,{BOB};end"));
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::BadSnapshot)]
    );
    assert_eq!(rig.transmits(), [ClientTransmit::Close]);
}

#[test]
fn malformed_snapshots_and_other_lines_before_it_are_refused() {
    for bad in [
        format!("alice,{OBSERVED};alice,{BOB};end"),
        format!("alice,{OBSERVED};"),
        "pong".to_owned(),
        format!("login,bob,{BOB}"),
    ] {
        let mut rig = Rig::new();
        rig.server_datagram(b"Accept,9001");
        rig.client.handle_connected(rig.now);
        rig.transmits();
        rig.line(&bad);
        assert_eq!(
            rig.events(),
            [ClientEvent::LoginFailed(LoginFailure::BadSnapshot)],
            "{bad}"
        );
        assert_eq!(rig.transmits(), [ClientTransmit::Close]);
    }
}

#[test]
fn an_overlong_snapshot_is_refused() {
    let mut cfg = config();
    cfg.max_server_line = 16;
    let mut rig = Rig::with(cfg);
    rig.server_datagram(b"Accept,9001");
    rig.client.handle_connected(rig.now);
    rig.transmits();
    rig.client.handle_tcp_bytes(rig.now, &[b'x'; 64]);
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::BadSnapshot)]
    );
    assert_eq!(rig.transmits(), [ClientTransmit::Close]);
}

#[test]
fn error_line_before_the_snapshot_is_a_refusal() {
    let mut rig = Rig::new();
    rig.server_datagram(b"Accept,9001");
    rig.client.handle_connected(rig.now);
    rig.transmits();
    rig.line("error,no-pending-login");
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::Refused(
            ErrorReason::NoPendingLogin
        ))]
    );
    assert_eq!(rig.transmits(), [ClientTransmit::Close]);
}

#[test]
fn tcp_closing_before_the_snapshot() {
    let mut rig = Rig::new();
    rig.server_datagram(b"Accept,9001");
    rig.client.handle_tcp_closed(rig.now);
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::ConnectFailed)]
    );

    let mut rig = Rig::new();
    rig.server_datagram(b"Accept,9001");
    rig.client.handle_connected(rig.now);
    rig.transmits();
    rig.client.handle_tcp_closed(rig.now);
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::ConnectionLost)]
    );
    // The transport already knows the connection is gone.
    assert!(rig.transmits().is_empty());
}

#[test]
fn no_snapshot_within_the_server_timeout() {
    let mut rig = Rig::new();
    rig.server_datagram(b"Accept,9001");
    rig.client.handle_connected(rig.now);
    rig.transmits();
    assert_eq!(
        rig.client.poll_timeout(),
        Some(rig.t0 + Duration::from_secs(60))
    );
    rig.advance(Duration::from_secs(59));
    assert!(rig.events().is_empty());
    rig.fire_next();
    assert_eq!(
        rig.events(),
        [ClientEvent::LoginFailed(LoginFailure::ConnectionLost)]
    );
    assert_eq!(rig.transmits(), [ClientTransmit::Close]);
    assert_eq!(rig.client.poll_timeout(), None);
}

#[test]
fn logout_while_logging_in_or_connecting() {
    let mut rig = Rig::new();
    rig.transmits();
    rig.client.logout(rig.now);
    assert_eq!(rig.events(), [ClientEvent::LoggedOut]);
    assert!(rig.transmits().is_empty());
    assert_eq!(rig.client.poll_timeout(), None);

    let mut rig = Rig::new();
    rig.server_datagram(b"Accept,9001");
    rig.transmits();
    rig.client.logout(rig.now);
    assert_eq!(rig.events(), [ClientEvent::LoggedOut]);
    assert_eq!(rig.transmits(), [ClientTransmit::Close]);
    rig.client.logout(rig.now);
    rig.client.handle_connected(rig.now);
    rig.client
        .handle_tcp_bytes(rig.now, format!("alice,{OBSERVED};end\n").as_bytes());
    assert!(rig.events().is_empty() && rig.transmits().is_empty());
}
