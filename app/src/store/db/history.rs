//! The messages exchanged, for the user to read back: one conversation at a time, and the list of
//! conversations.

use feige_core::client::MessageId;
use feige_core::wire::Name;
use rusqlite::types::Type;
use rusqlite::Error;

use super::columns::{name_at, uint_at};
use super::{Database, StoreError};

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The sender: our own name for ours.
    pub from: Name,
    /// The recipient: our own name for theirs.
    pub to: Name,
    /// The text.
    pub text: String,
    /// Unix milliseconds: when we wrote ours, when theirs was shown.
    pub at_ms: u64,
    /// Where it stands.
    pub status: HistoryStatus,
    /// Ours: its handle (the one `sent`, `delivered` and `failed` events name). Theirs: none.
    pub id: Option<MessageId>,
}

/// Where a message of the history stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryStatus {
    /// Theirs, shown to us; `encrypted`: it came sealed end to end (false: a textbook peer's
    /// plain `talk`).
    Received {
        /// Sealed end to end.
        encrypted: bool,
    },
    /// Ours, in the outbox: not acknowledged yet.
    Queued,
    /// Ours, to a textbook peer: its one `talk` datagram went out, and nothing ever acknowledges
    /// it.
    Sent,
    /// Ours, acknowledged by the recipient.
    Delivered,
    /// Ours, given up, for this reason (`timeout`, `logged-out`, `expired`; kept
    /// as text so that reasons of other versions read back as they were written).
    Failed(String),
}

/// Both directions of a conversation (`?1`: the peer) as one list: whether it is ours, our
/// message id, the text, the time, the recording order, the status, the reason, and whether it
/// came sealed.
const CONVERSATION: &str = "
    SELECT 1 AS mine, id, text, written_ms AS at, entry, status, reason, NULL AS encrypted
    FROM outgoing WHERE peer = ?1
    UNION ALL
    SELECT 0, NULL, text, shown_ms, entry, NULL, NULL, encrypted
    FROM incoming WHERE peer = ?1
    UNION ALL
    SELECT 1, id, text, sent_ms, entry, 'sent', NULL, NULL
    FROM talked WHERE peer = ?1";

impl Database {
    /// The last `last` messages exchanged with `with`, both directions, oldest first: in order of
    /// time (when ours were written, when theirs were shown), messages of the same millisecond
    /// in the order they were recorded.
    pub fn history(&self, with: &Name, last: usize) -> Result<Vec<HistoryEntry>, StoreError> {
        let fail = || self.fail("read the history");
        let mut query = self
            .conn()?
            .prepare(&format!(
                "SELECT mine, id, text, at, status, reason, encrypted FROM ({CONVERSATION})
                 ORDER BY at < 0 DESC, at DESC, entry DESC LIMIT ?2"
            ))
            .map_err(fail())?;
        let limit = i64::try_from(last).unwrap_or(i64::MAX);
        let rows = query
            .query_map((with.as_str(), limit), |row| {
                let mine: bool = row.get(0)?;
                let (from, to, id) = if mine {
                    let id = MessageId(uint_at(row, 1)?);
                    (self.me.clone(), with.clone(), Some(id))
                } else {
                    (with.clone(), self.me.clone(), None)
                };
                let status = match row.get::<_, Option<String>>(4)?.as_deref() {
                    None => HistoryStatus::Received {
                        encrypted: row.get(6)?,
                    },
                    Some("queued") => HistoryStatus::Queued,
                    Some("sent") => HistoryStatus::Sent,
                    Some("delivered") => HistoryStatus::Delivered,
                    Some("failed") => HistoryStatus::Failed(row.get(5)?),
                    Some(other) => {
                        let why = format!("not a message status: {other:?}");
                        return Err(Error::FromSqlConversionFailure(4, Type::Text, why.into()));
                    }
                };
                Ok(HistoryEntry {
                    from,
                    to,
                    text: row.get(2)?,
                    at_ms: uint_at(row, 3)?,
                    status,
                    id,
                })
            })
            .map_err(fail())?;
        let mut entries: Vec<HistoryEntry> = rows.collect::<Result<_, _>>().map_err(fail())?;
        entries.reverse();
        Ok(entries)
    }

    /// Everyone with a history, the most recent conversation first (by its last message, in the
    /// order of [`Database::history`]).
    pub fn conversations(&self) -> Result<Vec<Name>, StoreError> {
        let fail = || self.fail("read the conversations");
        let mut query = self
            .conn()?
            .prepare(
                "SELECT peer FROM (
                    SELECT peer, at, entry, row_number() OVER
                        (PARTITION BY peer ORDER BY at < 0 DESC, at DESC, entry DESC) AS nth
                    FROM (SELECT peer, written_ms AS at, entry FROM outgoing
                          UNION ALL
                          SELECT peer, shown_ms, entry FROM incoming
                          UNION ALL
                          SELECT peer, sent_ms, entry FROM talked))
                 WHERE nth = 1 ORDER BY at < 0 DESC, at DESC, entry DESC",
            )
            .map_err(fail())?;
        let rows = query.query_map([], |row| name_at(row, 0)).map_err(fail())?;
        rows.collect::<Result<_, _>>().map_err(fail())
    }
}
