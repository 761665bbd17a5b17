//! The open-file limit. Every session holds at least one socket, so a server raises its own soft
//! limit to the hard one, derives from it how many connections it can hold, and tells the
//! operator when that is fewer than it admits. It also grows its descriptor table at start: in
//! a process with threads, every doubling of the table makes the thread opening the descriptor
//! wait for an RCU grace period (6–9 ms measured here), and the thread that accepts would stall
//! every login behind it.

use std::fs::File;
use std::io;

use rustix::io::fcntl_dupfd_cloexec;
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors kept for everything but connections (stdio, the server sockets, the runtime's
/// own), at most a quarter of a small limit.
const RESERVED: u64 = 64;
/// Most descriptor slots a server makes room for at start (128 KiB of table): a server as large
/// as the 10,000-session benchmark never grows it under load, a small one pays little.
const TABLE_AT_START: u64 = 16_384;

/// What [`prepare`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Connections the process can hold at once (`None`: no limit).
    pub capacity: Option<usize>,
    /// What the operator should know.
    pub warnings: Vec<String>,
}

/// Raises the open-file limit and works out how many connections of `fds_per_connection`
/// descriptors each fit in it, warning when that is fewer than the `sessions` admitted; then
/// grows the descriptor table for them (see [`grow_table`]), so that accepting never waits.
pub fn prepare(fds_per_connection: u64, sessions: usize) -> Prepared {
    let (limit, mut warnings) = match raise() {
        Ok(limit) => (limit, Vec::new()),
        Err(why) => (getrlimit(Resource::Nofile).current, vec![why]),
    };
    let capacity = limit.map(|limit| capacity(limit, fds_per_connection));
    warnings.extend(capacity.and_then(|capacity| shortfall(limit?, capacity, sessions)));
    let wanted = (sessions as u64)
        .saturating_mul(fds_per_connection)
        .saturating_add(RESERVED);
    let slots = [Some(wanted), Some(TABLE_AT_START), limit]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(TABLE_AT_START);
    if let Err(e) = grow_table(slots) {
        tracing::debug!("descriptor table not grown to {slots} at start: {e}");
    }
    Prepared { capacity, warnings }
}

/// Makes the process's descriptor table hold at least `slots` descriptors now, so that opening
/// that many later never waits for the table to grow. The table never shrinks; `slots` must not
/// exceed the open-file limit.
pub fn grow_table(slots: u64) -> io::Result<()> {
    let Some(highest) = slots.checked_sub(1) else {
        return Ok(());
    };
    let highest = i32::try_from(highest).map_err(io::Error::other)?;
    let anchor = File::open("/dev/null")?;
    // The lowest free descriptor at or above `highest`: the kernel grows the table to hold it,
    // and closing it leaves the table as grown.
    drop(fcntl_dupfd_cloexec(&anchor, highest)?);
    Ok(())
}

/// Raises the soft open-file limit to the hard limit. Returns the limit now in force (`None`:
/// unlimited), or why it could not be raised.
pub fn raise() -> Result<Option<u64>, String> {
    let limits = getrlimit(Resource::Nofile);
    if limits.current == limits.maximum {
        return Ok(limits.current);
    }
    let raised = Rlimit {
        current: limits.maximum,
        maximum: limits.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => Ok(limits.maximum),
        Err(e) => Err(format!(
            "cannot raise the open-file limit from {} to {}: {e}",
            show(limits.current),
            show(limits.maximum)
        )),
    }
}

/// Connections of `fds_per_connection` descriptors that fit in `limit`, the reserve aside.
pub fn capacity(limit: u64, fds_per_connection: u64) -> usize {
    let reserved = RESERVED.min(limit / 4);
    let connections = limit.saturating_sub(reserved) / fds_per_connection.max(1);
    usize::try_from(connections).unwrap_or(usize::MAX)
}

/// A warning for the operator when `capacity` connections cannot hold `sessions`.
fn shortfall(limit: u64, capacity: usize, sessions: usize) -> Option<String> {
    (capacity < sessions).then(|| {
        format!(
            "the open-file limit is {limit}, so at most about {capacity} sessions can be \
             connected at once (the server admits {sessions}); raise the hard limit \
             (`ulimit -Hn`, systemd `LimitNOFILE=`) to hold more"
        )
    })
}

fn show(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_descriptors_say_nothing() {
        assert_eq!(shortfall(200_000, capacity(200_000, 1), 100_000), None);
    }

    #[test]
    fn too_few_descriptors_are_reported_with_the_reachable_count() {
        let warning = shortfall(1024, capacity(1024, 1), 10_000).unwrap();
        assert!(warning.contains("1024"), "{warning}");
        assert!(warning.contains("about 960 sessions"), "{warning}");
        assert!(warning.contains("10000"), "{warning}");
    }

    #[test]
    fn capacity_counts_every_descriptor_of_a_connection_and_keeps_a_reserve() {
        assert_eq!(capacity(1024, 1), 960);
        assert_eq!(capacity(1024, 3), 320);
        // A small limit keeps a quarter, not the whole reserve.
        assert_eq!(capacity(64, 3), 16);
        assert_eq!(capacity(0, 3), 0);
    }

    /// `FDSize` in `/proc/self/status`: the slots the descriptor table has room for.
    fn table_slots() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("FDSize:")).unwrap();
        line["FDSize:".len()..].trim().parse().unwrap()
    }

    #[test]
    fn the_table_is_grown_to_the_slots_asked_for() {
        let limit = raise().unwrap().unwrap_or(u64::MAX);
        let wanted = (table_slots() * 4).min(limit);
        grow_table(wanted).unwrap();
        assert!(table_slots() >= wanted, "{} < {wanted}", table_slots());
    }

    #[test]
    fn a_table_beyond_the_limit_is_refused() {
        // Raised first, as the other tests here may raise it at any moment.
        let limit = raise().unwrap();
        let Some(limit) = limit else {
            // Unlimited: only a slot beyond what a descriptor can number is refused.
            assert!(grow_table(u64::MAX).is_err());
            return;
        };
        let error = grow_table(limit + 1).unwrap_err();
        assert_eq!(
            error.raw_os_error(),
            Some(rustix::io::Errno::INVAL.raw_os_error()),
            "{error}"
        );
    }

    #[test]
    fn raising_leaves_soft_equal_to_hard() {
        let before = getrlimit(Resource::Nofile);
        assert!(raise().is_ok());
        let after = getrlimit(Resource::Nofile);
        assert_eq!(after.current, before.maximum);
    }
}
