//! A simulator of the Shopware 6 Admin API (6.4, 6.6 and 6.7), faithful enough that a
//! connector that passes against it works against a real shop: OAuth client credentials,
//! JSON:API by default and plain JSON on request, the search criteria with Shopware's
//! semantics and limits, the generic entity routes, the sync API in both its formats, draft
//! order versions, state machines, stock as each version counts it, and the pitfalls
//! integrators hit (see `../../shared/reference/shopware-admin-api.md`, section 10).
//!
//! State lives in memory; [`ShopwareSim::start`] serves it on a port (0 for any free one).
//!
//! Worth knowing, as in Shopware: a freshly placed order has `updatedAt: null` until it is
//! written again, and a payment or delivery transition changes that transaction's or
//! delivery's `updatedAt`, not the order's; read orders incrementally by `createdAt`,
//! `updatedAt` and `transactions.updatedAt` together.

mod acl;
mod actions;
mod auth;
mod criteria;
mod definition;
mod encode;
mod entities;
mod error;
pub mod ids;
mod index;
mod orders;
mod query;
mod routes;
mod search;
mod seed;
mod states;
mod store;
mod sync;
mod validate;
mod write;

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::common::{Faults, Instrumentation, Journal, RunningServer, instrument, lock, serve};
use crate::dataset::{self, Customer, Dataset};

pub use seed::keys;

/// The Shopware version simulated: it decides limits, stock semantics, the sync format and
/// which fields exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ApiVersion {
    /// 6.4.20.2: no search limit by default, legacy stock, the old sync format.
    V6_4,
    /// 6.6.10.16: limit 500, stock is the sellable amount.
    #[default]
    V6_6,
    /// 6.7.10.0: as 6.6, plus primary transaction and delivery on orders.
    V6_7,
}

impl ApiVersion {
    /// The full version `GET /api/_info/version` reports.
    pub fn full(self) -> &'static str {
        match self {
            ApiVersion::V6_4 => "6.4.20.2",
            ApiVersion::V6_6 => "6.6.10.16",
            ApiVersion::V6_7 => "6.7.10.0",
        }
    }

    /// The highest `limit` a search takes, which is also the default; none: unlimited.
    pub fn max_limit(self) -> Option<u64> {
        match self {
            ApiVersion::V6_4 => None,
            ApiVersion::V6_6 | ApiVersion::V6_7 => Some(500),
        }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApiVersion::V6_4 => "6.4",
            ApiVersion::V6_6 => "6.6",
            ApiVersion::V6_7 => "6.7",
        })
    }
}

impl FromStr for ApiVersion {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.trim() {
            "6.4" | "6.4.20.2" => Ok(ApiVersion::V6_4),
            "6.6" | "6.6.10.16" => Ok(ApiVersion::V6_6),
            "6.7" | "6.7.10.0" => Ok(ApiVersion::V6_7),
            other => anyhow::bail!("unsupported Shopware version {other:?}: use 6.4, 6.6 or 6.7"),
        }
    }
}

/// What the shop starts with.
#[derive(Debug, Clone, Default)]
pub enum Seed {
    /// Only what every shop has (languages, currencies, state machines, …).
    #[default]
    Empty,
    /// A dataset: the demo shop or a generated one.
    Dataset(Dataset),
    /// A state dumped earlier (`GET /__sim/state`, [`ShopwareSim::dump`]).
    File(PathBuf),
}

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct ShopwareOptions {
    /// Where to listen; port 0 picks a free one.
    pub addr: SocketAddr,
    /// The version simulated.
    pub api_version: ApiVersion,
    /// The initial state.
    pub seed: Seed,
    /// How long access tokens live.
    pub token_ttl: Duration,
    /// The integration's access key id.
    pub client_id: String,
    /// The integration's secret access key.
    pub client_secret: String,
    /// Seed of the random choices of probabilistic faults.
    pub fault_seed: u64,
    /// The seed time (orders are placed relative to it); none: now.
    pub now: Option<DateTime<Utc>>,
}

impl Default for ShopwareOptions {
    fn default() -> Self {
        ShopwareOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_version: ApiVersion::default(),
            seed: Seed::Empty,
            token_ttl: Duration::from_secs(600),
            client_id: dataset::SHOPWARE_CLIENT_ID.to_string(),
            client_secret: dataset::SHOPWARE_CLIENT_SECRET.to_string(),
            fault_seed: 0,
            now: None,
        }
    }
}

/// What the request handlers share.
pub(crate) struct Shared {
    store: Mutex<store::Store>,
    /// The integration role's privileges; none: all (an admin integration).
    privileges: Mutex<Option<BTreeSet<String>>>,
    auth: auth::Auth,
    version: ApiVersion,
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, store::Store> {
        lock(&self.store)
    }

    fn privileges(&self) -> Option<BTreeSet<String>> {
        lock(&self.privileges).clone()
    }
}

fn build_store(options: &ShopwareOptions) -> anyhow::Result<store::Store> {
    let now = options.now.unwrap_or_else(Utc::now);
    Ok(match &options.seed {
        Seed::Empty => seed::empty(options.api_version, now),
        Seed::Dataset(data) => seed::from_dataset(options.api_version, now, data),
        Seed::File(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read seed {}: {e}", path.display()))?;
            store::Store::load(options.api_version, now, serde_json::from_str(&text)?)?
        }
    })
}

/// An order placed through [`ShopwareSim::place_order`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    /// The order id.
    pub id: String,
    /// The order number.
    pub number: String,
    /// The id of its (open) payment transaction.
    pub transaction_id: String,
}

/// A running Shopware simulator.
pub struct ShopwareSim {
    shared: Arc<Shared>,
    instrumentation: Arc<Instrumentation>,
    server: RunningServer,
    options: ShopwareOptions,
}

impl ShopwareSim {
    /// Builds the state and serves it.
    pub async fn start(options: ShopwareOptions) -> anyhow::Result<Self> {
        let store = build_store(&options)?;
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            privileges: Mutex::new(None),
            auth: auth::Auth::new(
                &options.client_id,
                &options.client_secret,
                options.token_ttl,
                options.fault_seed,
            ),
            version: options.api_version,
        });
        let instrumentation = Instrumentation::new(options.fault_seed, error::fault_answer);
        let app = instrument(routes::router(shared.clone()), instrumentation.clone());
        let server = serve(app, options.addr).await?;
        Ok(ShopwareSim {
            shared,
            instrumentation,
            server,
            options,
        })
    }

    /// `http://127.0.0.1:PORT`; the API is under `/api`.
    pub fn base_url(&self) -> &str {
        &self.server.base_url
    }

    /// The version simulated.
    pub fn api_version(&self) -> ApiVersion {
        self.shared.version
    }

    /// The line printed when started by hand: where it listens and how to log in.
    pub fn startup_line(&self) -> Value {
        json!({
            "sim": "shopware",
            "base_url": self.base_url(),
            "api_version": self.shared.version.full(),
            "client_id": self.options.client_id,
            "client_secret": self.options.client_secret,
        })
    }

    /// Every request answered.
    pub fn journal(&self) -> &Journal {
        &self.instrumentation.journal
    }

    /// The fault rules.
    pub fn faults(&self) -> &Faults {
        &self.instrumentation.faults
    }

    /// The whole state, loadable again with [`Seed::File`].
    pub fn dump(&self) -> Value {
        self.shared.store().dump()
    }

    /// How many products syncs handed to the message queue for indexing
    /// (`indexing-behavior: use-queue-indexing`).
    pub fn queued_indexing(&self) -> u64 {
        self.shared.store().queued_indexing
    }

    /// How many access tokens were issued.
    pub fn token_requests(&self) -> usize {
        self.shared.auth.issued()
    }

    /// Stops serving.
    pub async fn stop(self) {
        self.server.stop().await;
    }

    /// Places an order as a customer would in the storefront: state open, one open payment
    /// transaction with `payment_method` (technical name), stock taken as the version does.
    pub fn place_order(
        &self,
        customer: &Customer,
        lines: &[(&str, u32)],
        payment_method: &str,
    ) -> anyhow::Result<PlacedOrder> {
        let mut store = self.shared.store();
        let number = (store.last_order_number + 1).to_string();
        let channel = store
            .rows("sales_channel", ids::LIVE_VERSION)
            .first()
            .map(|c| c.id().to_string())
            .ok_or_else(|| anyhow::anyhow!("the shop has no sales channel"))?;
        let method = keys::payment_method(payment_method);
        anyhow::ensure!(
            store.live("payment_method", &method).is_some(),
            "unknown payment method {payment_method}"
        );
        let mut tx = store.begin();
        let placement = orders::Placement {
            id: ids::random(),
            number: number.clone(),
            customer: customer.clone(),
            lines: lines
                .iter()
                .map(|(sku, quantity)| orders::Line {
                    sku: sku.to_string(),
                    quantity: i64::from(*quantity),
                })
                .collect(),
            payment_method_id: method.clone(),
            sales_channel_id: channel,
            placed: tx.clock.now(),
        };
        let catalog = orders::Catalog::new(&tx);
        let id = orders::insert_order(&mut tx, &placement, &catalog);
        let transaction_id = orders::add_transaction(&mut tx, &id, &method)
            .map_err(|e| anyhow::anyhow!("{:?}", e.errors))?;
        tx.commit();
        Ok(PlacedOrder {
            id,
            number,
            transaction_id,
        })
    }

    /// Adds a new payment transaction (state open) to an order, as a customer changing the
    /// payment method does; returns its id.
    pub fn add_transaction(&self, order_id: &str, payment_method: &str) -> anyhow::Result<String> {
        let mut store = self.shared.store();
        let mut tx = store.begin();
        let id = orders::add_transaction(&mut tx, order_id, &keys::payment_method(payment_method))
            .map_err(|e| anyhow::anyhow!("{:?}", e.errors))?;
        tx.commit();
        Ok(id)
    }

    /// Runs a state transition on an `order`, `order_transaction` or `order_delivery`, as the
    /// Admin does; returns the new state's technical name.
    pub fn transition(&self, entity: &str, id: &str, action: &str) -> anyhow::Result<String> {
        let mut store = self.shared.store();
        actions::run_transition(&mut store, entity, id, action)
            .map_err(|e| anyhow::anyhow!("{}", e.errors[0]["detail"]))
    }

    /// Sets a product's `stock` as a merchant typing it in the Admin.
    pub fn set_stock(&self, product_number: &str, stock: i64) -> anyhow::Result<()> {
        let mut store = self.shared.store();
        let id = store
            .rows("product", ids::LIVE_VERSION)
            .into_iter()
            .find(|p| p.str("productNumber") == Some(product_number))
            .map(|p| p.id().to_string())
            .ok_or_else(|| anyhow::anyhow!("no product {product_number}"))?;
        actions::write_one(&mut store, "product", json!({"id": id, "stock": stock}))
            .map_err(|e| anyhow::anyhow!("{:?}", e.errors))
    }

    /// Changes a product as a merchant editing it in the Admin: `changes` holds product fields
    /// as the Admin API writes them (`{"description": "…", "price": [...]}`).
    pub fn update_product(&self, product_number: &str, changes: Value) -> anyhow::Result<()> {
        let mut store = self.shared.store();
        let id = store
            .rows("product", ids::LIVE_VERSION)
            .into_iter()
            .find(|p| p.str("productNumber") == Some(product_number))
            .map(|p| p.id().to_string())
            .ok_or_else(|| anyhow::anyhow!("no product {product_number}"))?;
        let mut row = changes;
        let fields = row
            .as_object_mut()
            .ok_or_else(|| anyhow::anyhow!("changes must be an object"))?;
        fields.insert("id".into(), json!(id));
        actions::write_one(&mut store, "product", row)
            .map_err(|e| anyhow::anyhow!("{:?}", e.errors))
    }

    /// A product by its number, as `Accept: application/json` shows it (inheritance off).
    pub fn product(&self, product_number: &str) -> Option<Value> {
        let store = self.shared.store();
        actions::find_by(&store, "product", "productNumber", product_number)
    }

    /// An order by its number (live version), as `Accept: application/json` shows it, with
    /// line items and transactions.
    pub fn order(&self, order_number: &str) -> Option<Value> {
        let store = self.shared.store();
        actions::find_by(&store, "order", "orderNumber", order_number)
    }

    /// Gives the integration a role with only these privileges (`order:read`,
    /// `product:update`, …), as a merchant configures it in the Admin; none: all privileges.
    pub fn restrict_privileges(&self, privileges: Option<&[&str]>) {
        *lock(&self.shared.privileges) =
            privileges.map(|p| p.iter().map(|s| s.to_string()).collect());
    }

    /// Opens an order in the "Admin" without saving: a draft version, invisible without
    /// `sw-version-id`. Returns the version id.
    pub fn open_in_admin(&self, order_id: &str) -> anyhow::Result<String> {
        let mut store = self.shared.store();
        let mut tx = store.begin();
        let version = orders::create_version(&mut tx, "order", order_id, None)
            .map_err(|e| anyhow::anyhow!("{:?}", e.errors))?;
        tx.commit();
        Ok(version)
    }
}
