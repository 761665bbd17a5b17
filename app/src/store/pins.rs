//! The pinned keys as earlier versions kept them: a text file, `pinned-keys`, one line per
//! contact, `<64 hex digits> <name>`.
//!
//! The database keeps the pins now ([`super::Database::pins`]); the migration that creates its
//! tables imports this file ([`read_legacy`]) and leaves it in place, untouched, so that an older
//! feige run on the same directory still finds its keys.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use feige_core::wire::{Name, PublicKey};

use super::StoreError;

/// The legacy file's name in the data directory.
pub(super) const PINS_FILE: &str = "pinned-keys";

/// The keys in the file at `path` (none when there is no file). A line that does not parse is an
/// error naming it: guessing would pin a wrong key, or forget one and trust whatever key the
/// server lists next.
pub(super) fn read_legacy(path: &Path) -> Result<BTreeMap<Name, PublicKey>, StoreError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
        Err(e) => return Err(StoreError::io(path, "read the pinned keys", &e)),
    };
    let mut keys = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let parsed = line
            .split_once(' ')
            .and_then(|(key, name)| Some((PublicKey::parse(key).ok()?, Name::new(name).ok()?)));
        let Some((key, name)) = parsed else {
            return Err(StoreError::new(
                Some(path),
                format!(
                    "line {} is not `<key> <name>`; the file was left as it is: mend or remove \
                     that line",
                    number + 1
                ),
            ));
        };
        keys.insert(name, key);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_keys_and_names_and_a_bad_line_is_named() {
        let dir = std::env::temp_dir().join(format!("feige-pins-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(PINS_FILE);
        assert!(read_legacy(&path).unwrap().is_empty());
        let (one, two) = (
            PublicKey::from_bytes([1; 32]),
            PublicKey::from_bytes([2; 32]),
        );
        fs::write(&path, format!("{one} bob smith\n{two} 小明\n")).unwrap();
        let keys = read_legacy(&path).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[&Name::new("bob smith").unwrap()], one);
        assert_eq!(keys[&Name::new("小明").unwrap()], two);
        fs::write(&path, format!("{one} bob\ngarbage\n")).unwrap();
        let error = read_legacy(&path).unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
        let _ = fs::remove_dir_all(dir);
    }
}
