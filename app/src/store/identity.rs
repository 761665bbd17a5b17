//! The identity file: the private key, 64 hex digits, readable by its owner only.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use feige_core::client::StaticKeys;

use super::{Storage, StoreError};

const IDENTITY_FILE: &str = "identity.key";

/// `n` bytes from the operating system's random source. The core takes its randomness from here
/// (its seed, the session id), and new identities are made of it.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::new(None, format!("no randomness from the system: {e}")))?;
    Ok(bytes)
}

/// The user's key pair: read from its file, or created there on first run (`--ephemeral`: a new
/// one, kept nowhere). A file that exists but cannot be read or parsed is an error, never
/// replaced.
pub fn load_or_create_identity(storage: &Storage) -> Result<StaticKeys, StoreError> {
    let Storage::Dir(dir) = storage else {
        return Ok(StaticKeys::from_private(random_bytes()?));
    };
    let path = dir.join(IDENTITY_FILE);
    match File::open(&path) {
        Ok(file) => read(&path, file),
        Err(e) if e.kind() == ErrorKind::NotFound => create(dir, &path),
        Err(e) => Err(StoreError::io(&path, "read the identity key", &e)),
    }
}

fn read(path: &Path, mut file: File) -> Result<StaticKeys, StoreError> {
    let mode = file
        .metadata()
        .map_err(|e| StoreError::io(path, "read the identity key", &e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            "{}: readable by others (mode {:o}); `chmod 600` it",
            path.display(),
            mode & 0o777
        );
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| StoreError::io(path, "read the identity key", &e))?;
    let corrupt = || {
        StoreError::new(
            Some(path),
            "not an identity key (64 hex digits); it was left as it is: restore it, or move it \
             away to start a new identity (your contacts will then see your key change)",
        )
    };
    let digits = text.trim();
    if digits.len() != 64 {
        return Err(corrupt());
    }
    let mut private = [0u8; 32];
    for (byte, pair) in private.iter_mut().zip(digits.as_bytes().chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| corrupt())?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| corrupt())?;
    }
    Ok(StaticKeys::from_private(private))
}

fn create(dir: &Path, path: &Path) -> Result<StaticKeys, StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| StoreError::io(dir, "create the data directory", &e))?;
    let private: [u8; 32] = random_bytes()?;
    let hex: String = private.iter().map(|b| format!("{b:02x}")).collect();
    // `create_new`: should another process of this user win the race, its key is the one kept.
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let file =
                File::open(path).map_err(|e| StoreError::io(path, "read the identity key", &e))?;
            return read(path, file);
        }
        Err(e) => return Err(StoreError::io(path, "create the identity key", &e)),
    };
    file.write_all(format!("{hex}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(path, "write the identity key", &e))?;
    Ok(StaticKeys::from_private(private))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(label: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "feige-identity-{label}-{}-{:x}",
            std::process::id(),
            u64::from_le_bytes(random_bytes().unwrap())
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn created_once_owner_only_then_read_back() {
        let dir = scratch("create");
        let storage = Storage::Dir(dir.join("alice"));
        let first = load_or_create_identity(&storage).unwrap();
        let again = load_or_create_identity(&storage).unwrap();
        assert_eq!(first, again);
        let mode = fs::metadata(dir.join("alice").join(IDENTITY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_corrupt_file_is_an_error_and_left_alone() {
        let dir = scratch("corrupt");
        let user = dir.join("bob");
        fs::create_dir_all(&user).unwrap();
        let path = user.join(IDENTITY_FILE);
        fs::write(&path, "not a key\n").unwrap();
        let error = load_or_create_identity(&Storage::Dir(user)).unwrap_err();
        assert!(error.to_string().contains("not an identity key"), "{error}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "not a key\n");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn ephemeral_identities_differ() {
        let a = load_or_create_identity(&Storage::Ephemeral).unwrap();
        let b = load_or_create_identity(&Storage::Ephemeral).unwrap();
        assert_ne!(a.public(), b.public());
    }
}
