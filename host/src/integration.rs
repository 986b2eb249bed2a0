//! An integration: a checked configuration with its plugins loaded, each checked against the
//! role the configuration gives it (a connection needs a connector that exports what its flows
//! need; a flow's transforms must be transforms), and the grants each use of a plugin gets.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use sha2::{Digest, Sha256};

use crate::builtin;
use crate::config::{Config, ConfigError, FlowKind, FlowSettings, Problem};
use crate::egress::{AllowList, Pacer};
use crate::metrics::{IntegrationMetrics, Metrics};
use crate::runtime::bindings::tillbridge::plugin::types::{SecretSpec, SettingSpec};
use crate::runtime::{Capability, Grants, Kv, Limits, Plugin, Runtime, World};

/// A configuration with its plugins loaded.
pub struct Integration {
    /// The configuration.
    pub config: Config,
    /// The runtime the plugins are loaded in.
    pub runtime: Runtime,
    /// The loaded plugins by name.
    pub plugins: BTreeMap<String, Plugin>,
    /// The pacers of the connections, shared by every session: each paces under what its
    /// connector declares and flows.toml overrides.
    pacers: BTreeMap<String, Arc<Pacer>>,
    /// What its flows, requests and plugin calls record through.
    pub metrics: IntegrationMetrics,
}

impl Integration {
    /// Loads every plugin of `config` and checks it against its roles. Problems are reported
    /// together, each at its key in the file.
    pub fn open(config: Config) -> Result<Integration> {
        let runtime = Runtime::new(&config.resolve_path(&config.host.cache_dir))?;
        Self::open_in(config, runtime, &Accounts::default())
    }

    /// [`Self::open`] in a runtime shared with other integrations, whose connections to the
    /// same account share one pacer through `accounts`.
    pub fn open_in(config: Config, runtime: Runtime, accounts: &Accounts) -> Result<Integration> {
        let mut plugins = BTreeMap::new();
        let mut problems = Vec::new();
        for (name, plugin) in &config.plugins {
            let at = ["plugins", name, "file"];
            let bytes = match plugin_bytes(&config, &plugin.file) {
                Ok(bytes) => bytes,
                Err(e) => {
                    problems.push(Problem::at(&at, format!("{e:#}")));
                    continue;
                }
            };
            match runtime.load(name, &bytes) {
                Ok(loaded) => {
                    plugins.insert(name.clone(), loaded);
                }
                Err(e) => problems.push(Problem::at(&at, e.to_string())),
            }
        }
        problems.extend(role_problems(&config, &plugins));
        if !problems.is_empty() {
            return Err(config.error(problems).into());
        }
        let pacers = config
            .connections
            .keys()
            .map(|name| (name.clone(), accounts.pacer(&config, name)))
            .collect();
        let metrics = Metrics::new().integration(&IntegrationMetrics::name_of(&config.path));
        Ok(Integration {
            config,
            runtime,
            plugins,
            pacers,
            metrics,
        })
    }

    /// The integration, recording into `metrics` (the process's registry) instead of its own.
    pub fn with_metrics(mut self, metrics: &Metrics) -> Integration {
        self.metrics = metrics.integration(&IntegrationMetrics::name_of(&self.config.path));
        self
    }

    /// What the connector of `connection` is granted: its settings (with `url`), its secrets,
    /// the host of its URL plus any allowed hosts, its limits, and its storage.
    pub fn connection_grants(&self, connection: &str, kv: Kv) -> Grants {
        let conn = &self.config.connections[connection];
        let plugin = &self.config.plugins[&conn.plugin];
        let mut settings = table_to_json(&plugin.settings);
        if let serde_json::Value::Object(map) = &mut settings {
            for (key, value) in table_to_json(&conn.settings)
                .as_object()
                .into_iter()
                .flatten()
            {
                map.insert(key.clone(), value.clone());
            }
            map.insert("url".into(), conn.url.trim_end_matches('/').into());
        }
        // The connection's own origin always, as the README promises: `allowed_hosts` adds to it.
        let mut hosts: Vec<String> = AllowList::entry_for(&conn.url).into_iter().collect();
        hosts.extend(conn.allowed_hosts.iter().cloned());
        hosts.extend(plugin.allowed_hosts.iter().cloned());
        let mut secrets = plugin.secrets.clone();
        secrets.extend(conn.secrets.clone());
        Grants {
            caller: format!("{}@{connection}", conn.plugin),
            settings,
            secrets,
            allowed_hosts: AllowList::new(&hosts).with_private_network(conn.private_network),
            http_timeout: Duration::from_secs(30),
            pacer: self.pacers.get(connection).cloned(),
            limits: Limits::CONNECTOR.with_overrides(
                plugin.memory_mb,
                plugin.cpu_budget_ms,
                plugin.call_timeout_secs,
            ),
            kv,
            tap: None,
            metrics: Some(self.metrics.system(connection)),
        }
    }

    /// What a transform plugin is granted: its settings and secrets, no hosts, no storage.
    pub fn transform_grants(&self, name: &str) -> Grants {
        let plugin = &self.config.plugins[name];
        let mut grants = Grants::minimal(
            name,
            Limits::TRANSFORM.with_overrides(
                plugin.memory_mb,
                plugin.cpu_budget_ms,
                plugin.call_timeout_secs,
            ),
        )
        .with_settings(table_to_json(&plugin.settings));
        grants.secrets = plugin.secrets.clone();
        grants.metrics = Some(self.metrics.system(name));
        grants
    }

    /// The error for problems found while running, placed in the configuration.
    pub fn config_error(&self, problems: Vec<Problem>) -> ConfigError {
        self.config.error(problems)
    }
}

/// The pacers of the accounts connected to so far, shared by every integration that connects
/// to the same one: the API's rate limits are per account, not per integration. An account is
/// the plugin, the URL and the secrets (CCV's API keys, Shopware's client id and secret); it is
/// known by a hash of them, so no secret is kept for it.
#[derive(Clone, Default)]
pub struct Accounts(Arc<Mutex<HashMap<Vec<u8>, Arc<Pacer>>>>);

impl Accounts {
    /// The pacer of `connection`'s account; the first connection to it sets the pacing
    /// (`rate_limits` of later ones to the same account are not used).
    fn pacer(&self, config: &Config, connection: &str) -> Arc<Pacer> {
        let connection = &config.connections[connection];
        let mut secrets = config.plugins[&connection.plugin].secrets.clone();
        secrets.extend(connection.secrets.clone());
        let plugin = &config.plugins[&connection.plugin].file;
        let mut account = Sha256::new();
        for part in [plugin.as_str(), connection.url.trim_end_matches('/')]
            .into_iter()
            .chain(secrets.iter().flat_map(|(k, v)| [k, v]).map(String::as_str))
        {
            // Lengths first, so that no two different accounts hash the same parts.
            account.update((part.len() as u64).to_le_bytes());
            account.update(part);
        }
        let mut pacers = self.0.lock().unwrap_or_else(|e| e.into_inner());
        pacers
            .entry(account.finalize().to_vec())
            .or_insert_with(|| Pacer::new(&connection.rate_limits.clone().unwrap_or_default()))
            .clone()
    }
}

/// What a plugin says it reads: its settings and (connectors only) its secrets.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    pub settings: Vec<SettingSpec>,
    pub secrets: Vec<SecretSpec>,
}

impl Integration {
    /// What plugin `name` declares, asked of it in a session that is granted nothing (`info`
    /// makes no request).
    pub async fn declared(&self, name: &str) -> Result<Declared> {
        let plugin = &self.plugins[name];
        let world = plugin.description().world;
        let limits = match world {
            World::Connector => Limits::CONNECTOR,
            World::Transform => Limits::TRANSFORM,
        };
        let mut session = plugin.session(Grants::minimal(name, limits)).await?;
        Ok(match world {
            World::Connector => {
                let info = session.connector_info().await?;
                Declared {
                    settings: info.settings,
                    secrets: info.secrets,
                }
            }
            World::Transform => Declared {
                settings: session.transform_info().await?.settings,
                secrets: Vec::new(),
            },
        })
    }
}

/// The component bytes of a plugin: built in, or read from its file.
pub fn plugin_bytes(config: &Config, file: &str) -> Result<Cow<'static, [u8]>> {
    if let Some(name) = file.strip_prefix("builtin:") {
        return builtin::get(name)
            .map(|b| Cow::Borrowed(b.bytes))
            .ok_or_else(|| anyhow::anyhow!("there is no built-in plugin {name:?}"));
    }
    let path = config.resolve_path(file.as_ref());
    std::fs::read(&path)
        .map(Cow::Owned)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

/// Settings from TOML as the JSON object plugins read.
pub fn table_to_json(table: &toml::Table) -> serde_json::Value {
    serde_json::to_value(table).unwrap_or_else(|_| serde_json::json!({}))
}

/// What a flow of `kind` needs from its source and its target.
pub fn needs(kind: FlowKind, settings: &FlowSettings) -> (Vec<Capability>, Vec<Capability>) {
    use Capability::*;
    match kind {
        FlowKind::Orders => {
            let mut target = vec![OrdersSink, ProductsSink];
            let default_debtor =
                matches!(settings, FlowSettings::Orders(o) if o.default_debtor.is_some());
            if !default_debtor {
                target.push(Customers);
            }
            (vec![OrdersSource], target)
        }
        FlowKind::Stock => (vec![StockSource], vec![StockSink]),
        FlowKind::Products => (vec![ProductsSource], vec![ProductsSink]),
        FlowKind::Categories => (vec![CategoriesSource], vec![CategoriesSink]),
    }
}

fn role_problems(config: &Config, plugins: &BTreeMap<String, Plugin>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (name, connection) in &config.connections {
        if let Some(plugin) = plugins.get(&connection.plugin)
            && plugin.description().world != World::Connector
        {
            problems.push(
                    Problem::at(&["connections", name, "plugin"], format!("plugin {:?} is a {}, but a connection needs a connector", connection.plugin, plugin.description().world))
                        .hint("name a connector plugin here, such as builtin:shopware or builtin:ccv-salespos"),
                );
        }
    }
    for (name, flow) in &config.flows {
        let (source_needs, target_needs) = needs(flow.kind, &flow.settings);
        for (key, connection, needed) in [
            ("source", &flow.source, source_needs),
            ("target", &flow.target, target_needs),
        ] {
            let Some(plugin) = config
                .connections
                .get(connection)
                .and_then(|c| plugins.get(&c.plugin))
            else {
                continue;
            };
            let has = &plugin.description().capabilities;
            let lacking: Vec<String> = needed
                .iter()
                .filter(|c| !has.contains(c))
                .map(|c| c.to_string())
                .collect();
            if plugin.description().world == World::Connector && !lacking.is_empty() {
                let has: Vec<String> = has.iter().map(|c| c.to_string()).collect();
                problems.push(
                    Problem::at(&["flows", name, key], format!(
                        "connection {connection:?} (plugin {}) cannot be the {key} of a {} flow: it does not export {}",
                        plugin.name(), flow.kind, lacking.join(", ")
                    ))
                    .hint(format!("its plugin exports: {}", if has.is_empty() { "no capabilities".into() } else { has.join(", ") })),
                );
            }
        }
        for (i, transform) in flow.transforms.iter().enumerate() {
            if let Some(plugin) = plugins.get(transform)
                && plugin.description().world != World::Transform
            {
                problems.push(Problem::at(
                    &["flows", name, "transforms", &i.to_string()],
                    format!(
                        "plugin {transform:?} is a {}, not a transform",
                        plugin.description().world
                    ),
                ));
            }
        }
    }
    problems
}
