//! Running the real binaries as a user does: spawn them, read their `--json` lines with a timeout
//! on every read, type commands, and speak raw protocol to the server from the test itself.
//! Everything here is independent of which binary runs, so one suite covers both transports.

mod binary;
mod child;
mod pair;
mod raw;
mod redis;
mod roles;
mod scratch;

pub use binary::binary_path;
pub use child::Proc;
pub use pair::{Pair, BINARY_PAIRS};
pub use raw::{raw_login, sample, scrape, RawTcp, RawUdp};
pub use redis::RedisProc;
pub use roles::{
    names, restart_server, start_chat, start_chat_with, start_server, start_server_with, ChatProc,
    ServerProc,
};
pub use scratch::Scratch;

use std::time::Duration;

/// The bound on any single wait in these tests: generous, since a loaded CI machine is slow, and
/// only ever reached when something is broken.
pub const STEP: Duration = Duration::from_secs(15);

/// What the environment promises the tests: a comma-separated list of `packages` (every tool
/// `.ci/run` installs is there) and `root` (the tests run as root). `.ci/run` sets it; a test
/// that would skip for want of something promised fails instead, so a skip never passes for a
/// success where the tools were meant to be.
pub const REQUIRE_ENV: &str = "FEIGE_TESTS_REQUIRE";

/// Whether a test can run, given why not (`None`: it can). When it cannot it says so, and skips
/// — unless [`REQUIRE_ENV`] promised what it lacks (its packages, and root if `needs_root`):
/// then it fails.
pub fn can_run(test: &str, unavailable: Option<String>, needs_root: bool) -> bool {
    let Some(why) = unavailable else {
        return true;
    };
    let promised = std::env::var(REQUIRE_ENV).unwrap_or_default();
    assert!(
        !promised_to_run(&promised, needs_root),
        "{test} cannot run although {REQUIRE_ENV}={promised} promised it could: {why}"
    );
    println!("skipped {test}: {why}");
    false
}

/// Whether `promised` (the value of [`REQUIRE_ENV`]) covers a test's needs.
fn promised_to_run(promised: &str, needs_root: bool) -> bool {
    let has = |what: &str| promised.split(',').any(|p| p.trim() == what);
    has("packages") && (!needs_root || has("root"))
}

/// Whether `program arg` runs and succeeds here: how a test finds out that a tool it needs is
/// installed (and says why it skips when it is not).
pub fn runs(program: &str, arg: &str) -> bool {
    std::process::Command::new(program)
        .arg(arg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(test)]
mod tests {
    use super::promised_to_run;

    #[test]
    fn a_promise_covers_packages_and_root_only_when_it_names_them() {
        assert!(!promised_to_run("", false));
        assert!(promised_to_run("packages", false));
        assert!(!promised_to_run("packages", true), "root not promised");
        assert!(promised_to_run("packages,root", true));
        assert!(promised_to_run(" root , packages", true));
        assert!(!promised_to_run("root", false), "packages not promised");
    }
}
