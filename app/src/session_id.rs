//! Fresh session ids. The core takes its randomness from outside; here it comes from std's
//! randomly keyed hasher, mixed with the time, the process id and a counter, so two logins (even
//! in one process, in the same nanosecond) never share an id.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use feige_core::wire::SessionId;

/// A new session id, unpredictable and unique within the process.
pub fn fresh() -> SessionId {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    if let Ok(since_epoch) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        hasher.write_u128(since_epoch.as_nanos());
    }
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    SessionId::new(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_do_not_repeat() {
        let ids: HashSet<u64> = (0..10_000).map(|_| fresh().value()).collect();
        assert_eq!(ids.len(), 10_000);
    }
}
