//! The core's writes ([`Record`]s), each made durable before [`Database::apply`] returns.

use feige_core::client::{MessageId, Outcome, Record, SavedMessage, SESSIONS_KEPT_PER_PEER};
use feige_core::wire::{Name, SessionId};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior};

use super::columns::{int, uint};
use super::{Database, StoreError};

/// The sender sessions remembered per peer, most recently updated first; older ones are
/// forgotten.
///
/// Each login of a peer is a new session id, so without a bound the table (and the [`Restored`]
/// handed to the core at every start) would grow by one stream per peer per login, forever. A
/// stream is only needed while its sender may still send a copy of something we showed — a
/// message it resent after either side restarted, which it does only from its outbox until the
/// message is resolved — and a sender that logged in this many more times since has had every chance to
/// resolve it. The cost of forgetting too early is a duplicate shown, never a message lost.
///
/// [`Restored`]: feige_core::client::Restored
pub(super) const STREAMS_PER_PEER: i64 = SESSIONS_KEPT_PER_PEER as i64;

impl Database {
    /// Makes `record` durable: one transaction, committed before this returns (the core's next
    /// transmit may depend on it).
    ///
    /// `Queued` adds the message to the outbox and the history. `Resolved` takes it out of the
    /// outbox, as delivered or failed; for a message not in the outbox (never recorded, or
    /// resolved already) it changes nothing, so the first outcome stays. `Shown` adds the message
    /// to the history, and, when it came sealed, raises its stream's `last_shown` to its seq
    /// (never lowers it) in the same transaction; a plain message from a textbook peer has no
    /// stream, its sid and seq mean nothing and are not kept. `Talked` adds our message to a
    /// textbook peer to the history; a message id is recorded once, as a message or as a talk.
    pub fn apply(&mut self, record: &Record) -> Result<(), StoreError> {
        let Database { conn, path, .. } = self;
        let Some(conn) = conn.as_mut() else {
            return Err(self.closed());
        };
        let fail = |doing: &'static str| super::sql_error(path.as_deref(), doing);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail("begin a write"))?;
        match record {
            Record::Queued(message) => {
                queue(&tx, message).map_err(fail("record a message as queued"))
            }
            Record::Resolved { id, outcome, at_ms } => {
                let (status, reason) = match outcome {
                    Outcome::Delivered => ("delivered", None),
                    Outcome::Failed(why) => ("failed", Some(why.as_str())),
                };
                tx.execute(
                    "UPDATE outgoing SET status = ?2, reason = ?3, resolved_ms = ?4
                     WHERE id = ?1 AND status = 'queued'",
                    (int(id.0), status, reason, int(*at_ms)),
                )
                .map(drop)
                .map_err(fail("record a message as resolved"))
            }
            Record::Talked {
                id,
                to,
                text,
                at_ms,
            } => talk(&tx, *id, to, text, *at_ms).map_err(fail("record a talk as sent")),
            Record::Shown {
                from,
                sid,
                seq,
                text,
                encrypted,
                at_ms,
            } => {
                let stream = encrypted.then_some((*sid, *seq));
                show(&tx, from, stream, text, *at_ms).map_err(fail("record a message as shown"))
            }
        }?;
        tx.commit().map_err(fail("commit a write"))
    }
}

/// The number of the next message recorded, ours or theirs.
fn next_entry(tx: &Transaction<'_>) -> rusqlite::Result<i64> {
    tx.query_row(
        "SELECT 1 + max(coalesce((SELECT max(entry) FROM outgoing), 0),
                        coalesce((SELECT max(entry) FROM incoming), 0),
                        coalesce((SELECT max(entry) FROM talked), 0))",
        [],
        |row| row.get(0),
    )
}

fn queue(tx: &Transaction<'_>, message: &SavedMessage) -> rusqlite::Result<()> {
    let entry = next_entry(tx)?;
    tx.execute(
        "INSERT INTO outgoing (id, entry, peer, sid, seq, text, written_ms, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued')",
        (
            int(message.id.0),
            entry,
            message.to.as_str(),
            int(message.sid.value()),
            int(message.seq),
            &message.text,
            int(message.written_ms),
        ),
    )?;
    Ok(())
}

/// Records our message to a textbook peer, for the history only (an id recorded already, as a
/// message or a talk, is refused by the schema).
fn talk(
    tx: &Transaction<'_>,
    id: MessageId,
    to: &Name,
    text: &str,
    at_ms: u64,
) -> rusqlite::Result<()> {
    let entry = next_entry(tx)?;
    tx.execute(
        "INSERT INTO talked (id, entry, peer, text, sent_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        (int(id.0), entry, to.as_str(), text, int(at_ms)),
    )?;
    Ok(())
}

/// Records a message shown from `from`, and for a sealed one (`stream`: its session and seq) the
/// stream's new state, pruning the peer's least recently updated streams past [`STREAMS_PER_PEER`].
fn show(
    tx: &Transaction<'_>,
    from: &Name,
    stream: Option<(SessionId, u64)>,
    text: &str,
    at_ms: u64,
) -> rusqlite::Result<()> {
    let entry = next_entry(tx)?;
    let (sid_column, seq_column) = stream
        .map(|(sid, seq)| (int(sid.value()), int(seq)))
        .unzip();
    tx.execute(
        "INSERT INTO incoming (entry, peer, sid, seq, text, encrypted, shown_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            entry,
            from.as_str(),
            sid_column,
            seq_column,
            text,
            stream.is_some(),
            int(at_ms),
        ),
    )?;
    let Some((sid, seq)) = stream else {
        return Ok(());
    };
    let sid = int(sid.value());
    let before: Option<i64> = tx
        .query_row(
            "SELECT last_shown FROM streams WHERE peer = ?1 AND sid = ?2",
            (from.as_str(), sid),
            |row| row.get(0),
        )
        .optional()?;
    // The maximum in u64 order, which SQL's max() on the stored i64s is not.
    let last_shown = before.map_or(seq, |before| seq.max(uint(before)));
    tx.execute(
        "INSERT INTO streams (peer, sid, last_shown, updated) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (peer, sid) DO UPDATE SET last_shown = excluded.last_shown,
                                               updated = excluded.updated",
        (from.as_str(), sid, int(last_shown), entry),
    )?;
    // Only a new stream can take the peer past its number.
    if before.is_none() {
        tx.execute(
            "DELETE FROM streams WHERE peer = ?1 AND sid NOT IN
                (SELECT sid FROM streams WHERE peer = ?1 ORDER BY updated DESC LIMIT ?2)",
            (from.as_str(), STREAMS_PER_PEER),
        )?;
    }
    Ok(())
}
