//! The NAT lab's suite (see `feige_tests::natlab`): real network namespaces with nftables NATs
//! between the server and the clients.
//!
//! First the lab proves, with plain UDP sockets and no feige code, that each kind of NAT maps and
//! filters as it claims. Then both binaries chat across all 16 pairs of sites (no NAT, cone,
//! symmetric, full cone, for alice and for bob), without and with 10 % loss at each site: every
//! message must be shown once, in order, and delivered. Last, an ignored measurement runs every
//! pair several times and prints the paths taken and the delivery times:
//!
//! ```sh
//! cargo test --release -p feige-tests --test nat -- --ignored --nocapture
//! ```
//!
//! Every test needs root, `ip`, `nft` and `sysctl` (the self-tests python3 too); without them it
//! prints why and passes.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::thread;
use std::time::Duration;

use feige_tests::natlab::exchange::{self, Exchange};
use feige_tests::natlab::probe::{self, Probe};
use feige_tests::natlab::report::{self, Outcome};
use feige_tests::natlab::{self, pool, Host, Lab, NatKind, Site};
use feige_tests::proc::{binary_path, can_run, STEP};

/// Labs run at once by one matrix test: a run is mostly waiting (a passing one takes under a
/// second, a failing one up to two phases of 45 s), so many share two cores, and cargo runs two
/// tests at a time.
const WORKERS: usize = 8;

/// Labs run at once by the measurement: fewer, so that a busy machine does not stretch the
/// round trips it times.
const MEASURE_WORKERS: usize = 4;

/// Whether the lab can run here; says why not when it cannot.
fn lab_ready(test: &str) -> bool {
    can_run(test, natlab::unavailable(), true)
}

/// Whether the lab and its UDP probes can run here; says why not when they cannot.
fn probes_ready(test: &str) -> bool {
    lab_ready(test) && can_run(test, probe::unavailable(), true)
}

// ---------------------------------------------------------------------------------------------
// Self-tests: the lab is what it claims.

/// The port the probing client binds inside its host, to see whether a NAT keeps it.
const CLIENT_PORT: u16 = 40_000;

fn on_server(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(natlab::topology::SERVER_IP, port))
}

/// How long a datagram that should not arrive is waited for, once the test knows it was sent.
const QUIET: Duration = Duration::from_millis(500);

/// Checks mapping and filtering of a host behind `kind`, against two reflectors and a stranger
/// on the public side (all in the server's namespace, on their own ports, with a witness to
/// know when the stranger has sent).
///
/// 1. Before the host sent anything, the stranger's datagram to the host's public address gets
///    in only without NAT.
/// 2. The reflectors report the host's public address and port: the same toward both for every
///    kind but symmetric (a port kept from the host's own without random mapping).
/// 3. After the host sent (to the reflectors), the stranger's datagram to that mapping gets in
///    without NAT and through a full cone, not through a cone or symmetric NAT.
/// 4. The host then sends to the stranger: the stranger's earlier, dropped datagram must not have
///    moved the mapping (the stranger sees the same public port as the reflectors), and its
///    answer now gets in: a hole punched.
fn check_kind(kind: NatKind) {
    let lab = Lab::new(Site::new(kind), Site::new(NatKind::None));
    let first = Probe::start(&lab, Host::Server, "reflector 1", on_server(7001), true);
    let second = Probe::start(&lab, Host::Server, "reflector 2", on_server(7002), true);
    let mut stranger = Probe::start(&lab, Host::Server, "stranger", on_server(7003), false);
    let mut witness = Probe::start(&lab, Host::Server, "witness", on_server(7004), false);
    let inside = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, CLIENT_PORT));
    let mut client = Probe::start(&lab, Host::Alice, "client", inside, false);
    let public = SocketAddr::V4(SocketAddrV4::new(lab.public_ip(Host::Alice), CLIENT_PORT));

    let independent_mapping = kind != NatKind::Symmetric;
    let independent_filtering = matches!(kind, NatKind::None | NatKind::FullCone);
    let label = kind.to_string();

    // 1. Unsolicited, before the host sent anything.
    sent_before(&mut stranger, &mut witness, public, "early");
    let early = arrival(&mut client, kind == NatKind::None);
    assert_eq!(
        early.is_some(),
        kind == NatKind::None,
        "{label}: a datagram before the host sent anything: {early:?}"
    );

    // 2. Mapping.
    let toward_first = client.mapped_toward(first.local);
    let toward_second = client.mapped_toward(second.local);
    assert_eq!(
        toward_first.ip(),
        public.ip(),
        "{label}: mapped to another IP"
    );
    assert_eq!(
        toward_second.ip(),
        public.ip(),
        "{label}: mapped to another IP"
    );
    if independent_mapping {
        assert_eq!(toward_first, public, "{label}: the host's port not kept");
        assert_eq!(
            toward_second, public,
            "{label}: another mapping per destination"
        );
    } else {
        assert_ne!(
            toward_first, toward_second,
            "{label}: one mapping for two destinations"
        );
    }

    // 3. Filtering, after the host sent.
    sent_before(&mut stranger, &mut witness, toward_first, "unsolicited");
    let unsolicited = arrival(&mut client, independent_filtering);
    assert_eq!(
        unsolicited.is_some(),
        independent_filtering,
        "{label}: a stranger's datagram after the host sent: {unsolicited:?}"
    );

    // 4. Hole punching.
    client.send(stranger.local, "punch");
    let punch = stranger
        .recv(STEP)
        .expect("the host's datagram reaches the stranger");
    if independent_mapping {
        assert_eq!(
            punch.source, toward_first,
            "{label}: the stranger's probe moved the mapping"
        );
    } else {
        assert!(
            punch.source != toward_first && punch.source != toward_second,
            "{label}: a mapping reused for a third destination: {}",
            punch.source
        );
    }
    stranger.send(punch.source, "through the hole");
    let answer = client
        .recv(STEP)
        .expect("the stranger's answer gets through the hole");
    assert_eq!(answer.text, "through the hole");
    assert_eq!(answer.source, stranger.local);
}

/// Has `stranger` send `text` to `to`, then a datagram to `witness` (on its own host, so never
/// lost): once the witness has it, `text` has left, and a moment later it has arrived if it was
/// let through.
fn sent_before(stranger: &mut Probe, witness: &mut Probe, to: SocketAddr, text: &str) {
    stranger.send(to, text);
    stranger.send(witness.local, "sent");
    let seen = witness.recv(STEP).expect("the witness hears the stranger");
    assert_eq!(seen.source, stranger.local);
}

/// The stranger's datagram at `client`, if it came: waited for up to [`STEP`] when it is
/// expected, for [`QUIET`] when it is not.
fn arrival(client: &mut Probe, expected: bool) -> Option<probe::Datagram> {
    client.recv(if expected { STEP } else { QUIET })
}

#[test]
fn lab_no_nat_is_reachable_by_anyone() {
    if probes_ready("lab_no_nat_is_reachable_by_anyone") {
        check_kind(NatKind::None);
    }
}

#[test]
fn lab_cone_keeps_one_mapping_and_filters_strangers() {
    if probes_ready("lab_cone_keeps_one_mapping_and_filters_strangers") {
        check_kind(NatKind::Cone);
    }
}

#[test]
fn lab_symmetric_maps_per_destination_and_filters_strangers() {
    if probes_ready("lab_symmetric_maps_per_destination_and_filters_strangers") {
        check_kind(NatKind::Symmetric);
    }
}

#[test]
fn lab_full_cone_keeps_one_mapping_and_lets_anyone_in() {
    if probes_ready("lab_full_cone_keeps_one_mapping_and_lets_anyone_in") {
        check_kind(NatKind::FullCone);
    }
}

/// Loss is what was asked, on a router (alice, cone) and on the link of a host without NAT
/// (bob), each way: of 400 datagrams sent with 10 % loss, some but not many go missing, and no
/// sender is told (a `sendto` that failed would end the probe).
#[test]
fn lab_loses_about_the_share_asked() {
    if !probes_ready("lab_loses_about_the_share_asked") {
        return;
    }
    let lab = Lab::new(
        Site::new(NatKind::Cone).with_loss(10),
        Site::new(NatKind::None).with_loss(10),
    );
    let mut sink = Probe::start(&lab, Host::Server, "sink", on_server(7001), false);
    let any = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
    for host in [Host::Alice, Host::Bob] {
        let mut sender = Probe::start(&lab, host, &format!("{host:?}"), any, false);
        let up = send_lossy(&mut sender, sink.local, &mut sink);
        assert_lossy(&format!("{host:?} to the server"), up.len());
        let mapping = up[0].source;
        assert!(
            up.iter().all(|d| d.source == mapping) && mapping.ip() == lab.public_ip(host),
            "{host:?}: datagrams from elsewhere than its public address: {up:?}"
        );
        // Back to where they came from: the flow the cone's router knows.
        let down = send_lossy(&mut sink, mapping, &mut sender);
        assert_lossy(&format!("the server to {host:?}"), down.len());
    }
}

/// Datagrams each way in the loss self-test.
const LOSSY_SENT: usize = 400;

/// Has `sender` send [`LOSSY_SENT`] datagrams to `to` (paced, so that no socket buffer drops
/// what the rules let through), and returns what `receiver` got.
fn send_lossy(sender: &mut Probe, to: SocketAddr, receiver: &mut Probe) -> Vec<probe::Datagram> {
    for batch in 0..LOSSY_SENT / 50 {
        for i in 0..50 {
            sender.send(to, &format!("{}", batch * 50 + i));
        }
        thread::sleep(Duration::from_millis(20));
    }
    receiver.drain(Duration::from_secs(1))
}

/// `got` of [`LOSSY_SENT`] datagrams arrived with 10 % loss: 40 ± 6 missing expected, and these
/// bounds are more than five deviations away.
fn assert_lossy(what: &str, got: usize) {
    assert!(
        (300..=392).contains(&got),
        "{what}: {got} of {LOSSY_SENT} datagrams arrived with 10 % loss"
    );
}

// ---------------------------------------------------------------------------------------------
// The matrix: both binaries across every pair of sites.

/// Every pair of sites with `loss` percent of loss at each, for `binary`.
fn every_pair(binary: &str, loss: u8, lone: bool) -> Vec<Exchange> {
    let binary = binary_path(binary);
    NatKind::ALL
        .into_iter()
        .flat_map(|alice| NatKind::ALL.map(|bob| (alice, bob)))
        .map(|(alice, bob)| Exchange {
            binary: binary.clone(),
            alice: Site::new(alice).with_loss(loss),
            bob: Site::new(bob).with_loss(loss),
            lone,
        })
        .collect()
}

/// Runs the exchanges, `workers` labs at a time.
fn run_all(exchanges: Vec<Exchange>, workers: usize) -> Vec<(Exchange, Outcome)> {
    let outcomes = pool::run_all(&exchanges, workers, exchange::run);
    exchanges.into_iter().zip(outcomes).collect()
}

fn matrix(test: &str, binary: &str, loss: u8) {
    if !lab_ready(test) {
        return;
    }
    let cells = run_all(every_pair(binary, loss, false), WORKERS);
    let (table, failures) = report::matrix(&cells);
    println!("{binary}, {loss} % loss at each site:\n{table}");
    assert!(
        failures.is_empty(),
        "{binary}, {loss} % loss: {} of {} pairs failed (the table above has them all):\n{}",
        failures.len(),
        cells.len(),
        failures.join("\n")
    );
}

#[test]
fn feige_chats_across_every_pair_of_nats() {
    matrix("feige_chats_across_every_pair_of_nats", "feige", 0);
}

#[test]
fn feige_smol_chats_across_every_pair_of_nats() {
    matrix(
        "feige_smol_chats_across_every_pair_of_nats",
        "feige-smol",
        0,
    );
}

#[test]
fn feige_chats_across_every_pair_of_nats_with_loss() {
    matrix(
        "feige_chats_across_every_pair_of_nats_with_loss",
        "feige",
        10,
    );
}

#[test]
fn feige_smol_chats_across_every_pair_of_nats_with_loss() {
    matrix(
        "feige_smol_chats_across_every_pair_of_nats_with_loss",
        "feige-smol",
        10,
    );
}

/// Every pair, for both binaries, `FEIGE_NAT_RUNS` times (5 by default) with
/// `FEIGE_NAT_LOSS` percent loss (0 by default): the paths the clients settle on, how long the
/// first message takes, how much goes through the relay, and one round trip on the settled path.
#[test]
#[ignore = "a measurement: cargo test --release -p feige-tests --test nat -- --ignored --nocapture"]
fn nat_lab_measure() {
    if !lab_ready("nat_lab_measure") {
        return;
    }
    let number = |name: &str, default: u8| {
        std::env::var(name)
            .ok()
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
            })
            .unwrap_or(default)
    };
    let runs = number("FEIGE_NAT_RUNS", 5);
    let loss = number("FEIGE_NAT_LOSS", 0);
    let exchanges: Vec<Exchange> = ["feige", "feige-smol"]
        .into_iter()
        .flat_map(|binary| every_pair(binary, loss, true))
        .flat_map(|exchange| std::iter::repeat_n(exchange, usize::from(runs)))
        .collect();
    let cells = run_all(exchanges, MEASURE_WORKERS);
    println!(
        "{runs} runs per pair, {loss} % loss at each site:\n\n{}",
        report::measurements(&cells)
    );
}
