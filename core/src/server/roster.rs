//! Who a broadcast reaches, as a driver sees it from the transmits alone.

use std::collections::{BTreeMap, HashMap};

use super::output::{ConnId, ServerTransmit};

/// The connections a [`ServerTransmit::Broadcast`] goes to: each given a
/// [`Snapshot`](ServerTransmit::Snapshot) and neither closed by the server
/// ([`Close`](ServerTransmit::Close)) nor reported closed to it since, in the order they were
/// given their snapshot (which is the order the server registered their sessions).
///
/// A driver that keeps no mark of its own on its connections feeds this every transmit, in
/// order, and every connection it reports closed, and fans each broadcast out over it.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    by_order: BTreeMap<u64, ConnId>,
    order_of: HashMap<ConnId, u64>,
    next: u64,
}

impl Roster {
    /// Follows a transmit (before carrying it out).
    pub fn observe(&mut self, transmit: &ServerTransmit) {
        match transmit {
            ServerTransmit::Snapshot { conn, .. } => self.insert(*conn),
            ServerTransmit::Close { conn } => self.remove(*conn),
            _ => {}
        }
    }

    /// `conn` was given its snapshot (a second time changes nothing).
    pub fn insert(&mut self, conn: ConnId) {
        if !self.order_of.contains_key(&conn) {
            self.by_order.insert(self.next, conn);
            self.order_of.insert(conn, self.next);
            self.next += 1;
        }
    }

    /// Follows `transmit` and gives it back, a broadcast as one [`Send`](ServerTransmit::Send)
    /// per recipient: for drivers that write to each connection on its own.
    pub fn fan_out(
        &mut self,
        transmit: ServerTransmit,
    ) -> impl Iterator<Item = ServerTransmit> + '_ {
        self.observe(&transmit);
        let (single, broadcast) = match transmit {
            ServerTransmit::Broadcast { data } => (None, Some(data)),
            other => (Some(other), None),
        };
        let roster: &Roster = self;
        single
            .into_iter()
            .chain(broadcast.into_iter().flat_map(move |data| {
                roster.iter().map(move |conn| ServerTransmit::Send {
                    conn,
                    data: data.clone(),
                })
            }))
    }

    /// The connection is gone (the driver reports it closed, or tore it down).
    pub fn remove(&mut self, conn: ConnId) {
        if let Some(order) = self.order_of.remove(&conn) {
            self.by_order.remove(&order);
        }
    }

    /// Every connection a broadcast now reaches, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.by_order.values().copied()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the transmits, the roster holds exactly the connections given a snapshot and
        /// not closed or removed since, in the order of their first snapshot.
        #[test]
        fn holds_the_snapshotted_connections_not_closed_since(
            ops in proptest::collection::vec((0u8..5, 0u64..8), 0..64),
        ) {
            let mut roster = Roster::default();
            let mut model: Vec<ConnId> = Vec::new();
            for (op, conn) in ops {
                let conn = ConnId(conn);
                match op {
                    0 => {
                        roster.observe(&ServerTransmit::Snapshot { conn, data: Bytes::new() });
                        if !model.contains(&conn) {
                            model.push(conn);
                        }
                    }
                    1 => {
                        roster.observe(&ServerTransmit::Close { conn });
                        model.retain(|&c| c != conn);
                    }
                    2 => {
                        roster.remove(conn);
                        model.retain(|&c| c != conn);
                    }
                    3 => {
                        let send = ServerTransmit::Send { conn, data: Bytes::new() };
                        let out: Vec<_> = roster.fan_out(send.clone()).collect();
                        prop_assert_eq!(out, vec![send]);
                    }
                    _ => {
                        let data = Bytes::from_static(b"login,x,127.0.0.1:1\n");
                        let broadcast = ServerTransmit::Broadcast { data: data.clone() };
                        let out: Vec<_> = roster.fan_out(broadcast).collect();
                        let expected: Vec<_> = model
                            .iter()
                            .map(|&conn| ServerTransmit::Send { conn, data: data.clone() })
                            .collect();
                        prop_assert_eq!(out, expected);
                    }
                }
                prop_assert_eq!(roster.iter().collect::<Vec<_>>(), model.clone());
            }
        }
    }
}
