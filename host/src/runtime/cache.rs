//! Compiled components cached on disk, keyed by the component's content hash and the engine's
//! compatibility hash, so that a plugin is compiled once and loads in well under a millisecond
//! afterwards (wasmtime's `.cwasm` files do not load across wasmtime versions or settings).
//!
//! A compiled file is native code the host runs unchecked (deserialising one is `unsafe`), so the
//! cache is trusted only as far as it is private:
//! - the folder belongs to the user running tillbridge and nobody else may write to it (made
//!   0700; checked every time it is opened, refused otherwise);
//! - every entry is sealed: an HMAC-SHA-256 under a per-user key (the file `key` in the folder,
//!   0600, checked the same way) over the component's digest, the engine's key and the compiled
//!   bytes. An entry is read into memory, its seal checked, and only then deserialised from that
//!   same buffer; a file planted under a plugin's name, or another plugin's entry copied there,
//!   is refused (logged) and the plugin compiled again.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where a loaded component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Compiled now (and written to the cache).
    Compiled,
    /// Read from the cache; nothing was compiled.
    Cached,
}

/// What every sealed entry starts with (then the 32 bytes of its seal, then the compiled code).
const MAGIC: &[u8] = b"tillbridge sealed cwasm 1\n";
/// Bytes of the sealing key and of a seal.
const KEY_BYTES: usize = 32;

/// The on-disk cache of compiled components.
#[derive(Clone)]
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
    seal_key: [u8; KEY_BYTES],
}

impl std::fmt::Debug for CompileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompileCache")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl CompileCache {
    /// The cache in `dir` for components compiled by `engine`: the folder is made (0700) when
    /// missing, and refused when it, or its key, is not private to the current user.
    pub fn open(dir: &Path, engine: &Engine) -> Result<Self> {
        let seal_key = open_private_dir(dir).and_then(|()| read_or_make_key(&dir.join("key")))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(CompileCache {
            dir: dir.to_path_buf(),
            engine_key: format!("{:016x}", hasher.finish()),
            seal_key,
        })
    }

    /// The file the component with this digest is cached in.
    fn entry_path(&self, digest: &[u8]) -> PathBuf {
        let digest = hex::encode(digest);
        self.dir
            .join(format!("{}-{}.cwasm", &digest[..32], self.engine_key))
    }

    /// The seal of `compiled` as the compiled form of the component with `digest`.
    fn seal(&self, digest: &[u8], compiled: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.seal_key).expect("any key length");
        mac.update(digest);
        mac.update(self.engine_key.as_bytes());
        mac.update(compiled);
        mac
    }

    /// The compiled code in a cache entry, if it is sealed by this cache for this component.
    fn unseal<'a>(&self, digest: &[u8], entry: &'a [u8]) -> Option<&'a [u8]> {
        let rest = entry.strip_prefix(MAGIC)?;
        let (tag, compiled) = rest.split_at_checked(KEY_BYTES)?;
        self.seal(digest, compiled).verify_slice(tag).ok()?;
        Some(compiled)
    }

    /// The compiled component for `bytes`: from the cache when a sealed entry for it is there,
    /// else compiled and written to the cache (atomically, so a crash never leaves half a file).
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> Result<(Component, Origin)> {
        let digest = Sha256::digest(bytes);
        let path = self.entry_path(&digest);
        match std::fs::read(&path) {
            Ok(entry) => match self.unseal(&digest, &entry) {
                // SAFETY: these bytes were sealed with the key only this user can read, for this
                // component and engine, by `load` below from `precompile_component`'s output; they
                // are checked in memory and deserialised from the same buffer, so nothing can
                // change them in between.
                Some(compiled) => match unsafe { Component::deserialize(engine, compiled) } {
                    Ok(component) => return Ok((component, Origin::Cached)),
                    Err(e) => tracing::warn!(
                        path = %path.display(),
                        "discarding unreadable compiled plugin: {e:#}"
                    ),
                },
                None => tracing::warn!(
                    path = %path.display(),
                    "refusing a compiled plugin not sealed by this host for this component \
                     (planted, copied or damaged); compiling it again"
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(path = %path.display(), "cannot read compiled plugin: {e}"),
        }
        let compiled = engine
            .precompile_component(bytes)
            .map_err(anyhow::Error::from)?;
        let tag = self.seal(&digest, &compiled).finalize().into_bytes();
        // A file of its own per writer (0600), renamed into place whole: two loads in one
        // process, or two processes, compiling the same plugin at once never read each other's
        // half-written file, and a failed write leaves nothing behind.
        crate::privacy::temp_beside(&path)
            .and_then(|mut file| {
                file.write_all(MAGIC)?;
                file.write_all(&tag)?;
                file.write_all(&compiled)?;
                file.persist(&path).map_err(|e| e.error)
            })
            .with_context(|| format!("cannot write {}", path.display()))?;
        // SAFETY: `compiled` is what `precompile_component` of this engine just returned.
        let component =
            unsafe { Component::deserialize(engine, &compiled) }.map_err(anyhow::Error::from)?;
        Ok((component, Origin::Compiled))
    }
}

/// The compile cache of commands run without a flows.toml (`transform`, `conformance`): the
/// user's own cache folder (`$XDG_CACHE_HOME/tillbridge`, else `~/.cache/tillbridge`), never the
/// temporary folder all users share.
pub fn user_cache_dir() -> Result<PathBuf> {
    user_cache_dir_in(|name| std::env::var_os(name))
}

/// [`user_cache_dir`] with the environment given.
fn user_cache_dir_in(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<PathBuf> {
    // The XDG base directory specification: a relative XDG_CACHE_HOME is invalid and ignored.
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")));
    match base {
        Some(base) => Ok(base.join("tillbridge")),
        None => bail!(
            "no folder for the plugin cache: set HOME (or XDG_CACHE_HOME) to a folder of your own"
        ),
    }
}

/// Makes `dir` (0700) if it is missing, and checks that it is private: owned by the current
/// user and writable by nobody else.
fn open_private_dir(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the plugin cache {}", dir.display()))?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot create the plugin cache {}", dir.display()));
        }
    }
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("cannot open the plugin cache {}", dir.display()))?;
    if !meta.is_dir() {
        bail!(
            "the plugin cache {} is not a folder: remove it, or set [host] cache_dir to another folder",
            dir.display()
        );
    }
    if let Some(problem) = not_private(&meta, 0o022) {
        bail!(
            "refusing the plugin cache {}: it {problem}, and it holds native code tillbridge runs; \
             `chmod 700` a folder of your own, or set [host] cache_dir to one",
            dir.display()
        );
    }
    Ok(())
}

/// Why a file or folder is not private to the current user (owned by someone else, or open to
/// others in the `forbidden` mode bits), if it is not.
#[cfg(unix)]
fn not_private(meta: &std::fs::Metadata, forbidden: u32) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    ownership_problem(meta.uid(), meta.mode(), me, forbidden)
}

#[cfg(not(unix))]
fn not_private(_meta: &std::fs::Metadata, _forbidden: u32) -> Option<String> {
    None
}

/// [`not_private`] from the owner and mode, for the user `me`.
fn ownership_problem(owner: u32, mode: u32, me: u32, forbidden: u32) -> Option<String> {
    if owner != me {
        Some(format!("belongs to user {owner}, not to you (user {me})"))
    } else if mode & forbidden != 0 {
        Some(format!(
            "can be changed by others than you (mode {:o})",
            mode & 0o7777
        ))
    } else {
        None
    }
}

/// The sealing key in `path`: read (after checking that the file is the current user's and
/// nobody else's) or made (32 random bytes, 0600) the first time.
fn read_or_make_key(path: &Path) -> Result<[u8; KEY_BYTES]> {
    let mut key = [0u8; KEY_BYTES];
    rand::fill(&mut key[..]);
    // Written whole under a name of its own (0600), then linked in place, which fails when
    // another process was first: a key file is never seen half written.
    let made = crate::privacy::temp_beside(path).and_then(|mut file| {
        file.write_all(&key)?;
        file.as_file().sync_all()?;
        file.persist_noclobber(path).map_err(|e| e.error)
    });
    match made {
        Ok(_) => return Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
    }
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Checked on the open file, so that it is the file read.
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(problem) = not_private(&meta, 0o077) {
        bail!(
            "refusing the plugin cache key {}: it {problem}; delete it (a new one is made, and \
             plugins are compiled again)",
            path.display()
        );
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    <[u8; KEY_BYTES]>::try_from(bytes.as_slice()).map_err(|_| {
        anyhow::anyhow!(
            "{} is not a plugin cache key (32 bytes); delete it (a new one is made, and plugins \
             are compiled again)",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;

    #[test]
    fn the_default_folder_is_the_users_not_the_shared_temp() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let home = user_cache_dir_in(env(&[("HOME", "/home/ann")])).unwrap();
        assert_eq!(home, PathBuf::from("/home/ann/.cache/tillbridge"));
        assert!(!home.starts_with(std::env::temp_dir()));
        let xdg = user_cache_dir_in(env(&[("HOME", "/home/ann"), ("XDG_CACHE_HOME", "/c")]));
        assert_eq!(xdg.unwrap(), PathBuf::from("/c/tillbridge"));
        // A relative XDG_CACHE_HOME is ignored, as the specification says.
        let relative = user_cache_dir_in(env(&[("HOME", "/h"), ("XDG_CACHE_HOME", "c")]));
        assert_eq!(relative.unwrap(), PathBuf::from("/h/.cache/tillbridge"));
        let none = user_cache_dir_in(env(&[])).unwrap_err().to_string();
        assert!(none.contains("set HOME"), "{none}");
    }

    #[test]
    fn a_folder_of_another_user_or_open_to_others_is_not_private() {
        assert_eq!(ownership_problem(1000, 0o40700, 1000, 0o022), None);
        assert_eq!(ownership_problem(1000, 0o40755, 1000, 0o022), None);
        let foreign = ownership_problem(1001, 0o40700, 1000, 0o022).unwrap();
        assert!(foreign.contains("belongs to user 1001"), "{foreign}");
        let open = ownership_problem(1000, 0o41777, 1000, 0o022).unwrap();
        assert!(open.contains("mode 1777"), "{open}");
        assert!(ownership_problem(1000, 0o100644, 1000, 0o077).is_some());
    }
}
