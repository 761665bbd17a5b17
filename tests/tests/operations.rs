//! Operating a server, both binaries: its output never stalls the protocol (a flood of refused
//! logins with nobody reading stdout leaves legitimate logins fast), refusals come summed up per
//! source, and `/metrics` tells what the server did.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use feige_tests::proc::{
    binary_path, raw_login, sample, scrape, start_chat, start_server_with, RawTcp, RawUdp, STEP,
};
use serde_json::Value;

/// These tests load the machine: one at a time, so each one's bounds mean what they say.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Datagrams in the flood: about a second of traffic on loopback.
const FLOOD: usize = 200_000;

fn flood_with_nobody_reading_stdout(binary: &str) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let binary = binary_path(binary);
    let mut server = start_server_with(&binary, "127.0.0.1", &["--metrics"], false);
    let metrics = server.metrics.expect("--metrics was asked for");
    let _alice = start_chat(&binary, "alice", server.udp);

    // Another address claims alice's name, over and over: every datagram is refused.
    let flooder = RawUdp::bind("127.0.0.2");
    let spoof = format!("login,alice,{}", flooder.local());
    for _ in 0..FLOOD {
        // A full socket buffer drops a datagram here or there: a flood does not mind.
        let _ = flooder.socket.send_to(spoof.as_bytes(), server.udp);
    }

    let started = Instant::now();
    let bob = start_chat(&binary, "bob", server.udp);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "a login after the flood took {took:?} with stdout unread"
    );
    drop(bob);

    let refused = sample(
        &scrape(metrics),
        "feige_logins_rejected_total{reason=\"name-taken\"}",
    );
    assert!(refused > 0.0, "the flood reached the server");
    server.start_reading();
    // Sum the tallies for the flooding source until they account for every refusal counted.
    let deadline = Instant::now() + STEP;
    let mut tallied = 0.0;
    let mut lines = 0usize;
    let mut dropped = 0.0;
    while tallied < refused && Instant::now() < deadline {
        let Some(line) = server.next_line(Duration::from_secs(3)) else {
            break;
        };
        lines += 1;
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match event["event"].as_str() {
            Some("rejected") if event["from_ip"] == "127.0.0.2" => {
                tallied += event["count"].as_f64().unwrap_or(0.0);
            }
            Some("events_dropped") => dropped += event["count"].as_f64().unwrap_or(0.0),
            _ => {}
        }
    }
    assert_eq!(
        tallied, refused,
        "the summed refusals account for every refused datagram ({dropped} lines dropped)"
    );
    assert!(
        lines < FLOOD / 100,
        "{lines} output lines for {refused} refusals: not summed up"
    );
}

#[test]
fn std_server_output_never_stalls_the_protocol() {
    flood_with_nobody_reading_stdout("feige");
}

#[test]
fn smol_server_output_never_stalls_the_protocol() {
    flood_with_nobody_reading_stdout("feige-smol");
}

/// What the storm did, as the test saw it.
#[derive(Default)]
struct Storm {
    accepted: usize,
    bad_names: usize,
    online: Vec<RawTcp>,
}

/// One storm thread: `logins` users from `ip` log in (UDP login, then the TCP claim and the
/// snapshot), and as many bad-name logins are refused.
fn storm_from(ip: &str, prefix: &str, logins: usize, server: SocketAddr) -> Storm {
    let mut storm = Storm::default();
    for i in 0..logins {
        let name = format!("{prefix}{i}");
        let (_udp, mut tcp) = raw_login(ip, server, &name);
        storm.accepted += 1;
        let snapshot = tcp.read_line().expect("a snapshot");
        assert!(snapshot.ends_with(";end"), "{name}: {snapshot}");
        storm.online.push(tcp);
        let bad = RawUdp::bind(ip);
        assert_eq!(bad.login(server, " padded"), "Reject,bad-name");
        storm.bad_names += 1;
    }
    storm
}

fn metrics_count_what_a_storm_did(binary: &str) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let binary = binary_path(binary);
    let server = start_server_with(&binary, "127.0.0.1", &["--metrics"], true);
    let metrics = server.metrics.expect("--metrics was asked for");
    let udp = server.udp;
    let storms: Vec<_> = ["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"]
        .into_iter()
        .enumerate()
        .map(|(i, ip)| thread::spawn(move || storm_from(ip, &format!("s{i}-"), 50, udp)))
        .collect();
    // Scrapes during the storm: always an answer, and the counts only grow.
    let mut last_accepted = 0.0;
    while !storms.iter().all(thread::JoinHandle::is_finished) {
        let during = scrape(metrics);
        let accepted = sample(&during, "feige_logins_accepted_total");
        assert!(accepted >= last_accepted, "{during}");
        last_accepted = accepted;
        thread::sleep(Duration::from_millis(20));
    }
    let done: Vec<Storm> = storms.into_iter().map(|s| s.join().unwrap()).collect();
    let accepted: usize = done.iter().map(|s| s.accepted).sum();
    let bad_names: usize = done.iter().map(|s| s.bad_names).sum();
    let online: usize = done.iter().map(|s| s.online.len()).sum();

    let after = scrape(metrics);
    let value = |name: &str| sample(&after, name) as usize;
    // A login resent after a lost answer is accepted again: never fewer than the test saw.
    assert!(value("feige_logins_accepted_total") >= accepted, "{after}");
    assert_eq!(
        value("feige_logins_rejected_total{reason=\"bad-name\"}"),
        bad_names,
        "{after}"
    );
    assert_eq!(value("feige_sessions_online"), online, "{after}");
    assert_eq!(value("feige_logins_pending"), 0, "{after}");
    assert_eq!(value("feige_connections_unclaimed"), 0, "{after}");
    assert!(
        value("feige_lines_sent_total") >= online,
        "every session got its snapshot: {after}"
    );
    assert_eq!(value("feige_events_dropped_total"), 0, "{after}");
    drop(done);
}

#[test]
fn std_metrics_count_what_a_storm_did() {
    metrics_count_what_a_storm_did("feige");
}

#[test]
fn smol_metrics_count_what_a_storm_did() {
    metrics_count_what_a_storm_did("feige-smol");
}
