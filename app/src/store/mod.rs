//! What a chat client keeps on disk, in its data directory: its identity (the long-term key pair,
//! a file of its own) and a database ([`Database`]: the message history, the outbox and receive
//! state the core asks to keep, the keys pinned for others). `--ephemeral` keeps everything in
//! memory instead.
//!
//! One directory per user name, so several users of one machine (or one user's several names)
//! never share a key. A file that cannot be read or does not parse is an error the user is told
//! of, never silently replaced: replacing an identity would make every contact see a key change.

mod db;
mod identity;
mod pins;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use feige_core::wire::Name;

pub use db::{Database, HistoryEntry, HistoryStatus};
pub use identity::{load_or_create_identity, random_bytes};

/// Where a client keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Nothing on disk: a new identity each run, nothing pinned for long (the demo, tests).
    Ephemeral,
    /// This user's own directory.
    Dir(PathBuf),
}

impl Storage {
    /// `--data-dir DIR` (the user's files in a folder named after them inside it), or the
    /// platform's per-user data directory (`~/.local/share/feige/<name>` on Linux).
    pub fn for_user(data_dir: Option<&Path>, name: &Name) -> Result<Storage, StoreError> {
        let base = match data_dir {
            Some(dir) => dir.to_owned(),
            None => directories::ProjectDirs::from("", "", "feige")
                .map(|dirs| dirs.data_dir().to_owned())
                .ok_or_else(|| {
                    StoreError::new(
                        None,
                        "no home directory to keep keys in (use --data-dir or --ephemeral)",
                    )
                })?,
        };
        Ok(Storage::Dir(base.join(folder_name(name))))
    }
}

/// A user name as one path component on any file system: ASCII letters, digits, `-`, `_` and
/// `.` as they are, every other byte as `%XX` (so `bob smith` is `bob%20smith`, `../x` cannot
/// climb, and `小明` is `%E5%B0%8F%E6%98%8E`).
fn folder_name(name: &Name) -> String {
    let mut folder = String::new();
    for &byte in name.as_str().as_bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_')
            || (byte == b'.' && !folder.is_empty())
        {
            folder.push(char::from(byte));
        } else {
            folder.push_str(&format!("%{byte:02X}"));
        }
    }
    folder
}

/// A data file that cannot be used, and what to do about it.
#[derive(Debug)]
pub struct StoreError {
    path: Option<PathBuf>,
    why: String,
}

impl StoreError {
    fn new(path: Option<&Path>, why: impl Into<String>) -> Self {
        StoreError {
            path: path.map(Path::to_owned),
            why: why.into(),
        }
    }

    fn io(path: &Path, what: &str, e: &io::Error) -> Self {
        StoreError::new(Some(path), format!("cannot {what}: {e}"))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: {}", path.display(), self.why),
            None => f.write_str(&self.why),
        }
    }
}

impl std::error::Error for StoreError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_safe_path_component() {
        let folder = |n: &str| folder_name(&Name::new(n).unwrap());
        assert_eq!(folder("alice"), "alice");
        assert_eq!(folder("bob smith"), "bob%20smith");
        assert_eq!(folder("小明"), "%E5%B0%8F%E6%98%8E");
        assert_eq!(folder("../etc"), "%2E.%2Fetc");
        assert_eq!(folder("a/b\\c"), "a%2Fb%5Cc");
        assert_ne!(folder("a b"), folder("a%20b"));
    }
}
