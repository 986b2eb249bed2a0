//! How much a plugin may use: memory, computation per call, and wall time per call.

use std::time::{Duration, Instant};

/// The limits of one plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    /// Linear memory, in bytes.
    pub memory_bytes: usize,
    /// Computation one call may spend (waiting for host imports such as HTTP does not count).
    pub cpu_budget: Duration,
    /// Wall time one call may take, waiting included.
    pub call_timeout: Duration,
}

impl Limits {
    /// Connectors parse pages of JSON and wait for rate-limited APIs: room for both.
    pub const CONNECTOR: Limits = Limits {
        memory_bytes: 256 << 20,
        cpu_budget: Duration::from_secs(10),
        call_timeout: Duration::from_secs(15 * 60),
    };

    /// Transforms are pure functions over a batch: they should be quick.
    pub const TRANSFORM: Limits = Limits {
        memory_bytes: 64 << 20,
        cpu_budget: Duration::from_secs(5),
        call_timeout: Duration::from_secs(30),
    };

    /// These limits with the overrides a plugin's configuration gives.
    pub fn with_overrides(
        mut self,
        memory_mb: Option<u64>,
        cpu_budget_ms: Option<u64>,
        call_timeout_secs: Option<u64>,
    ) -> Self {
        if let Some(mb) = memory_mb {
            self.memory_bytes = usize::try_from(mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        }
        if let Some(ms) = cpu_budget_ms {
            self.cpu_budget = Duration::from_millis(ms);
        }
        if let Some(secs) = call_timeout_secs {
            self.call_timeout = Duration::from_secs(secs);
        }
        self
    }
}

/// Keeps a store's memory within its limit and remembers when the plugin hit it, so that the
/// trap can be explained.
#[derive(Debug)]
pub struct MemoryLimiter {
    limit: usize,
    /// The size the plugin asked for when it was refused.
    pub refused: Option<usize>,
}

impl MemoryLimiter {
    /// A limiter allowing `limit` bytes of linear memory.
    pub fn new(limit: usize) -> Self {
        MemoryLimiter {
            limit,
            refused: None,
        }
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.refused = Some(desired);
            // An error traps the guest at once, instead of letting `memory.grow` return -1 and
            // the guest fail somewhere obscure.
            return Err(wasmtime::format_err!("memory limit reached"));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        // A component is a handful of core instances; a few dozen is generous.
        64
    }
}

/// Tracks how much computation the current call has spent: wall time since the call started,
/// minus the time spent in host imports (HTTP, storage), which is the host's, not the plugin's.
#[derive(Debug, Default)]
pub struct CpuMeter {
    started: Option<Instant>,
    in_host: Duration,
    host_since: Option<Instant>,
}

impl CpuMeter {
    /// A call begins.
    pub fn start_call(&mut self) {
        *self = CpuMeter {
            started: Some(Instant::now()),
            ..CpuMeter::default()
        };
    }

    /// The plugin calls into the host.
    pub fn enter_host(&mut self) {
        self.host_since = Some(Instant::now());
    }

    /// The host returns to the plugin.
    pub fn leave_host(&mut self) {
        if let Some(since) = self.host_since.take() {
            self.in_host += since.elapsed();
        }
    }

    /// Computation spent in the current call so far.
    pub fn spent(&self) -> Duration {
        let Some(started) = self.started else {
            return Duration::ZERO;
        };
        let in_host = self.in_host + self.host_since.map_or(Duration::ZERO, |s| s.elapsed());
        started.elapsed().saturating_sub(in_host)
    }
}
