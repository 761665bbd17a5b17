//! The pinned keys: one line per contact, `<64 hex digits> <name>`, rewritten whole (to a
//! temporary file, then renamed over the old one) whenever a key is pinned, so a crash leaves
//! either the old file or the new one.

use std::collections::BTreeMap;
use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use feige_core::wire::{Name, PublicKey};

use super::{Storage, StoreError};

const PINS_FILE: &str = "pinned-keys";

/// The keys pinned for others, as kept in the data directory (or in memory, ephemeral).
#[derive(Debug)]
pub struct Pins {
    path: Option<PathBuf>,
    keys: BTreeMap<Name, PublicKey>,
}

impl Pins {
    /// What earlier runs pinned (nothing yet on a first run).
    pub fn load(storage: &Storage) -> Result<Pins, StoreError> {
        let Storage::Dir(dir) = storage else {
            return Ok(Pins {
                path: None,
                keys: BTreeMap::new(),
            });
        };
        let path = dir.join(PINS_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
            Err(e) => return Err(StoreError::io(&path, "read the pinned keys", &e)),
        };
        let mut keys = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let parsed = line
                .split_once(' ')
                .and_then(|(key, name)| Some((PublicKey::parse(key).ok()?, Name::new(name).ok()?)));
            let Some((key, name)) = parsed else {
                return Err(StoreError::new(
                    Some(&path),
                    format!(
                        "line {} is not `<key> <name>`; the file was left as it is: mend or \
                         remove that line",
                        number + 1
                    ),
                ));
            };
            keys.insert(name, key);
        }
        Ok(Pins {
            path: Some(path),
            keys,
        })
    }

    /// The keys, for the client's configuration.
    pub fn keys(&self) -> &BTreeMap<Name, PublicKey> {
        &self.keys
    }

    /// Pins `key` for `name` and writes the file (a failure is logged: the key stays pinned for
    /// this run).
    pub fn pin(&mut self, name: Name, key: PublicKey) {
        if self.keys.insert(name, key) == Some(key) {
            return;
        }
        if let Err(e) = self.save() {
            tracing::warn!("{e}");
        }
    }

    fn save(&self) -> Result<(), StoreError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let text: String = self
            .keys
            .iter()
            .map(|(name, key)| format!("{key} {name}\n"))
            .collect();
        let temporary = path.with_extension("new");
        let written = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut file| {
                file.write_all(text.as_bytes())?;
                file.sync_all()
            })
            .and_then(|()| fs::rename(&temporary, path));
        written.map_err(|e| StoreError::io(path, "write the pinned keys", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_survive_a_restart_and_a_corrupt_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("feige-pins-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let storage = Storage::Dir(dir.clone());
        let mut pins = Pins::load(&storage).unwrap();
        let (bob, xm) = (Name::new("bob smith").unwrap(), Name::new("小明").unwrap());
        pins.pin(bob.clone(), PublicKey::from_bytes([1; 32]));
        pins.pin(xm.clone(), PublicKey::from_bytes([2; 32]));
        let again = Pins::load(&storage).unwrap();
        assert_eq!(
            again.keys().get(&bob),
            Some(&PublicKey::from_bytes([1; 32]))
        );
        assert_eq!(again.keys().get(&xm), Some(&PublicKey::from_bytes([2; 32])));
        fs::write(dir.join(PINS_FILE), "garbage\n").unwrap();
        let error = Pins::load(&storage).unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
        let _ = fs::remove_dir_all(dir);
    }
}
