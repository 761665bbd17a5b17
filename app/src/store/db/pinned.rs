//! The keys pinned for others: the first key seen for each contact, or the one the user trusted
//! since (what the core's `key_pinned` event reports).

use std::collections::BTreeMap;

use feige_core::wire::{Name, PublicKey};

use super::columns::{key_at, name_at};
use super::{Database, StoreError};

impl Database {
    /// Every pinned key, for the client's configuration.
    pub fn pins(&self) -> Result<BTreeMap<Name, PublicKey>, StoreError> {
        let fail = || self.fail("read the pinned keys");
        let mut query = self
            .conn()?
            .prepare("SELECT name, key FROM pins")
            .map_err(fail())?;
        let rows = query
            .query_map([], |row| Ok((name_at(row, 0)?, key_at(row, 1)?)))
            .map_err(fail())?;
        rows.collect::<Result<_, _>>().map_err(fail())
    }

    /// Pins `key` for `name`, replacing the key pinned before (the user trusted a new one).
    pub fn pin(&mut self, name: &Name, key: PublicKey) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO pins (name, key) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET key = excluded.key",
                (name.as_str(), key.to_string()),
            )
            .map(drop)
            .map_err(self.fail("pin a key"))
    }
}
