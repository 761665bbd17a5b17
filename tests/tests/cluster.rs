//! Coordinators sharing presence through a real `redis-server` (started by each test on a free
//! loopback port, persistence off, killed by its pid), with the real binaries mixed: lists exact
//! on every coordinator, a name unique across them, a killed coordinator's users gone everywhere
//! within the lease, and a Redis restart that drops no session. Without `redis-server` each test
//! says so and passes (`.ci/run` installs it).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use feige_core::server::cluster::{Mail, Member, NodeId, StoreCommand, StoreEvent};
use feige_core::wire::{Name, PublicKey, RelayPayload, UserEntry};
use feige_platform::cluster::{Deliver, StoreLink};
use feige_tests::proc::{
    binary_path, can_run, start_chat, start_server_with, ChatProc, Proc, RedisProc, ServerProc,
};
use serde_json::Value;

/// The binaries of the three coordinators: both transports in one cluster.
const COORDINATORS: [&str; 3] = ["feige-smol", "feige", "feige-smol"];

/// A coordinator that dies loses its users everywhere within this (protocol: a 5 s lease,
/// confirmed 2 s later, checked every second).
const LEASE_BOUND: Duration = Duration::from_secs(10);

fn redis_ready(test: &str) -> Option<RedisProc> {
    can_run(test, RedisProc::unavailable(), false).then(RedisProc::start)
}

/// A coordinator of the cluster at `redis`, once it has reached it.
fn coordinator(binary: &str, redis: &RedisProc) -> ServerProc {
    let url = redis.url();
    let mut server = start_server_with(
        &binary_path(binary),
        "127.0.0.1",
        &["--cluster", &url],
        true,
    );
    server.wait_for("the store reached", is_store("up"));
    server
}

fn is_store(state: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == "cluster" && v["store"] == state
}

/// A client of `coordinator`, logged in, with the binary the coordinator does not use.
fn client(name: &str, coordinator: &ServerProc, index: usize) -> ChatProc {
    let binary = COORDINATORS[(index + 1) % COORDINATORS.len()];
    start_chat(&binary_path(binary), name, coordinator.udp)
}

/// Everyone, name → endpoint, as their own clients were listed.
fn truth(clients: &[&ChatProc]) -> BTreeMap<String, Value> {
    clients
        .iter()
        .map(|c| {
            let name = c.logged_in["name"].as_str().unwrap_or_default().to_owned();
            (name, Value::from(c.endpoint()))
        })
        .collect()
}

/// A `feige chat NAME` that `coordinator` must refuse: the reason of its `login_failed`.
fn refused_login(name: &str, coordinator: &ServerProc) -> String {
    let server = coordinator.udp.to_string();
    let args = ["chat", name, "--json", "--ephemeral", "--server", &server];
    let mut refused = Proc::spawn(name, &binary_path("feige"), &args);
    let failed = refused.wait_event("login_failed");
    failed["reason"].as_str().unwrap_or_default().to_owned()
}

fn left(name: &str) -> impl Fn(&Value) -> bool + '_ {
    move |v| v["event"] == "left" && v["name"] == name
}

/// Three coordinators, two users on each: every list on every coordinator is the whole cluster,
/// chat crosses coordinators (peer to peer, as ever), a name online on one coordinator is refused
/// on another, and a leave on one reaches everyone.
#[test]
fn coordinators_act_as_one() {
    let Some(redis) = redis_ready("coordinators_act_as_one") else {
        return;
    };
    let coordinators: Vec<ServerProc> = COORDINATORS
        .iter()
        .map(|b| coordinator(b, &redis))
        .collect();
    let names = ["alice", "bob", "小明", "dave", "eve", "frank smith"];
    let mut clients: Vec<ChatProc> = names
        .iter()
        .enumerate()
        .map(|(i, name)| client(name, &coordinators[i % 3], i))
        .collect();
    let everyone = truth(&clients.iter().collect::<Vec<_>>());
    for c in &mut clients {
        c.wait_for_list(&everyone);
    }

    // alice (coordinator 0) writes to bob (coordinator 1).
    clients[0].send_line("/msg bob across coordinators");
    let shown = clients[1].wait_for("alice's message", |v| v["event"] == "message");
    assert_eq!(shown["text"], "across coordinators");
    clients[0].wait_event("delivered");

    // alice is online on coordinator 0: coordinator 2 refuses the name.
    assert_eq!(refused_login("alice", &coordinators[2]), "name-taken");

    // 小明 (coordinator 2) logs out: everyone else sees it, once.
    clients[2].send_line("/quit");
    clients[2].wait_event("logged_out");
    let mut rest: Vec<ChatProc> = clients
        .into_iter()
        .enumerate()
        .filter(|&(i, _)| i != 2)
        .map(|(_, c)| c)
        .collect();
    let remaining = truth(&rest.iter().collect::<Vec<_>>());
    for c in &mut rest {
        c.wait_for("小明 to leave", left("小明"));
        c.wait_for_list(&remaining);
        assert_eq!(c.seen(left("小明")), 1);
    }
}

/// `kill -9` of a coordinator: its users leave on every other coordinator within the lease, the
/// others stay, and their names are free again.
#[test]
fn a_killed_coordinator_loses_its_users_everywhere() {
    let Some(redis) = redis_ready("a_killed_coordinator_loses_its_users_everywhere") else {
        return;
    };
    let mut coordinators: Vec<ServerProc> = COORDINATORS
        .iter()
        .map(|b| coordinator(b, &redis))
        .collect();
    let mut alice = client("alice", &coordinators[0], 0);
    let bob = client("bob", &coordinators[1], 1);
    let mut carol = client("carol", &coordinators[2], 2);
    let everyone = truth(&[&alice, &bob, &carol]);
    alice.wait_for_list(&everyone);
    carol.wait_for_list(&everyone);

    let killed = Instant::now();
    coordinators[1].kill();
    for c in [&mut alice, &mut carol] {
        c.wait_for("bob to leave", left("bob"));
        let took = killed.elapsed();
        assert!(took <= LEASE_BOUND, "bob left after {took:?}");
    }
    let survivors = truth(&[&alice, &carol]);
    alice.wait_for_list(&survivors);
    carol.wait_for_list(&survivors);
    drop(bob);

    // The name is free: bob logs in again, on another coordinator.
    let bob = client("bob", &coordinators[0], 0);
    let everyone = truth(&[&alice, &bob, &carol]);
    alice.wait_for_list(&everyone);
    carol.wait_for_list(&everyone);
}

/// Redis is killed and started again, empty: no coordinator drops a session (no client hears of
/// a leave or loses its server), logins meanwhile are refused as `unavailable`, a logout meanwhile
/// reaches everyone once Redis is back, and the lists converge to the truth.
#[test]
fn a_redis_restart_drops_no_session_and_lists_converge() {
    let Some(mut redis) = redis_ready("a_redis_restart_drops_no_session_and_lists_converge") else {
        return;
    };
    let mut coordinators: Vec<ServerProc> = COORDINATORS
        .iter()
        .map(|b| coordinator(b, &redis))
        .collect();
    let mut alice = client("alice", &coordinators[0], 0);
    let mut bob = client("bob", &coordinators[1], 1);
    let mut carol = client("carol", &coordinators[2], 2);
    let mut dave = client("dave", &coordinators[0], 0);
    let everyone = truth(&[&alice, &bob, &carol, &dave]);
    for c in [&mut alice, &mut bob, &mut carol, &mut dave] {
        c.wait_for_list(&everyone);
    }

    redis.kill();
    for c in &mut coordinators {
        c.wait_for("the store lost", is_store("down"));
    }
    assert_eq!(refused_login("eve", &coordinators[2]), "unavailable");
    dave.send_line("/quit");
    dave.wait_event("logged_out");

    redis.restart();
    for c in &mut coordinators {
        c.wait_for("the store back", is_store("up"));
    }
    let survivors = truth(&[&alice, &bob, &carol]);
    for c in [&mut alice, &mut bob, &mut carol] {
        c.wait_for_list(&survivors);
    }
    let eve = client("eve", &coordinators[2], 2);
    let everyone = truth(&[&alice, &bob, &carol, &eve]);
    for c in [&mut alice, &mut bob, &mut carol] {
        c.wait_for_list(&everyone);
        for name in ["alice", "bob", "carol"] {
            assert_eq!(c.seen(left(name)), 0, "{} heard {name} leave", c.label());
        }
        assert_eq!(
            c.seen(|v| v["event"] == "reconnecting"),
            0,
            "{} lost its coordinator",
            c.label()
        );
    }
}

/// Events from one link, waited for with a bound.
struct Heard(std::sync::mpsc::Receiver<StoreEvent>);

impl Heard {
    fn next(&self, what: &str, matches: impl Fn(&StoreEvent) -> bool) -> StoreEvent {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self
                .0
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} within 10 s"));
            if matches(&event) {
                return event;
            }
        }
    }
}

fn link(redis: &RedisProc, node: NodeId) -> (StoreLink, Heard) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let deliver: Deliver = std::sync::Arc::new(move |event| {
        let _ = tx.lock().map(|tx| tx.send(event));
    });
    let link = StoreLink::start(&redis.url(), node, deliver).expect("a link");
    let heard = Heard(rx);
    heard.next("up", |e| *e == StoreEvent::Up);
    (link, heard)
}

fn member(node: NodeId, name: &str, endpoint: &str) -> Member {
    Member {
        node,
        entry: UserEntry {
            name: Name::new(name).expect("a name"),
            endpoint: endpoint.parse().expect("an endpoint"),
        },
        key: Some(PublicKey::from_bytes([9; 32])),
        classic: false,
    }
}

/// Every command of the link against a real Redis, from two nodes: claims granted and refused,
/// joins and leaves through the log in order, a sync, mail, liveness, a reap, and a forgotten
/// claim — what the scripts of `platform/src/cluster` promise, checked where they run.
#[test]
fn the_link_carries_every_command_through_a_real_redis() {
    let Some(redis) = redis_ready("the_link_carries_every_command_through_a_real_redis") else {
        return;
    };
    let (a, b) = (NodeId(0xa), NodeId(0xb));
    let (link_a, heard_a) = link(&redis, a);
    let (link_b, heard_b) = link(&redis, b);
    let name = |n: &str| Name::new(n).expect("a name");
    let claimed = |heard: &Heard, n: &str| match heard
        .next("a claim", |e| matches!(e, StoreEvent::Claimed { .. }))
    {
        StoreEvent::Claimed {
            name: got, granted, ..
        } => {
            assert_eq!(got.as_str(), n);
            granted
        }
        _ => unreachable!(),
    };
    let lease = Duration::from_millis(400);
    link_a.send(StoreCommand::Heartbeat {
        lease: Duration::from_secs(60),
    });
    link_b.send(StoreCommand::Heartbeat { lease });
    link_a.send(StoreCommand::Sync);
    link_b.send(StoreCommand::Sync);
    heard_a.next("a's sync", |e| *e == StoreEvent::Synced(Vec::new()));
    heard_b.next("b's sync", |e| *e == StoreEvent::Synced(Vec::new()));

    link_a.send(StoreCommand::Claim {
        name: name("alice"),
        ticket: 1,
    });
    assert!(claimed(&heard_a, "alice"), "a free name is granted");
    link_b.send(StoreCommand::Claim {
        name: name("alice"),
        ticket: 2,
    });
    assert!(!claimed(&heard_b, "alice"), "a live node's name is refused");

    let alice = member(a, "alice", "198.51.100.1:4000");
    link_a.send(StoreCommand::Join(alice.clone()));
    assert_eq!(
        heard_b.next("alice's join", |e| matches!(e, StoreEvent::Joined(_))),
        StoreEvent::Joined(alice.clone())
    );
    link_a.send(StoreCommand::Mail {
        to: b,
        mail: Mail::Relay {
            from: name("alice"),
            to: name("bob"),
            payload: RelayPayload::encode(b"sealed").expect("small"),
        },
    });
    assert!(matches!(
        heard_b.next("mail", |e| matches!(e, StoreEvent::Mail { .. })),
        StoreEvent::Mail { from, .. } if from == a
    ));

    // b's registry read at one point of the log holds alice; b then hears her leave.
    link_b.send(StoreCommand::Sync);
    heard_b.next("a sync listing alice", |e| {
        *e == StoreEvent::Synced(vec![alice.clone()])
    });
    link_a.send(StoreCommand::Leave {
        name: name("alice"),
    });
    assert_eq!(
        heard_b.next("alice's leave", |e| matches!(e, StoreEvent::Left { .. })),
        StoreEvent::Left {
            node: a,
            name: name("alice")
        }
    );

    // A claim never used is forgotten: the name is free again for another node.
    link_a.send(StoreCommand::Claim {
        name: name("carol"),
        ticket: 3,
    });
    assert!(claimed(&heard_a, "carol"));
    link_a.send(StoreCommand::Forget);
    // A's commands run in order: once its sync is answered, the forget is done.
    link_a.send(StoreCommand::Sync);
    heard_a.next("a's sync", |e| matches!(e, StoreEvent::Synced(_)));
    link_b.send(StoreCommand::Claim {
        name: name("carol"),
        ticket: 4,
    });
    assert!(
        claimed(&heard_b, "carol"),
        "forgotten by a, so b may have it"
    );

    // b lists dave and stops renewing its lease: a finds it dead and reaps it.
    link_b.send(StoreCommand::Join(member(b, "dave", "198.51.100.4:4000")));
    heard_a.next(
        "dave's join",
        |e| matches!(e, StoreEvent::Joined(m) if m.node == b),
    );
    link_b.stop(Instant::now() + Duration::from_secs(2));
    std::thread::sleep(lease * 2);
    link_a.send(StoreCommand::CheckNodes(vec![a, b]));
    assert_eq!(
        heard_a.next("the check", |e| matches!(e, StoreEvent::Checked { .. })),
        StoreEvent::Checked { dead: vec![b] }
    );
    link_a.send(StoreCommand::Reap(b));
    assert_eq!(
        heard_a.next("dave's leave", |e| matches!(e, StoreEvent::Left { .. })),
        StoreEvent::Left {
            node: b,
            name: name("dave")
        }
    );
    link_a.send(StoreCommand::Claim {
        name: name("carol"),
        ticket: 5,
    });
    assert!(claimed(&heard_a, "carol"), "a dead node's names are free");
    link_a.stop(Instant::now() + Duration::from_secs(2));
}
