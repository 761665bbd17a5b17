//! The open-file limit. Every session holds a socket, so a server meant to hold ten thousand of
//! them raises its own soft limit to the hard one, and says so when even that is too low.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors beyond one per session: the two server sockets, stdio, the runtime's own.
const RESERVED: u64 = 64;

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

/// A warning for the operator when `limit` open files cannot hold `sessions` connections.
pub fn shortfall(limit: Option<u64>, sessions: usize) -> Option<String> {
    let limit = limit?;
    let wanted = u64::try_from(sessions)
        .unwrap_or(u64::MAX)
        .saturating_add(RESERVED);
    (limit < wanted).then(|| {
        format!(
            "the open-file limit is {limit}, so at most about {} sessions can be connected at \
             once (the server admits {sessions}); raise the hard limit (`ulimit -Hn`, \
             systemd `LimitNOFILE=`) to hold more",
            limit.saturating_sub(RESERVED)
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
        assert_eq!(shortfall(None, 100_000), None);
        assert_eq!(shortfall(Some(200_000), 100_000), None);
    }

    #[test]
    fn too_few_descriptors_are_reported_with_the_reachable_count() {
        let warning = shortfall(Some(1024), 10_000).unwrap();
        assert!(warning.contains("1024"), "{warning}");
        assert!(warning.contains("about 960 sessions"), "{warning}");
        assert!(warning.contains("10000"), "{warning}");
    }

    #[test]
    fn raising_leaves_soft_equal_to_hard() {
        let before = getrlimit(Resource::Nofile);
        assert!(raise().is_ok());
        let after = getrlimit(Resource::Nofile);
        assert_eq!(after.current, before.maximum);
    }
}
