//! A coordinator in a cluster, its store played by hand: names claimed before a login is
//! accepted, members published and read, the store going away and coming back, dead
//! coordinators reaped, and relay and introductions across coordinators.

use super::*;
use crate::server::cluster::{ClusterConfig, Mail, Member, NodeId, StoreCommand, StoreEvent};
use crate::wire::{Name, RelayPayload, UserEntry};

const ME: NodeId = NodeId(1);
const OTHER: NodeId = NodeId(2);

fn name(n: &str) -> Name {
    Name::new(n).unwrap()
}

fn member(node: NodeId, n: &str, endpoint: &str) -> Member {
    Member {
        node,
        entry: UserEntry {
            name: name(n),
            endpoint: ep(endpoint),
        },
        key: None,
        classic: false,
    }
}

fn store(command: StoreCommand) -> ServerTransmit {
    ServerTransmit::Store(command)
}

impl Harness {
    /// A coordinator whose store is up and synced, empty.
    fn clustered() -> Self {
        let mut h = Harness::with(ServerConfig {
            cluster: Some(ClusterConfig::new(ME)),
            ..ServerConfig::default()
        });
        h.store_says(StoreEvent::Up);
        h.store_says(StoreEvent::Synced(Vec::new()));
        h
    }

    fn store_says(&mut self, event: StoreEvent) -> Vec<ServerTransmit> {
        self.server.handle_store(self.now, event);
        self.drain()
    }

    /// The login datagram of `n` from `source`, which the coordinator answers by claiming the
    /// name in the store: the claim's ticket.
    fn login_claimed(&mut self, n: &str, source: &str) -> Epoch {
        let claim = self.datagram(source, &format!("login,{n},{source}"));
        let [ServerTransmit::Store(StoreCommand::Claim { ticket, .. })] = claim[..] else {
            panic!("a claim first, not {claim:?}");
        };
        ticket
    }

    /// The store's answer to the claim of `n` under `ticket`.
    fn grant(&mut self, n: &str, ticket: Epoch, granted: bool) -> Vec<ServerTransmit> {
        self.store_says(StoreEvent::Claimed {
            name: name(n),
            ticket,
            granted,
        })
    }

    /// A login granted by the store, then claimed by TCP; the store told of the join.
    fn clustered_login(&mut self, n: &str, source: &str) -> ConnId {
        let ticket = self.login_claimed(n, source);
        assert_eq!(
            self.grant(n, ticket, true),
            vec![datagram(source, "Accept,9001")]
        );
        let conn = self.open(&SocketAddr::new(ep(source).ip(), 50000).to_string());
        let out = self.bytes(conn, &format!("login,{n},{source}\n"));
        assert!(
            out.contains(&store(StoreCommand::Join(member(ME, n, source)))),
            "{out:?}"
        );
        conn
    }
}

#[test]
fn a_login_is_accepted_only_once_the_store_grants_its_name() {
    let mut h = Harness::clustered();
    let out = h.datagram("198.51.100.1:4000", "login,alice,198.51.100.1:4000");
    assert_eq!(
        out,
        vec![store(StoreCommand::Claim {
            name: name("alice"),
            ticket: 1
        })]
    );
    // Repeated while the store thinks: still nothing.
    assert_eq!(
        h.datagram("198.51.100.1:4000", "login,alice,198.51.100.1:4000"),
        vec![]
    );
    // Refused: another coordinator holds the name.
    assert_eq!(
        h.grant("alice", 1, false),
        vec![datagram("198.51.100.1:4000", "Reject,name-taken")]
    );
    assert_eq!(h.server.stats().pending, 0);
    // A late grant for a login that is gone gives the name back.
    assert_eq!(
        h.grant("alice", 1, true),
        vec![store(StoreCommand::Release {
            name: name("alice")
        })]
    );
}

#[test]
fn members_come_and_go_in_the_order_the_store_logs_them() {
    let mut h = Harness::clustered();
    let alice = h.clustered_login("alice", "198.51.100.1:4000");
    h.drain();
    let bob = member(OTHER, "bob", "203.0.113.5:7000");
    assert_eq!(
        h.store_says(StoreEvent::Joined(bob.clone())),
        vec![send(alice, "login,bob,203.0.113.5:7000\n")]
    );
    // Our own joins come back through the log: nothing twice.
    assert_eq!(
        h.store_says(StoreEvent::Joined(member(ME, "alice", "198.51.100.1:4000"))),
        vec![]
    );
    assert_eq!(h.store_says(StoreEvent::Joined(bob)), vec![], "no change");
    // The newcomer's snapshot holds the whole cluster.
    let carol = h.clustered_login("carol", "198.51.100.3:4000");
    let out = h.drain();
    assert!(out.is_empty(), "{out:?}");
    let _ = carol;
    // A leave of bob from another node than his is stale: ignored.
    assert_eq!(
        h.store_says(StoreEvent::Left {
            node: NodeId(9),
            name: name("bob")
        }),
        vec![]
    );
    let left = h.store_says(StoreEvent::Left {
        node: OTHER,
        name: name("bob"),
    });
    assert_eq!(left.len(), 2, "alice and carol told: {left:?}");
    assert!(left.contains(&send(alice, "logout,bob,203.0.113.5:7000\n")));
    // A name another coordinator lists is refused at once.
    h.store_says(StoreEvent::Joined(member(
        OTHER,
        "dave",
        "203.0.113.6:7000",
    )));
    h.drain();
    assert_eq!(
        h.datagram("198.51.100.4:4000", "login,dave,198.51.100.4:4000"),
        vec![datagram("198.51.100.4:4000", "Reject,name-taken")]
    );
}

#[test]
fn the_snapshot_lists_every_coordinator() {
    let mut h = Harness::clustered();
    h.store_says(StoreEvent::Joined(member(OTHER, "bob", "203.0.113.5:7000")));
    let source = "198.51.100.1:4000";
    let ticket = h.login_claimed("alice", source);
    h.grant("alice", ticket, true);
    let conn = h.open("198.51.100.1:50000");
    let out = h.bytes(conn, &format!("login,alice,{source}\n"));
    assert!(
        out.contains(&snapshot(
            conn,
            "alice,198.51.100.1:4000;bob,203.0.113.5:7000;end\n"
        )),
        "{out:?}"
    );
}

#[test]
fn while_the_store_is_away_logins_are_refused_and_sessions_stay() {
    let mut h = Harness::clustered();
    let alice = h.clustered_login("alice", "198.51.100.1:4000");
    h.store_says(StoreEvent::Joined(member(OTHER, "bob", "203.0.113.5:7000")));
    // A login waiting for its claim when the store goes: refused.
    h.datagram("198.51.100.2:4000", "login,carol,198.51.100.2:4000");
    let down = h.store_says(StoreEvent::Down);
    assert_eq!(
        down,
        vec![datagram("198.51.100.2:4000", "Reject,unavailable")]
    );
    assert_eq!(
        h.datagram("198.51.100.3:4000", "login,dave,198.51.100.3:4000"),
        vec![datagram("198.51.100.3:4000", "Reject,unavailable")]
    );
    h.advance(Duration::from_secs(30));
    h.bytes(alice, "ping\n");
    assert_eq!(online(&h), ["alice,198.51.100.1:4000"]);
    assert_eq!(h.server.stats().remote, 1, "bob stays while nobody knows");
    // Back: our lease, our names claimed again, then the registry.
    let up = h.store_says(StoreEvent::Up);
    assert_eq!(
        up,
        vec![
            store(StoreCommand::Heartbeat {
                lease: Duration::from_secs(5)
            }),
            store(StoreCommand::Forget),
            store(StoreCommand::Claim {
                name: name("alice"),
                ticket: 2
            }),
            store(StoreCommand::Sync),
        ]
    );
    // alice's name is ours again: she is published again.
    let granted = h.grant("alice", 2, true);
    assert_eq!(
        granted,
        vec![store(StoreCommand::Join(member(
            ME,
            "alice",
            "198.51.100.1:4000"
        )))]
    );
    // The registry lost bob (the store restarted) and still holds zed, who left here meanwhile.
    let synced = h.store_says(StoreEvent::Synced(vec![
        member(ME, "alice", "198.51.100.1:4000"),
        member(ME, "zed", "198.51.100.9:4000"),
    ]));
    assert_eq!(
        synced,
        vec![store(StoreCommand::Leave { name: name("zed") })]
    );
    // bob is kept a while for his coordinator to publish him again; it does not, so he goes.
    h.advance(Duration::from_secs(6));
    assert_eq!(h.server.stats().remote, 1);
    h.advance(Duration::from_secs(2));
    assert_eq!(h.server.stats().remote, 0);
    assert!(h
        .drain()
        .contains(&send(alice, "logout,bob,203.0.113.5:7000\n")));
}

/// A client may connect as soon as it sent its login, before the store answers: its claim
/// waits, and no session (nor its join) is made of a name not granted. Granted, the login is
/// accepted and the waiting claim bound at once; a second claim meanwhile is refused.
#[test]
fn a_claim_before_the_store_grants_the_name_waits_for_it() {
    let mut h = Harness::clustered();
    let source = "198.51.100.1:4000";
    let ticket = h.login_claimed("alice", source);
    let c = h.open("198.51.100.1:50000");
    assert_eq!(h.bytes(c, &format!("login,alice,{source}\n")), vec![]);
    let again = h.open("198.51.100.1:50001");
    assert_eq!(
        h.bytes(again, &format!("login,alice,{source}\n")),
        vec![send(again, "error,no-pending-login\n"), close(again)]
    );
    assert!(online(&h).is_empty());
    let out = h.grant("alice", ticket, true);
    assert_eq!(
        out.first(),
        Some(&datagram(source, "Accept,9001")),
        "{out:?}"
    );
    assert!(
        out.contains(&store(StoreCommand::Join(member(ME, "alice", source)))),
        "{out:?}"
    );
    assert!(
        out.iter()
            .any(|t| matches!(t, ServerTransmit::Snapshot { conn, .. } if *conn == c)),
        "{out:?}"
    );
    assert_eq!(online(&h), [format!("alice,{source}")]);
}

/// The store restarted while alice's login was accepted but not yet claimed, and may have given
/// her name away meanwhile: her claim waits for the store's new answer, and a refusal leaves
/// the name to its new holder, with no join ever published here.
#[test]
fn a_login_accepted_before_the_store_went_away_waits_for_its_name_again() {
    let mut h = Harness::clustered();
    let source = "198.51.100.1:4000";
    let ticket = h.login_claimed("alice", source);
    assert_eq!(
        h.grant("alice", ticket, true),
        vec![datagram(source, "Accept,9001")]
    );
    h.store_says(StoreEvent::Down);
    let up = h.store_says(StoreEvent::Up);
    assert!(
        up.contains(&store(StoreCommand::Claim {
            name: name("alice"),
            ticket
        })),
        "{up:?}"
    );
    let c = h.open("198.51.100.1:50000");
    assert_eq!(h.bytes(c, &format!("login,alice,{source}\n")), vec![]);
    assert_eq!(
        h.grant("alice", ticket, false),
        vec![
            send(c, "error,name-taken\n"),
            close(c),
            datagram(source, "Reject,name-taken")
        ]
    );
    assert!(online(&h).is_empty());
}

/// A claim waiting for a store that goes away again is refused with the login it waited for.
#[test]
fn a_waiting_claim_is_refused_when_its_login_is() {
    let mut h = Harness::clustered();
    let source = "198.51.100.1:4000";
    h.login_claimed("alice", source);
    let c = h.open("198.51.100.1:50000");
    assert_eq!(h.bytes(c, &format!("login,alice,{source}\n")), vec![]);
    let out = h.store_says(StoreEvent::Down);
    assert!(
        out.starts_with(&[send(c, "error,no-pending-login\n"), close(c)]),
        "{out:?}"
    );
    assert!(
        out.contains(&datagram(source, "Reject,unavailable")),
        "{out:?}"
    );
    assert!(online(&h).is_empty());
}

/// Granted again, the same login is accepted again and its claim makes the session.
#[test]
fn a_login_granted_again_after_the_store_returned_is_claimed() {
    let mut h = Harness::clustered();
    let source = "198.51.100.1:4000";
    let ticket = h.login_claimed("alice", source);
    h.grant("alice", ticket, true);
    h.store_says(StoreEvent::Down);
    h.store_says(StoreEvent::Up);
    assert_eq!(
        h.grant("alice", ticket, true),
        vec![datagram(source, "Accept,9001")]
    );
    let c = h.open("198.51.100.1:50000");
    let out = h.bytes(c, &format!("login,alice,{source}\n"));
    assert!(
        out.contains(&store(StoreCommand::Join(member(ME, "alice", source)))),
        "{out:?}"
    );
    assert_eq!(online(&h), [format!("alice,{source}")]);
}

#[test]
fn a_member_published_again_in_time_never_leaves() {
    let mut h = Harness::clustered();
    let alice = h.clustered_login("alice", "198.51.100.1:4000");
    let bob = member(OTHER, "bob", "203.0.113.5:7000");
    h.store_says(StoreEvent::Joined(bob.clone()));
    h.store_says(StoreEvent::Down);
    h.store_says(StoreEvent::Up);
    h.store_says(StoreEvent::Synced(Vec::new()));
    h.advance(Duration::from_secs(3));
    h.drain();
    assert_eq!(h.store_says(StoreEvent::Joined(bob)), vec![]);
    h.advance(Duration::from_secs(10));
    h.bytes(alice, "ping\n");
    assert_eq!(h.server.stats().remote, 1);
    let told: Vec<_> = h.drain();
    assert!(!told.contains(&send(alice, "logout,bob,203.0.113.5:7000\n")));
}

#[test]
fn a_coordinator_without_its_lease_twice_is_reaped() {
    let mut h = Harness::clustered();
    h.store_says(StoreEvent::Joined(member(OTHER, "bob", "203.0.113.5:7000")));
    h.advance(Duration::from_secs(1));
    let out = h.drain();
    assert!(
        out.contains(&store(StoreCommand::CheckNodes(vec![OTHER]))),
        "{out:?}"
    );
    // Once: suspected only (a store that restarted lost every lease).
    assert_eq!(
        h.store_says(StoreEvent::Checked { dead: vec![OTHER] }),
        vec![]
    );
    h.advance(Duration::from_secs(1));
    h.drain();
    // Alive again: forgiven.
    assert_eq!(h.store_says(StoreEvent::Checked { dead: vec![] }), vec![]);
    h.advance(Duration::from_secs(1));
    h.drain();
    assert_eq!(
        h.store_says(StoreEvent::Checked { dead: vec![OTHER] }),
        vec![]
    );
    h.advance(Duration::from_secs(2));
    h.drain();
    assert_eq!(
        h.store_says(StoreEvent::Checked { dead: vec![OTHER] }),
        vec![store(StoreCommand::Reap(OTHER))]
    );
    assert!(h.events().contains(&ServerEvent::Reaping { node: OTHER }));
}

#[test]
fn relay_and_introductions_cross_coordinators_as_mail() {
    let mut h = Harness::clustered();
    let alice = h.clustered_login("alice", "198.51.100.1:4000");
    h.store_says(StoreEvent::Joined(member(OTHER, "bob", "203.0.113.5:7000")));
    h.drain();
    let payload = RelayPayload::encode(b"\x01sealed").unwrap();
    assert_eq!(
        h.bytes(alice, &format!("relay,bob,{}\n", payload.as_str())),
        vec![store(StoreCommand::Mail {
            to: OTHER,
            mail: Mail::Relay {
                from: name("alice"),
                to: name("bob"),
                payload: payload.clone()
            }
        })]
    );
    assert_eq!(
        h.bytes(alice, "intro,bob\n"),
        vec![
            send(alice, "intro,bob,203.0.113.5:7000\n"),
            store(StoreCommand::Mail {
                to: OTHER,
                mail: Mail::Intro {
                    from: UserEntry {
                        name: name("alice"),
                        endpoint: ep("198.51.100.1:4000")
                    },
                    to: name("bob")
                }
            }),
        ]
    );
    // Mail for our member is delivered; for someone not here, dropped and counted.
    let relay = |to: &str| StoreEvent::Mail {
        from: OTHER,
        mail: Mail::Relay {
            from: name("bob"),
            to: name(to),
            payload: payload.clone(),
        },
    };
    assert_eq!(
        h.store_says(relay("alice")),
        vec![send(alice, &format!("relay,bob,{}\n", payload.as_str()))]
    );
    assert_eq!(h.store_says(relay("nobody")), vec![]);
    let stats = h.server.stats();
    assert_eq!((stats.relayed, stats.relay_refused), (1, 1));
}

#[test]
fn a_departure_and_a_shutdown_are_published() {
    let mut h = Harness::clustered();
    let alice = h.clustered_login("alice", "198.51.100.1:4000");
    h.clustered_login("bob", "198.51.100.2:4000");
    h.drain();
    let out = h.bytes(alice, "logout,alice,198.51.100.1:4000\n");
    assert!(
        out.contains(&store(StoreCommand::Leave {
            name: name("alice")
        })),
        "{out:?}"
    );
    h.server.shutdown(h.now);
    assert!(h
        .drain()
        .contains(&store(StoreCommand::Leave { name: name("bob") })));
}

#[test]
fn a_server_alone_ignores_the_store() {
    let mut h = Harness::new();
    assert_eq!(h.store_says(StoreEvent::Up), vec![]);
    h.login("alice", "198.51.100.1:4000");
    assert!(h
        .drain()
        .iter()
        .all(|t| !matches!(t, ServerTransmit::Store(_))));
}
