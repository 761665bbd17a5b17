//! What an earlier run recorded, for the core to go on from.

use std::collections::BTreeSet;

use feige_core::client::{MessageId, Restored, SavedMessage, SavedStream};
use feige_core::wire::{Name, SessionId};
use rusqlite::OptionalExtension;

use super::columns::{name_at, uint, uint_at};
use super::{Database, StoreError};

impl Database {
    /// The core's state as recorded: the messages still queued (by id, which is the order they
    /// were written in), every stream remembered (per peer the most recent few, see
    /// `STREAMS_PER_PEER`: older ones were pruned as newer came), everyone we exchanged messages
    /// or keys with, and the first message id above every one recorded.
    pub fn restored(&self) -> Result<Restored, StoreError> {
        Ok(Restored {
            outbox: self.outbox()?,
            streams: self.streams()?,
            contacts: self.contacts()?,
            next_message_id: self.next_message_id()?,
        })
    }

    fn outbox(&self) -> Result<Vec<SavedMessage>, StoreError> {
        let fail = || self.fail("read the outbox");
        let mut query = self
            .conn()?
            .prepare(
                "SELECT id, peer, sid, seq, text, written_ms FROM outgoing
                 WHERE status = 'queued' ORDER BY id < 0, id",
            )
            .map_err(fail())?;
        let rows = query
            .query_map([], |row| {
                Ok(SavedMessage {
                    id: MessageId(uint_at(row, 0)?),
                    to: name_at(row, 1)?,
                    sid: SessionId::new(uint_at(row, 2)?),
                    seq: uint_at(row, 3)?,
                    text: row.get(4)?,
                    written_ms: uint_at(row, 5)?,
                })
            })
            .map_err(fail())?;
        rows.collect::<Result<_, _>>().map_err(fail())
    }

    /// Per peer, the streams in the order they were last updated.
    fn streams(&self) -> Result<Vec<SavedStream>, StoreError> {
        let fail = || self.fail("read the streams");
        let mut query = self
            .conn()?
            .prepare("SELECT peer, sid, last_shown FROM streams ORDER BY peer, updated")
            .map_err(fail())?;
        let rows = query
            .query_map([], |row| {
                Ok(SavedStream {
                    from: name_at(row, 0)?,
                    sid: SessionId::new(uint_at(row, 1)?),
                    last_shown: uint_at(row, 2)?,
                })
            })
            .map_err(fail())?;
        rows.collect::<Result<_, _>>().map_err(fail())
    }

    /// Everyone in the outbox, the history (talks included) or the pins, in name order.
    fn contacts(&self) -> Result<Vec<Name>, StoreError> {
        let fail = || self.fail("read the contacts");
        let mut query = self
            .conn()?
            .prepare(
                "SELECT peer FROM outgoing UNION SELECT peer FROM incoming
                 UNION SELECT peer FROM talked UNION SELECT name FROM pins",
            )
            .map_err(fail())?;
        let rows = query.query_map([], |row| name_at(row, 0)).map_err(fail())?;
        let names: BTreeSet<Name> = rows.collect::<Result<_, _>>().map_err(fail())?;
        Ok(names.into_iter().collect())
    }

    /// One above the highest message id recorded, ours to native peers or to textbook ones, at
    /// least 1 (ids start at 1). Saturating: an id of u64::MAX, which no client reaches counting
    /// from 1, would be handed out again.
    fn next_message_id(&self) -> Result<u64, StoreError> {
        let highest: Option<i64> = self
            .conn()?
            .query_row(
                "SELECT id FROM (SELECT id FROM outgoing UNION ALL SELECT id FROM talked)
                 ORDER BY id < 0 DESC, id DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(self.fail("read the highest message id"))?;
        Ok(highest.map_or(1, |id| uint(id).saturating_add(1).max(1)))
    }
}
