//! The plugin runtime: WASM components run in a sandbox.
//!
//! One wasmtime [`Engine`] and [`Linker`] for the process. A component is compiled once (and
//! cached on disk, see [`cache`]), checked against the WIT contract (see [`inspect`]), and
//! pre-instantiated; each use gets a fresh [`Session`] with its own store, so nothing leaks from
//! one run into the next and a crashed instance is simply thrown away.
//!
//! The sandbox: no files, no environment, no arguments, no sockets, output captured; memory capped
//! per instance; computation per call capped by epoch interruption (time in host imports does not
//! count); wall time per call capped by a timeout; the network only through the host's `http`
//! import, to the hosts granted.

pub mod bindings;
mod cache;
mod epoch;
mod grants;
mod host;
pub mod inspect;
mod limits;
mod output;
mod session;
mod tap;
mod transformer;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

pub use cache::{Origin, user_cache_dir};
pub use grants::{Grants, Kv};
pub use host::PluginState;
pub use inspect::{Capability, Description, Refusal, World};
pub use limits::Limits;
pub use session::{CallError, Session};
pub use tap::{Tap, TappedRequest};

use crate::egress::Egress;
use bindings::exports::tillbridge::plugin as guest;
use epoch::EpochTicker;

/// The engine, the linker with every host import, and the compile cache. A clone shares all of
/// them, and the components compiled so far: the integrations of one process (`tillbridge run
/// --integrations`) hold each plugin's code once, however many of them load it.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    linker: Linker<PluginState>,
    cache: cache::CompileCache,
    egress: Egress,
    ticker: Arc<EpochTicker>,
    /// The components loaded so far, by the SHA-256 of their bytes.
    loaded: Arc<std::sync::Mutex<HashMap<Vec<u8>, Component>>>,
}

/// Why a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not a component wasmtime can compile.
    #[error("plugin {name}: not a valid WebAssembly component: {reason}")]
    Invalid {
        /// The plugin.
        name: String,
        /// What wasmtime said.
        reason: String,
    },
    /// Not a tillbridge plugin of a version this host speaks.
    #[error("plugin {name} was refused: {refusal}")]
    Refused {
        /// The plugin.
        name: String,
        /// Why.
        refusal: Refusal,
    },
}

impl Runtime {
    /// A runtime that caches compiled components in `cache_dir` (made private to the current
    /// user; refused when it is not, see [`cache`]).
    pub fn new(cache_dir: &Path) -> Result<Runtime> {
        let engine = match Engine::new(&config(Some(pool()))) {
            Ok(engine) => engine,
            // The pool reserves address space up front; where that is capped (`ulimit -v`),
            // instances are allocated one by one instead: slower to start, otherwise the same.
            Err(e) => {
                tracing::warn!(
                    "plugin instances are not pooled ({e}); each is allocated on its own"
                );
                Engine::new(&config(None)).map_err(anyhow::Error::from)?
            }
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
        bindings::AllCapabilities::add_to_linker::<_, HasSelf<PluginState>>(&mut linker, |state| {
            state
        })
        .map_err(anyhow::Error::from)?;
        Ok(Runtime {
            ticker: EpochTicker::start(&engine),
            cache: cache::CompileCache::open(cache_dir, &engine)?,
            engine,
            linker,
            egress: Egress::new()?,
            loaded: Arc::default(),
        })
    }

    /// The HTTP client plugins share.
    pub fn egress(&self) -> &Egress {
        &self.egress
    }

    /// Compiles (or takes from the cache) and checks a component, ready to run.
    pub fn load(&self, name: &str, bytes: &[u8]) -> Result<Plugin, LoadError> {
        let invalid = |e: anyhow::Error| LoadError::Invalid {
            name: name.to_string(),
            reason: format!("{e:#}"),
        };
        let (component, origin) = self.component(bytes).map_err(invalid)?;
        let description =
            inspect::describe(&self.engine, &component).map_err(|refusal| LoadError::Refused {
                name: name.to_string(),
                refusal,
            })?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| invalid(e.into()))?;
        let exports = ExportIndices::new(&pre).map_err(|e| invalid(e.into()))?;
        Ok(Plugin {
            inner: Arc::new(PluginInner {
                name: name.to_string(),
                description,
                origin,
                pre,
                exports,
                engine: self.engine.clone(),
                ticker: self.ticker.clone(),
                egress: self.egress.clone(),
            }),
        })
    }
}

impl Runtime {
    /// The component of `bytes`: loaded before in this process, or from the compile cache.
    fn component(&self, bytes: &[u8]) -> Result<(Component, Origin)> {
        let digest = Sha256::digest(bytes).to_vec();
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(component) = loaded.get(&digest) {
            return Ok((component.clone(), Origin::Cached));
        }
        // Held while loading: two integrations starting together load a plugin once.
        let (component, origin) = self.cache.load(&self.engine, bytes)?;
        loaded.insert(digest, component.clone());
        Ok((component, origin))
    }
}

/// How many plugin instances may be alive at once in the process: a flow run holds one per
/// connection and transform it uses, so this is room for hundreds of runs at once (`run
/// --integrations`). Beyond it, starting one more instance fails with wasmtime's "maximum
/// concurrent … limit" (the run fails with that reason and is tried at its next time).
const POOLED_INSTANCES: u32 = 1_000;

/// The engine's configuration: with `pool`, instances, memories, tables and call stacks are
/// taken from slots reserved once and reused, instead of mapped and unmapped for each instance.
fn config(pool: Option<PoolingAllocationConfig>) -> Config {
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        // No component-model async in the WIT: dropping its bookkeeping makes calls ~3.5×
        // cheaper.
        .concurrency_support(false);
    if let Some(pool) = pool {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// The pool's sizes. A plugin component is a few core instances (its module and the adapter's
/// shims), one linear memory and a few tables; a memory's slot is address space only (its
/// pages are given back when the instance ends), and may grow to 4 GiB, so that the plugin's own
/// limit (`memory_mb`, enforced by [`limits::MemoryLimiter`]) is the only one that applies.
fn pool() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(POOLED_INSTANCES)
        .total_core_instances(POOLED_INSTANCES * 8)
        .total_memories(POOLED_INSTANCES * 2)
        .total_tables(POOLED_INSTANCES * 8)
        .total_stacks(POOLED_INSTANCES)
        .max_memory_size(4 << 30)
        // A slot's memory is reset for its next instance by rewriting the pages the last one
        // touched (found with Linux's PAGEMAP_SCAN, where the kernel has it), not by handing
        // them back and faulting them in again: most of what a session's start and end cost.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(KEPT_RESIDENT)
        .table_keep_resident(KEPT_RESIDENT);
    pool
}

/// The bytes of a pooled memory or table kept in memory between instances: what a plugin
/// touches to start and answer a call (its stack and first heap pages), not a catalogue.
const KEPT_RESIDENT: usize = 1 << 20;

/// Where each exported interface sits in a component, looked up once at load.
struct ExportIndices {
    connector: Option<guest::connector::GuestIndices>,
    transformer: Option<transformer::TransformerExports>,
    orders_source: Option<guest::orders_source::GuestIndices>,
    orders_sink: Option<guest::orders_sink::GuestIndices>,
    customers: Option<guest::customers::GuestIndices>,
    products_source: Option<guest::products_source::GuestIndices>,
    products_sink: Option<guest::products_sink::GuestIndices>,
    product_properties: Option<guest::product_properties::GuestIndices>,
    stock_source: Option<guest::stock_source::GuestIndices>,
    stock_sink: Option<guest::stock_sink::GuestIndices>,
    categories_source: Option<guest::categories_source::GuestIndices>,
    categories_sink: Option<guest::categories_sink::GuestIndices>,
}

impl ExportIndices {
    fn new(pre: &InstancePre<PluginState>) -> wasmtime::Result<Self> {
        // An export that is absent is a capability the plugin does not have; `describe` has
        // already refused components whose exports do not fit.
        Ok(ExportIndices {
            connector: guest::connector::GuestIndices::new(pre).ok(),
            transformer: transformer::TransformerExports::new(pre),
            orders_source: guest::orders_source::GuestIndices::new(pre).ok(),
            orders_sink: guest::orders_sink::GuestIndices::new(pre).ok(),
            customers: guest::customers::GuestIndices::new(pre).ok(),
            products_source: guest::products_source::GuestIndices::new(pre).ok(),
            products_sink: guest::products_sink::GuestIndices::new(pre).ok(),
            product_properties: guest::product_properties::GuestIndices::new(pre).ok(),
            stock_source: guest::stock_source::GuestIndices::new(pre).ok(),
            stock_sink: guest::stock_sink::GuestIndices::new(pre).ok(),
            categories_source: guest::categories_source::GuestIndices::new(pre).ok(),
            categories_sink: guest::categories_sink::GuestIndices::new(pre).ok(),
        })
    }
}

struct PluginInner {
    name: String,
    description: Description,
    origin: Origin,
    pre: InstancePre<PluginState>,
    exports: ExportIndices,
    engine: Engine,
    ticker: Arc<EpochTicker>,
    egress: Egress,
}

/// A loaded plugin: compiled, checked and pre-instantiated. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
}

impl Plugin {
    /// The plugin's name in flows.toml.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// What it is.
    pub fn description(&self) -> &Description {
        &self.inner.description
    }

    /// Whether it was compiled now or taken from the cache.
    pub fn origin(&self) -> Origin {
        self.inner.origin
    }

    /// A fresh instance with these grants, in a store of its own.
    pub async fn session(&self, grants: Grants) -> Result<Session, CallError> {
        Session::start(self.inner.clone(), grants).await
    }
}
