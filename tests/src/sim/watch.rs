//! What each client makes of every sealed datagram and of everything the forger made up, told
//! from the outside: the counters of [`ClientStats`] and the events of that one input.
//!
//! - A datagram the forger made or altered must be refused: some counter rises, and the client
//!   reports nothing.
//! - A sealed datagram — anyone's, copied by the network or by the forger — is opened (the
//!   secure layer refuses it with none of its counters) at most once by one client: the replay
//!   window and the handshake timestamps see to it.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;

use feige_core::client::ClientStats;
use feige_core::wire::is_sealed;

use super::event::IncId;

/// The fingerprints the rules above need.
#[derive(Debug, Default)]
pub struct Watch {
    /// Datagrams the forger made or altered, with the source they came from (the forger's
    /// `Reject,name-taken` is the server's too, from another source).
    made: HashSet<u64>,
    /// (receiver, datagram) for every sealed datagram a client opened.
    opened: HashSet<(IncId, u64)>,
}

/// A client's state just before a datagram: its counters and how many events it reported.
#[derive(Debug, Clone, Copy)]
pub struct Before {
    stats: ClientStats,
    events: usize,
    fingerprint: u64,
    made: bool,
}

impl Watch {
    /// The forger sends `data` from `from`, which it made or altered.
    pub fn made(&mut self, from: SocketAddr, data: &[u8]) {
        self.made.insert(fingerprint(&(from, data)));
    }

    /// Before `data` from `from` reaches a client: what to compare with after, if the datagram
    /// is one the rules cover.
    pub fn before(
        &self,
        from: SocketAddr,
        data: &[u8],
        stats: ClientStats,
        events: usize,
    ) -> Option<Before> {
        let made = self.made.contains(&fingerprint(&(from, data)));
        (made || is_sealed(data)).then(|| Before {
            stats,
            events,
            fingerprint: fingerprint(data),
            made,
        })
    }

    /// After the client `inc` handled the datagram: a violation, if any.
    pub fn after(
        &mut self,
        inc: IncId,
        before: Before,
        stats: ClientStats,
        events: usize,
    ) -> Option<String> {
        if before.made {
            let refused = stats != before.stats && events == before.events;
            return (!refused).then(|| {
                format!(
                    "{inc:?} took a datagram the forger made or altered (counters {:?} -> \
                     {stats:?}, {} events)",
                    before.stats,
                    events - before.events
                )
            });
        }
        if refused_sealed(&before.stats, &stats) {
            return None;
        }
        (!self.opened.insert((inc, before.fingerprint)))
            .then(|| format!("{inc:?} opened the same sealed datagram twice (replay accepted)"))
    }
}

/// Whether the secure layer refused a sealed datagram: one of its counters rose.
fn refused_sealed(before: &ClientStats, after: &ClientStats) -> bool {
    after.malformed > before.malformed
        || after.unauthenticated > before.unauthenticated
        || after.replayed > before.replayed
        || after.untrusted > before.untrusted
        || after.stale > before.stale
}

fn fingerprint(data: &(impl Hash + ?Sized)) -> u64 {
    let mut hasher = DefaultHasher::new();
    data.hash(&mut hasher);
    hasher.finish()
}
