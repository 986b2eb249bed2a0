//! The host side of a plugin instance: the store's data, and the host imports the WIT package
//! declares (`http`, `log`, `config`, `clock`, `kv`), each as narrow as its grants.

use chrono::{SecondsFormat, Utc};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::egress::{Egress, Policy};
use crate::runtime::bindings::tillbridge::plugin::{clock, config, http, kv, log, types};
use crate::runtime::grants::Grants;
use crate::runtime::limits::{CpuMeter, MemoryLimiter};
use crate::runtime::output::Output;

/// Everything a store holds for one plugin instance.
pub struct PluginState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) memory: MemoryLimiter,
    pub(crate) cpu: CpuMeter,
    /// Set when the computation budget ran out, so that the trap can be explained.
    pub(crate) cpu_exceeded: bool,
    pub(crate) grants: Grants,
    pub(crate) egress: Egress,
    pub(crate) stderr: Output,
}

impl PluginState {
    /// The state of a new instance: WASI with nothing in it (no files, no environment, no
    /// arguments, no sockets, output captured), and the plugin's grants.
    pub fn new(grants: Grants, egress: Egress) -> Self {
        let stdout = Output::new(&grants.caller, "stdout", grants.tap.clone());
        let stderr = Output::new(&grants.caller, "stderr", grants.tap.clone());
        let wasi = WasiCtx::builder()
            .stdout(stdout)
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        PluginState {
            wasi,
            table: ResourceTable::new(),
            memory: MemoryLimiter::new(grants.limits.memory_bytes),
            cpu: CpuMeter::default(),
            cpu_exceeded: false,
            grants,
            egress,
            stderr,
        }
    }

    fn caller(&self) -> &str {
        &self.grants.caller
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for PluginState {}

impl http::Host for PluginState {
    async fn send(
        &mut self,
        request: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::HttpError>> {
        let policy = Policy {
            caller: self.grants.caller.clone(),
            allowed: self.grants.allowed_hosts.clone(),
            default_timeout: self.grants.http_timeout,
            pacer: self.grants.pacer.clone(),
            metrics: self.grants.metrics.clone(),
        };
        if let Some(tap) = &self.grants.tap {
            tap.request(
                crate::egress::http_method(request.method).as_str(),
                &request.url,
            );
            let allowed = url::Url::parse(&request.url).is_ok_and(|u| policy.allowed.allows(&u));
            if let Some(canned) = tap.canned().filter(|_| allowed) {
                return Ok(Ok(canned));
            }
        }
        // What the plugin stored must not be lost once the outside world has seen a change
        // that follows from it (an intent before the write it guards).
        if !crate::egress::http_method(request.method).is_safe() {
            self.grants.kv.make_durable().map_err(storage)?;
        }
        self.cpu.enter_host();
        let answer = self.egress.send(&policy, request).await;
        self.cpu.leave_host();
        Ok(answer)
    }
}

impl log::Host for PluginState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        if let Some(tap) = &self.grants.tap {
            tap.log(&message);
        }
        let plugin = self.caller();
        match level {
            log::Level::Trace => tracing::trace!(target: "plugin", %plugin, "{message}"),
            log::Level::Debug => tracing::debug!(target: "plugin", %plugin, "{message}"),
            log::Level::Info => tracing::info!(target: "plugin", %plugin, "{message}"),
            log::Level::Warn => tracing::warn!(target: "plugin", %plugin, "{message}"),
            log::Level::Error => tracing::error!(target: "plugin", %plugin, "{message}"),
        }
        Ok(())
    }
}

impl config::Host for PluginState {
    async fn settings(&mut self) -> wasmtime::Result<String> {
        Ok(self.grants.settings.to_string())
    }

    async fn secret(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        let value = self.grants.secrets.get(&name).cloned();
        if value.is_none() {
            tracing::warn!(plugin = %self.caller(), "secret {name:?} refused: it is not granted to this plugin in flows.toml");
        }
        Ok(value)
    }
}

impl clock::Host for PluginState {
    async fn now(&mut self) -> wasmtime::Result<String> {
        Ok(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true))
    }

    async fn now_millis(&mut self) -> wasmtime::Result<u64> {
        Ok(u64::try_from(Utc::now().timestamp_millis()).unwrap_or_default())
    }
}

/// A storage failure is the host's problem, not the plugin's: it stops the call with the reason.
fn storage(e: anyhow::Error) -> wasmtime::Error {
    wasmtime::format_err!("the host's state store failed: {e:#}")
}

impl kv::Host for PluginState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self
            .grants
            .kv
            .get_many(&[key])
            .map_err(storage)?
            .pop()
            .flatten())
    }

    async fn get_many(&mut self, keys: Vec<String>) -> wasmtime::Result<Vec<Option<String>>> {
        self.grants.kv.get_many(&keys).map_err(storage)
    }

    async fn set_many(&mut self, entries: Vec<(String, String)>) -> wasmtime::Result<()> {
        self.grants.kv.set_many(&entries).map_err(storage)
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        self.grants.kv.delete(&key).map_err(storage)
    }

    async fn keys(&mut self, prefix: String) -> wasmtime::Result<Vec<String>> {
        self.grants.kv.keys(&prefix).map_err(storage)
    }

    async fn personal_key(&mut self, text: String) -> wasmtime::Result<String> {
        Ok(self.grants.kv.personal_key(&text))
    }
}
