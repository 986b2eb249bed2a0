//! `flows.toml`: the connections, plugins and flows of one integration.
//!
//! Loading goes in steps, and every step's errors name the file, the line, the key and the fix:
//! parse the TOML, resolve `${VAR}` references, read it into typed structs (unknown keys are
//! errors), read each flow's settings for its kind, then check cross-references (connections and
//! plugins that exist, plugin files that exist, cron expressions that parse).

mod check;
mod dashboard;
mod diagnostics;
mod env;
mod flows;
mod locate;
mod notify;
mod ranges;
mod secrets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use dashboard::{DEFAULT_LISTEN, DashboardConfig};
pub use diagnostics::{ConfigError, Problem};
pub use env::{ProcessEnv, Vars};
pub use flows::{
    CategoriesSettings, FieldPolicy, FlowKind, FlowSettings, OrdersSettings, ProductsSettings,
    Schedule, StockCalculation, StockSettings,
};
pub use notify::{EmailConfig, NotifyConfig, Security};
pub use secrets::Secrets;

/// A whole configuration file, resolved and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Host-wide settings.
    pub host: HostConfig,
    /// Plugins by name.
    pub plugins: BTreeMap<String, PluginConfig>,
    /// Connections to outside systems by name.
    pub connections: BTreeMap<String, ConnectionConfig>,
    /// Flows by name.
    pub flows: BTreeMap<String, Flow>,
    /// The merchant's console.
    pub dashboard: DashboardConfig,
    /// Who is told about failures, and when.
    pub notify: NotifyConfig,
    /// The text it was read from, to place later problems on their lines.
    text: String,
}

/// What the `[host]` table says.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// The redb file with links, cursors, runs and activity (relative to the config file).
    #[serde(default = "HostConfig::default_state")]
    pub state: PathBuf,
    /// Where compiled plugins are cached (relative to the config file).
    #[serde(default = "HostConfig::default_cache_dir")]
    pub cache_dir: PathBuf,
    /// Activity older than this many days is deleted.
    #[serde(default = "HostConfig::default_retention_days")]
    pub retention_days: u32,
    /// Keep personal data (e-mail addresses, names, addresses, companies) out of the activity
    /// log and every command's output.
    #[serde(default)]
    pub redact_personal_data: bool,
}

impl HostConfig {
    fn default_state() -> PathBuf {
        "tillbridge.redb".into()
    }

    fn default_cache_dir() -> PathBuf {
        ".tillbridge/cache".into()
    }

    fn default_retention_days() -> u32 {
        30
    }
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            state: Self::default_state(),
            cache_dir: Self::default_cache_dir(),
            retention_days: Self::default_retention_days(),
            redact_personal_data: false,
        }
    }
}

/// A plugin: a WASM component and what it is granted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// `builtin:NAME` for a plugin that ships with tillbridge, else a path to a `.wasm` file
    /// (relative to the config file).
    pub file: String,
    /// Settings the plugin reads (as JSON) through its `config` import.
    #[serde(default)]
    pub settings: toml::Table,
    /// Secrets granted to the plugin: name → value (write `${VAR}` to take it from the
    /// environment).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Hosts the plugin may send requests to, besides its connections' own.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Memory the plugin may use, in MiB.
    pub memory_mb: Option<u64>,
    /// Computation the plugin may spend in one call, in milliseconds (time waiting for HTTP
    /// answers does not count).
    pub cpu_budget_ms: Option<u64>,
    /// Wall-clock time one call may take, in seconds.
    pub call_timeout_secs: Option<u64>,
}

/// A connection to an outside system, spoken to through a connector plugin.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    /// The connector plugin (a name under `[plugins]`).
    pub plugin: String,
    /// The system's base URL, e.g. `https://shop.example.com`.
    pub url: String,
    /// Origins (`https://host`, `http://host:port`) the connector may call besides the origin
    /// of `url`. Scheme and port are exact; an entry without a scheme is https.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Whether the connector's host names may resolve to private, loopback or link-local
    /// addresses (a system on the local network). Off: only an address written in `url` or
    /// `allowed_hosts`, or `localhost`, reaches those.
    #[serde(default)]
    pub private_network: bool,
    /// Settings for the connector, on top of the plugin's own.
    #[serde(default)]
    pub settings: toml::Table,
    /// Secrets granted to the connector for this connection (credentials).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Overrides of the rate limits the connector declares; requests are paced to stay under
    /// them.
    #[serde(default)]
    pub rate_limits: Option<crate::egress::RateLimits>,
}

/// A flow as written, before its settings are read for its kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    kind: FlowKind,
    source: String,
    target: String,
    #[serde(default = "Schedule::default_expression")]
    schedule: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    #[serde(default)]
    transforms: Vec<String>,
    #[serde(default)]
    settings: toml::Table,
    #[serde(default)]
    mapping: BTreeMap<String, String>,
}

fn enabled_by_default() -> bool {
    true
}

/// A flow: what moves from which connection to which, when, and how.
#[derive(Debug, Clone)]
pub struct Flow {
    /// What the flow moves.
    pub kind: FlowKind,
    /// The connection records come from.
    pub source: String,
    /// The connection records go to.
    pub target: String,
    /// When it runs.
    pub schedule: Schedule,
    /// Whether the scheduler runs it (it can always be run by hand).
    pub enabled: bool,
    /// Transform plugins applied after the mapping, in order.
    pub transforms: Vec<String>,
    /// The settings of its kind.
    pub settings: FlowSettings,
    /// Field mapping overrides: target field → template.
    pub mapping: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    host: HostConfig,
    #[serde(default)]
    plugins: BTreeMap<String, PluginConfig>,
    #[serde(default)]
    connections: BTreeMap<String, ConnectionConfig>,
    #[serde(default)]
    flows: BTreeMap<String, RawFlow>,
    #[serde(default)]
    dashboard: DashboardConfig,
    #[serde(default)]
    notify: NotifyConfig,
}

/// The names of the plugins that ship inside tillbridge, for checking `builtin:` references.
pub type BuiltinNames<'a> = &'a [&'a str];

impl Config {
    /// Reads and checks a configuration file; `${VAR}` references are taken from `vars`.
    pub fn load(
        path: &Path,
        vars: &dyn Vars,
        builtins: BuiltinNames<'_>,
    ) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::one(
                path,
                Problem::at::<&str>(&[], format!("cannot read the file: {e}"))
                    .hint("give the path of a flows.toml with `--config PATH`"),
            )
        })?;
        Self::parse(path, &text, vars, builtins)
    }

    /// Checks configuration text as if it were read from `path` (relative paths in it are
    /// relative to `path`'s folder).
    pub fn parse(
        path: &Path,
        text: &str,
        vars: &dyn Vars,
        builtins: BuiltinNames<'_>,
    ) -> Result<Config, ConfigError> {
        let fail = |problems: Vec<Problem>| located(path, text, problems);

        let mut value: toml::Value = toml::from_str::<toml::Table>(text)
            .map(toml::Value::Table)
            .map_err(|e| {
                let mut problem = Problem::at::<&str>(&[], e.message().trim().to_string())
                    .hint("see the TOML syntax at https://toml.io");
                problem.position = e.span().map(|span| locate::line_col(text, span.start));
                fail(vec![problem])
            })?;

        // The dashboard's token as written: it must come from the environment.
        let dashboard_raw = value.get("dashboard").and_then(toml::Value::as_table);
        let raw_token = dashboard_raw
            .and_then(|d| d.get("token"))
            .and_then(toml::Value::as_str)
            .map(String::from);
        let listen_given = dashboard_raw.is_some_and(|d| d.contains_key("listen"));
        let notify_written = notify::Written::of(&value);

        let mut problems = Vec::new();
        env::resolve(&mut value, &mut Vec::new(), vars, &mut problems);
        if !problems.is_empty() {
            return Err(fail(problems));
        }

        let mut raw: RawConfig = deserialize_at(value, &[]).map_err(|p| fail(vec![p]))?;
        raw.dashboard.listen_given = listen_given;
        let mut problems = raw.dashboard.check(raw_token.as_deref());
        problems.extend(raw.notify.check(&notify_written));
        let mut flows = BTreeMap::new();
        for (name, raw_flow) in raw.flows {
            let at = ["flows".to_string(), name.clone()];
            let schedule = Schedule::parse(&raw_flow.schedule)
                .map_err(|p| problems.push(p.prefixed(&at, "schedule")));
            let settings = FlowSettings::read(raw_flow.kind, raw_flow.settings, &at)
                .map_err(|p| problems.push(p));
            if let (Ok(schedule), Ok(settings)) = (schedule, settings) {
                flows.insert(
                    name,
                    Flow {
                        kind: raw_flow.kind,
                        source: raw_flow.source,
                        target: raw_flow.target,
                        schedule,
                        enabled: raw_flow.enabled,
                        transforms: raw_flow.transforms,
                        settings,
                        mapping: raw_flow.mapping,
                    },
                );
            }
        }
        let config = Config {
            path: path.to_path_buf(),
            host: raw.host,
            plugins: raw.plugins,
            connections: raw.connections,
            flows,
            dashboard: raw.dashboard,
            notify: raw.notify,
            text: text.to_string(),
        };
        problems.extend(check::references(&config, builtins));
        problems.extend(ranges::problems(&config));
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(fail(problems))
        }
    }

    /// An error for problems found after loading (each placed on its line).
    pub fn error(&self, problems: Vec<Problem>) -> ConfigError {
        located(&self.path, &self.text, problems)
    }

    /// The folder relative paths in the file are relative to.
    pub fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    /// A path from the file, made relative to the file's folder.
    pub fn resolve_path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.dir().join(path)
        }
    }
}

/// Places each problem on the line of its key and sorts them in file order.
fn located(path: &Path, text: &str, mut problems: Vec<Problem>) -> ConfigError {
    for p in &mut problems {
        if p.position.is_none() {
            p.position = locate::position_of(text, &p.path);
        }
    }
    problems.sort_by_key(|p| p.position);
    ConfigError {
        file: path.to_path_buf(),
        problems,
    }
}

/// Reads a TOML value into `T`; an error becomes a [`Problem`] at the key it happened at
/// (`prefix` followed by the path inside the value).
fn deserialize_at<T: serde::de::DeserializeOwned>(
    value: toml::Value,
    prefix: &[String],
) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path: Vec<String> = prefix.to_vec();
        path.extend(e.path().iter().filter_map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            _ => None,
        }));
        let message = e.inner().to_string();
        let hint = hint_for(&message);
        let problem = Problem::at(&path, message);
        match hint {
            Some(hint) => problem.hint(hint),
            None => problem,
        }
    })
}

/// What to do about serde's usual complaints, in words a merchant understands.
fn hint_for(message: &str) -> Option<String> {
    let expected = message
        .split_once("expected ")
        .map(|(_, rest)| rest.trim_end_matches('.'));
    if message.starts_with("unknown field") {
        return Some(match expected {
            Some(list) => format!("remove it or correct its spelling; allowed here: {list}"),
            None => "remove it or correct its spelling".into(),
        });
    }
    if message.starts_with("unknown variant") {
        return expected.map(|list| format!("use one of {list}"));
    }
    if message.starts_with("missing field") {
        return Some("add it".into());
    }
    if message.starts_with("invalid type") {
        return expected.map(|what| format!("write {what} here"));
    }
    None
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
