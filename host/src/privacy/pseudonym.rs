//! Keyed hashes of personal data: the same e-mail address always gives the same pseudonym, and
//! without the key nobody can tell which address it stands for (an unkeyed hash of an e-mail
//! address is found again by hashing a list of addresses).
//!
//! The key is 32 random bytes in a file of its own beside the state file (mode 0600), made the
//! first time and read on every start after, so that pseudonyms survive restarts. A copy of the
//! state file alone reveals nobody. A lost key costs requests, never a duplicate: customers are
//! found again by e-mail in the target (ARCHITECTURE.md: the state file is a cache).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result, bail};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of key.
const KEY_BYTES: usize = 32;
/// Hex digits of a pseudonym (128 bits: no two addresses of one shop share one).
const PSEUDONYM_HEX: usize = 32;

/// Makes pseudonyms under one secret key. Cheap to clone; every clone shares the key, which a
/// restore of the state file replaces.
#[derive(Clone)]
pub struct Pseudonyms {
    key: Arc<RwLock<[u8; KEY_BYTES]>>,
}

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonyms { key: [hidden] }")
    }
}

impl Pseudonyms {
    /// Pseudonyms under the key in `path`; a new random key is written there (mode 0600) when
    /// the file does not exist yet.
    pub fn open(path: &Path) -> Result<Pseudonyms> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(e) => {
                Err(e).with_context(|| format!("cannot read the key file {}", path.display()))
            }
        }
    }

    /// Pseudonyms under a random key that lives as long as this value (for storage that lives
    /// only in memory).
    pub fn ephemeral() -> Pseudonyms {
        let mut key = [0u8; KEY_BYTES];
        rand::fill(&mut key[..]);
        Pseudonyms::new(key)
    }

    fn new(key: [u8; KEY_BYTES]) -> Pseudonyms {
        Pseudonyms {
            key: Arc::new(RwLock::new(key)),
        }
    }

    fn key(&self) -> [u8; KEY_BYTES] {
        *self.key.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The key, as its file holds it (64 hex digits): what a backup of the state file keeps.
    pub fn key_hex(&self) -> String {
        hex::encode(self.key())
    }

    /// Takes the key `hex` (from a backup) from now on, and writes it to `path` in place of the
    /// key there (whole or not at all, 0600).
    pub fn replace(&self, path: &Path, hex: &str) -> Result<()> {
        let key = Self::write_key(path, hex)?.key();
        *self.key.write().unwrap_or_else(|e| e.into_inner()) = key;
        Ok(())
    }

    /// Writes the key `hex` to `path` in place of the key there (whole or not at all, 0600);
    /// the pseudonyms it makes.
    pub fn write_key(path: &Path, hex: &str) -> Result<Pseudonyms> {
        let pseudonyms = Self::parse(path, hex)?;
        let mut file = temp_beside(path)
            .with_context(|| format!("cannot write the key file {}", path.display()))?;
        writeln!(file, "{}", hex.trim())
            .and_then(|()| file.as_file().sync_all())
            .with_context(|| format!("cannot write the key file {}", path.display()))?;
        file.persist(path)
            .with_context(|| format!("cannot write the key file {}", path.display()))?;
        Ok(pseudonyms)
    }

    /// The pseudonym of a text, exactly as given (normalise it first, e.g. lower-case an
    /// e-mail address): 32 hex digits of HMAC-SHA-256 under the key.
    pub fn of(&self, text: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key()).expect("any key length");
        mac.update(text.as_bytes());
        let mut hex = hex::encode(mac.finalize().into_bytes());
        hex.truncate(PSEUDONYM_HEX);
        hex
    }

    fn parse(path: &Path, text: &str) -> Result<Pseudonyms> {
        let bytes = hex::decode(text.trim()).ok();
        match bytes.and_then(|b| <[u8; KEY_BYTES]>::try_from(b).ok()) {
            Some(key) => {
                warn_if_readable_by_others(path);
                Ok(Pseudonyms::new(key))
            }
            None => bail!(
                "{} is not a tillbridge key (64 hex digits); restore it from a backup, or delete it \
                 to make a new one (customers are then found again by e-mail, which costs requests)",
                path.display()
            ),
        }
    }

    fn create(path: &Path) -> Result<Pseudonyms> {
        let mut key = [0u8; KEY_BYTES];
        rand::fill(&mut key[..]);
        let mut file = private_file(path)
            .with_context(|| format!("cannot create the key file {}", path.display()))?;
        writeln!(file, "{}", hex::encode(key))
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write the key file {}", path.display()))?;
        tracing::info!(
            "made a new key for pseudonyms in {}; keep it with the state file",
            path.display()
        );
        Ok(Pseudonyms::new(key))
    }
}

/// The key file of a state file: beside it, with `.key` added to its name.
pub fn key_path(state: &Path) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".key");
    state.with_file_name(name)
}

/// A new temporary file (0600, removed unless persisted) in the folder of `path`, to be renamed
/// over it once it is written whole.
pub fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".tillbridge")
        .tempfile_in(dir)
}

/// Creates a new file that only its owner may read and write (mode 0600 on Unix); fails if it
/// exists, so that nothing readable by others is ever written first.
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                "the key file {} can be read by others than its owner; `chmod 600` it",
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_kept_private_and_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir.path().join("state.redb"));
        assert_eq!(path, dir.path().join("state.redb.key"));
        let first = Pseudonyms::open(&path).unwrap().of("ada@example.nl");
        let again = Pseudonyms::open(&path).unwrap().of("ada@example.nl");
        assert_eq!(first, again, "the same pseudonym after a restart");
        assert_eq!(first.len(), 32);
        assert!(!first.contains("ada"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "only the owner reads the key");
        }
        let other = tempfile::tempdir().unwrap();
        let elsewhere = Pseudonyms::open(&other.path().join("k")).unwrap();
        assert_ne!(
            elsewhere.of("ada@example.nl"),
            first,
            "another key, another pseudonym"
        );
    }

    #[test]
    fn a_damaged_key_file_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "not hex").unwrap();
        let error = Pseudonyms::open(&path).unwrap_err().to_string();
        assert!(error.contains("not a tillbridge key"), "{error}");
        assert!(error.contains("delete it"), "{error}");
    }
}
