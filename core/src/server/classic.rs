//! Serving textbook (classic dialect) clients: the one-shot list and UTF-16LE presence.

use std::time::Instant;

use bytes::Bytes;

use crate::wire::{encode_classic_list, ErrorReason, UserEntry};

use super::state::{Session, Timer};
use super::{ConnId, Presence, Server, ServerEvent, ServerTransmit};

impl Server {
    /// Registers a classic user: the prefixed list on its connection, which is then closed (as
    /// the textbook server does), and the join to everyone else. From here on the user is reached
    /// by UTF-16LE datagrams at its declared endpoint. The connection was released from the
    /// unclaimed ones by `bind`, so it is simply forgotten.
    pub(super) fn establish_classic(&mut self, now: Instant, conn: ConnId, entry: UserEntry) {
        if let Some(&old) = self.by_name.get(&entry.name) {
            // Admitted only as the same classic user coming back (`Session::may_be_replaced_by`),
            // and a name has one pending login at a time: never a native session.
            debug_assert!(self
                .sessions
                .get(&old)
                .is_some_and(|s| s.is_classic() && s.entry.endpoint == entry.endpoint));
            self.drop_session(old, super::LeaveReason::Replaced, ErrorReason::Replaced);
        }
        let epoch = self.new_epoch();
        self.broadcast_presence(Presence::Join, &entry, true, None);
        self.by_name.insert(entry.name.clone(), epoch);
        let session = Session::new(entry.clone(), None, None, now, &self.config);
        self.sessions.insert(epoch, session);
        self.publish_join(epoch);
        let mut list = Vec::with_capacity(self.sessions.len() * 32);
        encode_classic_list(self.listed().map(|e| (&e.name, e.endpoint)), &mut list);
        self.conns.remove(&conn);
        self.transmits.push_back(ServerTransmit::Snapshot {
            conn,
            data: Bytes::from(list),
        });
        self.transmits.push_back(ServerTransmit::Close { conn });
        if let Some(lease) = self.config.classic_lease {
            self.timers.set(now + lease, Timer::ClassicLease { epoch });
        }
        self.events.push_back(ServerEvent::Joined {
            name: entry.name,
            endpoint: entry.endpoint,
        });
    }
}
