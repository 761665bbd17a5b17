//! Markdown tables of runs: the matrix tests print one (pass or fail) so a failing pair is seen
//! among the others, and the measurement prints the figures of many runs per pair.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::exchange::{Exchange, Run};
use super::judge;
use super::nat::NatKind;

/// A run, or the panic that stopped it (a lab that could not be built, say).
pub type Outcome = Result<Run, String>;

/// The matrix as a table, and one line per failing pair (empty when all passed).
pub fn matrix(cells: &[(Exchange, Outcome)]) -> (String, Vec<String>) {
    let mut table = String::from(
        "| alice | bob | result | path alice→bob / bob→alice | problems |\n|---|---|---|---|---|\n",
    );
    let mut failures = Vec::new();
    for (exchange, outcome) in cells {
        let (alice, bob) = (exchange.alice.nat.to_string(), exchange.bob.nat.to_string());
        let (problems, paths) = match outcome {
            Ok(run) => (judge::problems(run), paths(run)),
            Err(panic) => (vec![format!("panicked: {panic}")], "-".to_owned()),
        };
        let result = if problems.is_empty() { "pass" } else { "FAIL" };
        let problems = problems.join("; ");
        let _ = writeln!(
            table,
            "| {alice} | {bob} | {result} | {paths} | {problems} |"
        );
        if result != "pass" {
            failures.push(format!("{alice} ↔ {bob}: {problems}"));
        }
    }
    (table, failures)
}

/// The last path each side printed about the other, `-` where it printed none.
fn paths(run: &Run) -> String {
    let alice = judge::last_via(&run.alice, "bob");
    let bob = judge::last_via(&run.bob, "alice");
    format!(
        "{} / {}",
        alice.as_deref().unwrap_or("-"),
        bob.as_deref().unwrap_or("-")
    )
}

/// The measurement: one row per (binary, alice's NAT, bob's NAT) over all its runs, then the
/// lone round trip by path.
pub fn measurements(cells: &[(Exchange, Outcome)]) -> String {
    let mut groups: BTreeMap<(String, NatKind, NatKind), Vec<&Outcome>> = BTreeMap::new();
    for (exchange, outcome) in cells {
        let binary = exchange
            .binary
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        groups
            .entry((binary, exchange.alice.nat, exchange.bob.nat))
            .or_default()
            .push(outcome);
    }
    let mut table = String::from(
        "| binary | alice | bob | passed | paths alice→bob / bob→alice (runs) | first delivery, median | relay share | lone round trip, median |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let mut lone_by_path: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for ((binary, alice, bob), outcomes) in &groups {
        let runs: Vec<&Run> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
        let passed = runs
            .iter()
            .filter(|r| judge::problems(r).is_empty())
            .count();
        let mut path_counts: BTreeMap<String, usize> = BTreeMap::new();
        for run in &runs {
            *path_counts.entry(paths(run)).or_default() += 1;
        }
        let path_summary: Vec<String> = path_counts
            .iter()
            .map(|(paths, n)| format!("{paths} ({n})"))
            .collect();
        let first = median(
            runs.iter()
                .filter_map(|r| judge::first_delivery(r))
                .collect(),
        );
        let (relayed, delivered) = runs
            .iter()
            .map(|r| judge::relay_share(r))
            .fold((0, 0), |(r, d), (r2, d2)| (r + r2, d + d2));
        let share = if delivered == 0 {
            "-".to_owned()
        } else {
            format!(
                "{:.0} % of {delivered}",
                100.0 * relayed as f64 / delivered as f64
            )
        };
        let lone: Vec<Duration> = runs
            .iter()
            .filter_map(|r| judge::lone_round_trip(r))
            .collect();
        for run in &runs {
            if let Some(rtt) = judge::lone_round_trip(run) {
                let via = judge::last_via(&run.alice, "bob")
                    .unwrap_or_else(|| "no path event".to_owned());
                lone_by_path.entry(via).or_default().push(rtt);
            }
        }
        let _ = writeln!(
            table,
            "| {binary} | {} | {} | {passed}/{} | {} | {} | {share} | {} |",
            alice,
            bob,
            outcomes.len(),
            path_summary.join(", "),
            millis(first),
            millis(median(lone)),
        );
    }
    table.push_str("\nLone round trip (alice→bob, path settled), median by alice's path:\n");
    for (via, rtts) in lone_by_path {
        let n = rtts.len();
        let _ = writeln!(table, "- {via}: {} over {n} runs", millis(median(rtts)));
    }
    table
}

/// The middle value (the lower of the two middle ones for an even count).
fn median(mut values: Vec<Duration>) -> Option<Duration> {
    values.sort();
    values.get(values.len().saturating_sub(1) / 2).copied()
}

fn millis(value: Option<Duration>) -> String {
    value.map_or_else(
        || "-".to_owned(),
        |d| format!("{:.1} ms", d.as_secs_f64() * 1000.0),
    )
}
