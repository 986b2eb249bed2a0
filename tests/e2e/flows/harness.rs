//! Two simulators, a flows.toml pointing at them, and the integration with its state, in a
//! temporary folder.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use tillbridge::config::Config;
use tillbridge::flows::{self, Options, RunReport};
use tillbridge::integration::Integration;
use tillbridge::state::{Activity, Outcome, State};
use tillbridge_sim::ccv::{self, CcvOptions, CcvSim};
use tillbridge_sim::common::Journal;
use tillbridge_sim::dataset::{self, Dataset};
use tillbridge_sim::shopware::{self, ApiVersion, ShopwareOptions, ShopwareSim};

/// The plugins and connections every test uses; tests add their flows.
const BASE: &str = r#"
[host]
state = "state.redb"
cache_dir = "CACHE"

[plugins.shopware]
file = "builtin:shopware"

[plugins.ccv-salespos]
file = "builtin:ccv-salespos"

[plugins.payment-map]
file = "builtin:payment-map"
settings = { map = { "PayPal" = "2", "Invoice" = "3", "Credit card" = "4", "iDEAL" = "1" } }

[connections.shop]
plugin = "shopware"
url = "${SHOP_URL}"
secrets = { client_id = "${SHOP_ID}", client_secret = "${SHOP_SECRET}" }

[connections.pos]
plugin = "ccv-salespos"
url = "${POS_URL}"
secrets = { public_key = "${POS_KEY}", secret = "${POS_SECRET}" }
rate_limits = RATE_LIMITS
"#;

/// All four flows with their default settings (orders: paid orders), but passing failures retried at once.
pub const EVERY_FLOW: &str = r#"
[flows.categories]
kind = "categories"
source = "shop"
target = "pos"

[flows.products]
kind = "products"
source = "shop"
target = "pos"

[flows.orders]
kind = "orders"
source = "shop"
target = "pos"
# Passing failures are tried again by the very next run, as the tests run back to back.
settings = { retry_after_secs = 0 }

[flows.stock]
kind = "stock"
source = "pos"
target = "shop"
"#;

/// How a test wants its pair of systems.
pub struct Setup {
    /// The webshop's version.
    pub version: ApiVersion,
    /// What both are seeded with.
    pub dataset: Dataset,
    /// The CCV simulator's rate limits (and the pacing configured to match them).
    pub ccv_limits: ccv::RateLimits,
}

impl Default for Setup {
    /// The demo shop (Shopware 6.6) under [`fast_limits`].
    fn default() -> Self {
        Setup {
            version: ApiVersion::V6_6,
            dataset: Dataset::demo(),
            ccv_limits: fast_limits(),
        }
    }
}

/// CCV's limits, counted in a window of 250 ms instead of a minute, so that tests run in seconds
/// instead of waiting on pacing with an idle CPU; tillbridge paces to the same limits. The
/// pacing itself is tested in `host/src/egress/pace.rs` and by the CCV connector's `limits`
/// tests against its simulator; a run at the real minute is measured by `cargo bench --bench
/// flows`.
pub fn fast_limits() -> ccv::RateLimits {
    ccv::RateLimits {
        window: std::time::Duration::from_millis(250),
        ..ccv::RateLimits::default()
    }
}

/// The two simulators and tillbridge between them.
pub struct Pair {
    pub shop: ShopwareSim,
    pub pos: CcvSim,
    pub dir: tempfile::TempDir,
    pub integration: Integration,
    pub state: State,
    flows: String,
    /// More variables flows.toml may name (a notification webhook's URL).
    vars: BTreeMap<String, String>,
}

/// A compile cache shared by every test of this binary, so each plugin is compiled once (in
/// Cargo's folder for the tests' files: a cache is refused in the temporary folder all share).
fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-cache")
}

/// flows.toml with the test plugins and connections (secrets as `${VAR}`), the shared compile
/// cache, pacing under `limits`, and `flows`.
pub fn config_text(flows: &str, limits: &ccv::RateLimits) -> String {
    let base = BASE
        .replace("CACHE", &cache_dir().display().to_string())
        .replace("RATE_LIMITS", &limits.pacing_toml());
    format!("{base}\n{flows}")
}

impl Pair {
    /// Both simulators seeded with the demo shop, and `flows` (TOML) configured between them.
    pub async fn demo(flows: &str) -> Pair {
        Self::start(Setup::default(), flows).await
    }

    /// Both simulators as `setup` says, and `flows` configured between them.
    pub async fn start(setup: Setup, flows: &str) -> Pair {
        let shop = ShopwareSim::start(ShopwareOptions {
            api_version: setup.version,
            seed: shopware::Seed::Dataset(setup.dataset.clone()),
            ..ShopwareOptions::default()
        })
        .await
        .unwrap();
        let pos = CcvSim::start(CcvOptions {
            seed: ccv::Seed::Dataset(setup.dataset),
            rate_limits: setup.ccv_limits,
            ..CcvOptions::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let flows = config_text(flows, &setup.ccv_limits);
        let integration = Self::open(&dir, &flows, &shop, &pos, &BTreeMap::new());
        let state = State::open(
            &integration
                .config
                .resolve_path(&integration.config.host.state),
        )
        .unwrap();
        Pair {
            shop,
            pos,
            dir,
            integration,
            state,
            flows,
            vars: BTreeMap::new(),
        }
    }

    fn open(
        dir: &tempfile::TempDir,
        text: &str,
        shop: &ShopwareSim,
        pos: &CcvSim,
        more: &BTreeMap<String, String>,
    ) -> Integration {
        let more = more.clone();
        let path = dir.path().join("flows.toml");
        std::fs::write(&path, text).unwrap();
        let (shop_url, pos_url) = (shop.base_url().to_string(), pos.base_url().to_string());
        let vars = move |name: &str| -> Option<String> {
            Some(match name {
                "SHOP_URL" => shop_url.clone(),
                "SHOP_ID" => dataset::SHOPWARE_CLIENT_ID.into(),
                "SHOP_SECRET" => dataset::SHOPWARE_CLIENT_SECRET.into(),
                "POS_URL" => pos_url.clone(),
                "POS_KEY" => dataset::CCV_PUBLIC_KEY.into(),
                "POS_SECRET" => dataset::CCV_SECRET.into(),
                _ => return more.get(name).cloned(),
            })
        };
        let config = Config::parse(&path, text, &vars, &tillbridge::builtin::names())
            .unwrap_or_else(|e| panic!("{e}"));
        Integration::open(config).unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// Gives flows.toml `${name}` from now on (at the next [`reconfigure`](Self::reconfigure)).
    pub fn set_var(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_string(), value.to_string());
    }

    /// The same systems and state with the configuration changed by `edit`.
    pub fn reconfigure(&mut self, edit: impl FnOnce(&str) -> String) {
        self.flows = edit(&self.flows);
        self.integration = Self::open(&self.dir, &self.flows, &self.shop, &self.pos, &self.vars);
    }

    /// The `${VAR}`s of flows.toml that are this pair's: the simulators' addresses and
    /// credentials.
    pub fn variables(&self) -> [(&'static str, &str); 6] {
        [
            ("SHOP_URL", self.shop.base_url()),
            ("POS_URL", self.pos.base_url()),
            ("SHOP_ID", dataset::SHOPWARE_CLIENT_ID),
            ("SHOP_SECRET", dataset::SHOPWARE_CLIENT_SECRET),
            ("POS_KEY", dataset::CCV_PUBLIC_KEY),
            ("POS_SECRET", dataset::CCV_SECRET),
        ]
    }

    /// The configuration as written, its `${VAR}`s unresolved, with its own state file
    /// (`state`, beside it).
    pub fn config_as_written(&self, state: &str) -> String {
        self.flows
            .replace("state = \"state.redb\"", &format!("state = \"{state}\""))
    }

    /// The configuration for a `tillbridge` child process: the same, with the simulators'
    /// addresses and credentials written out and its own state file (`state`, in the folder).
    pub fn child_config(&self, state: &str) -> PathBuf {
        let mut text = self.config_as_written(state);
        for (var, value) in self.variables() {
            text = text.replace(&format!("${{{var}}}"), value);
        }
        let path = self.dir.path().join("child.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Deletes the state file and starts a new, empty one in its place: everything tillbridge
    /// remembered (links, cursors, the connectors' memory) is gone; the systems are as they were.
    pub fn delete_state(&mut self) {
        let path = self
            .integration
            .config
            .resolve_path(&self.integration.config.host.state);
        std::fs::remove_file(&path).unwrap();
        self.state = State::open(&path).unwrap();
    }

    /// Runs a flow once and returns what happened.
    pub async fn run(&self, flow: &str) -> RunReport {
        flows::run_flow(&self.integration, &self.state, flow, &Options::default())
            .await
            .unwrap()
    }

    /// What the activity log keeps of record `key` (of `kind`) in the run of `report`: what
    /// came, what was sent and the answer, which a run's report leaves out.
    pub fn logged(&self, report: &RunReport, kind: &str, key: &str) -> Activity {
        let activity = self.state.read().unwrap().activity(report.run.id).unwrap();
        let found = activity
            .into_iter()
            .find(|a| a.kind == kind && a.key == key);
        found.unwrap_or_else(|| panic!("no {kind} {key} in the activity of run {}", report.run.id))
    }

    /// A dry run of a flow.
    pub async fn dry_run(&self, flow: &str) -> RunReport {
        flows::run_flow(
            &self.integration,
            &self.state,
            flow,
            &Options {
                dry_run: true,
                ..Options::default()
            },
        )
        .await
        .unwrap()
    }

    /// The point of sale's state.
    pub fn pos_state(&self) -> Value {
        self.pos.dump()
    }

    /// The point of sale's orders.
    pub fn pos_orders(&self) -> Vec<Value> {
        values(&self.pos_state()["orders"])
    }

    /// The point of sale's users.
    pub fn pos_users(&self) -> Vec<Value> {
        values(&self.pos_state()["users"])
    }

    /// The point-of-sale order booked for a webshop order number (by the marker the connector
    /// writes).
    pub fn pos_order(&self, number: &str) -> Option<Value> {
        self.pos_orders().into_iter().find(|o| {
            o["reservationnumber"]
                .as_str()
                .is_some_and(|r| r.contains(number))
        })
    }

    /// How many times each webshop order number is booked in the point of sale (by the marker the
    /// connector writes, "WEB-10001" or "10001").
    pub fn pos_bookings(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for order in self.pos_orders() {
            if let Some(marker) = order["reservationnumber"].as_str() {
                let number = marker.rsplit('-').next().unwrap_or(marker);
                *counts.entry(number.to_string()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// The internal notes of the point-of-sale order booked for a webshop order number.
    pub fn pos_order_notes(&self, number: &str) -> Vec<String> {
        let Some(order) = self.pos_order(number) else {
            return Vec::new();
        };
        values(&self.pos_state()["order_notes"])
            .into_iter()
            .filter(|n| n["order_id"] == order["id"] && n["type"] == "internal")
            .filter_map(|n| n["note"].as_str().map(String::from))
            .collect()
    }

    /// How many requests the point of sale answered that changed something.
    pub fn pos_writes(&self) -> usize {
        writes(self.pos.journal())
    }

    /// How many requests the webshop answered that changed something (token requests aside).
    pub fn shop_writes(&self) -> usize {
        writes(self.shop.journal())
    }
}

/// Requests in a journal that were meant to change something: not reads, searches, tokens or the
/// simulator's own endpoints.
fn writes(journal: &Journal) -> usize {
    journal
        .entries()
        .iter()
        .filter(|e| {
            e.is_write()
                && !e.path.starts_with("/__sim")
                && !e.path.starts_with("/api/search")
                && !e.path.starts_with("/api/oauth")
        })
        .count()
}

/// The values of a JSON map (the simulators dump tables as id → record).
pub fn values(map: &Value) -> Vec<Value> {
    map.as_object()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default()
}

/// The keys of a report's records with this outcome.
pub fn keys(report: &RunReport, kind: &str, outcome: Outcome) -> Vec<String> {
    let mut keys: Vec<String> = report
        .entries
        .iter()
        .filter(|e| e.kind == kind && e.outcome == outcome)
        .map(|e| e.key.clone())
        .collect();
    keys.sort();
    keys
}

/// A run must have finished, not failed.
pub fn finished(report: &RunReport) -> &RunReport {
    assert_eq!(report.run.error, None, "the run failed");
    report
}
