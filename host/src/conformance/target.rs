//! What the suite runs against: a URL, or a simulator started here on a free port and seeded for
//! the checks, with credentials made for this run so that the secret check can find them.

use std::collections::BTreeMap;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tillbridge_sim::ccv::{self, CcvOptions, CcvSim};
use tillbridge_sim::dataset::{self, Dataset};
use tillbridge_sim::ledger::{LedgerOptions, LedgerSim};
use tillbridge_sim::shopware::{self, ShopwareOptions, ShopwareSim};

use crate::egress::AllowList;

/// Products the simulators are seeded with: a few pages at the suite's page size of 2.
const SEEDED_PRODUCTS: usize = 7;
/// Orders the simulators are seeded with.
const SEEDED_ORDERS: usize = 5;

/// Where the checks go.
#[derive(Debug, Clone, PartialEq)]
pub enum Against {
    /// A running system (settings and secrets from the command line).
    Url(String),
    /// The Shopware simulator.
    ShopwareSim,
    /// The CCV SalesPOS simulator.
    CcvSim,
    /// The ledger example API.
    LedgerSim,
}

impl FromStr for Against {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "shopware-sim" => Ok(Against::ShopwareSim),
            "ccv-sim" => Ok(Against::CcvSim),
            "ledger-sim" => Ok(Against::LedgerSim),
            url if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(Against::Url(url.trim_end_matches('/').to_string()))
            }
            other => Err(format!(
                "{other:?} is neither a URL (http:// or https://) nor shopware-sim, ccv-sim or ledger-sim"
            )),
        }
    }
}

/// A simulator kept running for the suite.
enum Sim {
    Shopware(Box<ShopwareSim>),
    Ccv(CcvSim),
    Ledger(LedgerSim),
}

/// The system under the checks: its URL, the plugin's settings and secrets for it.
pub struct Target {
    /// Its base URL.
    pub url: String,
    /// The plugin's settings (a JSON object with `url`).
    pub settings: Value,
    /// The plugin's secrets.
    pub secrets: BTreeMap<String, String>,
    sim: Option<Sim>,
}

/// Text no plugin would write by chance, so that a secret found in a log line is a leak.
fn distinctive(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{nanos:x}")
}

impl Target {
    /// Starts and seeds the simulator, or takes the URL as it is.
    pub async fn start(against: &Against) -> Result<Target> {
        let dataset = || Dataset::generated(SEEDED_PRODUCTS, SEEDED_ORDERS, 1.0, 1);
        let (url, secrets, sim) = match against {
            Against::Url(url) => (url.clone(), BTreeMap::new(), None),
            Against::ShopwareSim => {
                let secret = distinctive("shopware-conformance-secret");
                let sim = ShopwareSim::start(ShopwareOptions {
                    seed: shopware::Seed::Dataset(dataset()),
                    client_secret: secret.clone(),
                    ..ShopwareOptions::default()
                })
                .await?;
                let secrets = BTreeMap::from([
                    (
                        "client_id".to_string(),
                        dataset::SHOPWARE_CLIENT_ID.to_string(),
                    ),
                    ("client_secret".to_string(), secret),
                ]);
                (
                    sim.base_url().to_string(),
                    secrets,
                    Some(Sim::Shopware(Box::new(sim))),
                )
            }
            Against::CcvSim => {
                let secret = distinctive("ccv-conformance-secret");
                let sim = CcvSim::start(CcvOptions {
                    seed: ccv::Seed::Dataset(dataset()),
                    secret: secret.clone(),
                    ..CcvOptions::default()
                })
                .await?;
                let secrets = BTreeMap::from([
                    (
                        "public_key".to_string(),
                        dataset::CCV_PUBLIC_KEY.to_string(),
                    ),
                    ("secret".to_string(), secret),
                ]);
                (sim.base_url().to_string(), secrets, Some(Sim::Ccv(sim)))
            }
            Against::LedgerSim => {
                let token = distinctive("ledger-conformance-token");
                let sim = LedgerSim::start(LedgerOptions {
                    token: token.clone(),
                    ..LedgerOptions::default()
                })
                .await?;
                sim.add_products("CONF", SEEDED_PRODUCTS)?;
                let secrets = BTreeMap::from([("token".to_string(), token)]);
                (sim.base_url().to_string(), secrets, Some(Sim::Ledger(sim)))
            }
        };
        Ok(Target {
            settings: json!({ "url": url }),
            url,
            secrets,
            sim,
        })
    }

    /// Settings (a JSON object, merged over the target's) and secrets (`NAME=VALUE`, replacing
    /// the target's) from the command line.
    pub fn with_overrides(mut self, settings: Option<&str>, secrets: &[String]) -> Result<Target> {
        if let Some(text) = settings {
            let given: Value = serde_json::from_str(text).context("--settings is not JSON")?;
            let Value::Object(given) = given else {
                bail!("--settings must be a JSON object, like {{\"url\": \"https://…\"}}");
            };
            if let Some(url) = given.get("url").and_then(Value::as_str) {
                self.url = url.trim_end_matches('/').to_string();
            }
            if let Value::Object(settings) = &mut self.settings {
                settings.extend(given);
            }
        }
        for pair in secrets {
            let Some((name, value)) = pair.split_once('=') else {
                bail!("--secret {pair:?}: write it as NAME=VALUE");
            };
            self.secrets.insert(name.to_string(), value.to_string());
        }
        Ok(self)
    }

    /// Where the plugin may send requests: the target's host, nothing else.
    pub fn allowed_hosts(&self) -> AllowList {
        AllowList::new(
            &AllowList::entry_for(&self.url)
                .into_iter()
                .collect::<Vec<_>>(),
        )
    }

    /// How many orders the target holds with this marker, when the suite can look inside it (a
    /// simulator that keeps the marker in a field of its own).
    pub fn orders_with_marker(&self, marker: &str) -> Option<usize> {
        match &self.sim {
            Some(Sim::Ledger(sim)) => Some(sim.orders_with_reference(marker).len()),
            _ => None,
        }
    }

    /// What the report's heading says it ran against.
    pub fn describe(&self) -> String {
        match &self.sim {
            Some(Sim::Shopware(sim)) => format!("the Shopware simulator at {}", sim.base_url()),
            Some(Sim::Ccv(sim)) => format!("the CCV SalesPOS simulator at {}", sim.base_url()),
            Some(Sim::Ledger(sim)) => format!("the ledger simulator at {}", sim.base_url()),
            None => self.url.clone(),
        }
    }
}
