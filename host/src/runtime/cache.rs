//! Compiled components cached on disk, keyed by the component's content hash and the engine's
//! compatibility hash, so that a plugin is compiled once and loads in well under a millisecond
//! afterwards (wasmtime's `.cwasm` files do not load across wasmtime versions or settings).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
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

/// The on-disk cache of compiled components.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
}

impl CompileCache {
    /// A cache in `dir` for components compiled by `engine`.
    pub fn new(dir: &Path, engine: &Engine) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CompileCache {
            dir: dir.to_path_buf(),
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The file a component with these bytes is cached in.
    pub fn path_for(&self, bytes: &[u8]) -> PathBuf {
        let digest = hex::encode(Sha256::digest(bytes));
        self.dir
            .join(format!("{}-{}.cwasm", &digest[..32], self.engine_key))
    }

    /// The compiled component for `bytes`: from the cache when it is there, else compiled and
    /// written to the cache (atomically, so a crash never leaves half a file behind).
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> Result<(Component, Origin)> {
        let path = self.path_for(bytes);
        if path.is_file() {
            // SAFETY: only this cache writes files under these names, whole and atomically, keyed
            // by the engine's compatibility hash; a file someone else put here could make the
            // host misbehave, which is why the cache folder belongs to the host alone.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, Origin::Cached)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), "discarding unreadable compiled plugin: {e:#}")
                }
            }
        }
        let compiled = engine
            .precompile_component(bytes)
            .map_err(anyhow::Error::from)?;
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create the plugin cache {}", self.dir.display()))?;
        // A name of its own per writer: two loads in one process, or two processes, compiling the
        // same plugin at once never read each other's half-written file.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
        std::fs::write(&tmp, &compiled)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
        // SAFETY: the file was just written by `precompile_component` of this engine.
        let component =
            unsafe { Component::deserialize_file(engine, &path) }.map_err(anyhow::Error::from)?;
        Ok((component, Origin::Compiled))
    }
}
