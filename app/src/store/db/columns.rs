//! How the core's values are kept in columns, and read back.
//!
//! SQLite's integers are i64; the core's ids, seqs and times are u64. A u64 is stored as the i64
//! with the same bits (u64::MAX is -1), so every value round-trips exactly and small values
//! (all real times and seqs) read as themselves in the `sqlite3` shell. Ordering by such a column
//! in u64 order takes `ORDER BY c < 0, c` (`c < 0 DESC, c DESC` descending) rather than a bare
//! `ORDER BY c`: the u64s from 2^63 up are the negative i64s, above all the others.

use feige_core::wire::{Name, PublicKey};
use rusqlite::types::Type;
use rusqlite::Row;

/// The i64 with `value`'s bits.
pub(super) fn int(value: u64) -> i64 {
    value as i64
}

/// The u64 with `value`'s bits: the inverse of [`int`].
pub(super) fn uint(value: i64) -> u64 {
    value as u64
}

/// The u64 in column `index`.
pub(super) fn uint_at(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    row.get::<_, i64>(index).map(uint)
}

/// The name in column `index`: a text that is not a valid name is an error, never guessed at.
pub(super) fn name_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Name> {
    let text: String = row.get(index)?;
    Name::new(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

/// The public key in column `index`, kept as its 64 hex digits.
pub(super) fn key_at(row: &Row<'_>, index: usize) -> rusqlite::Result<PublicKey> {
    let text: String = row.get(index)?;
    PublicKey::parse(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}
