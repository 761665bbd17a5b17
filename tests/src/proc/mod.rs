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
