//! A simulator of the CCV SalesPOS REST API (v1, under `/api/rest/v1/`), faithful where CCV
//! documents its behaviour and explicit where it guesses (each module says which is which).
//!
//! - Requests are signed with HMAC-SHA512 and checked strictly; answers are signed (`auth`).
//! - Rate limits per operation (`GET /productqueries` stricter) and in total answer `429.10` /
//!   `429.11` (`limits`).
//! - Collections page with `start`/`size` and `next` links, sort with `orderby`, fill in
//!   sub-resources with `expand` where CCV documents it (`collection`).
//! - Resources: `users`, `orders` with `orderrows` and `ordernotes`, `products`,
//!   `productqueries`, `attributes`, `attributevalues`, `productattributevalues`,
//!   `attributecombinations` (generated), `categories`, `categorytree`, `producttocategories`,
//!   `productpropertygroups` with their `productproperties`, options and values and
//!   `producttopropertygroups`, `packages`, `paymethods`, `webshops` and their `settings`, the
//!   root.
//! - Reservations are orders in status 14; completed sales lower stock (`stock`).
//! - Errors carry CCV's `code`, `status` and `developermessage` (`error`).
//! - Both of CCV's media types (`Accept: application/vnd.verto.webshop+json`, the default, and
//!   `application/vnd.verto.salespos+json`) get the same answers: CCV's SDK documents SalesPOS
//!   schemas only for cash-ups and fiscal transaction signatures (`BaseEndpoint::ACCEPT_HEADERS`;
//!   its tests ask for `vnd.verto.salespos.resource.cashups` and `…fiscaltransactionsignatures`
//!   only), which the simulator does not serve. The journal keeps the `Accept` of each request.
//!
//! Beside the API: `GET /__sim/state` (the dump), and `/__sim/journal` and `/__sim/faults` from
//! [`crate::common`]. These are neither signed nor rate limited. Injected faults answer in CCV's
//! error format, unsigned: they stand for an outage in front of the API.

mod auth;
mod categories;
mod collection;
mod combinations;
mod error;
mod http;
mod limits;
mod misc;
mod model;
mod money;
mod ordernotes;
mod orderrows;
mod orders;
mod products;
mod properties;
mod routes;
mod seed;
mod stock;
mod users;
mod variants;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub use auth::{format_x_date, parse_x_date, sign, sign_bytes};
pub use collection::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use error::CcvError;
pub use limits::operation;
pub use model::QueryMatch;
pub use stock::{Article, StockLevel};

use crate::common::{Faults, Instrumentation, Journal, RunningServer, instrument, serve};
use crate::dataset::{CCV_PUBLIC_KEY, CCV_SECRET, Customer, Dataset};
use auth::Credentials;
use http::Shared;
use limits::RateLimiter;
use model::{STATUS_CANCELLED, STATUS_RESERVED};

/// Where the API lives on the host.
pub const API_PREFIX: &str = "/api/rest/v1";

/// Order status 1, "New".
const STATUS_NEW: u8 = 1;
/// Order status 7, "Completed": a sale that is done and collected.
const STATUS_COMPLETED: u8 = 7;

/// What the simulated POS holds at start.
#[derive(Debug, Clone)]
pub enum Seed {
    /// Nothing but the webshop record (flagged `is_salespos`).
    Empty,
    /// The POS side of a shared dataset (see the `seed` module for what that is).
    Dataset(Dataset),
    /// A state as [`CcvSim::dump`] wrote it (JSON).
    File(PathBuf),
}

/// CCV's rate limits. CCV documents 150 GET and 100 writes per minute per operation, 30 a minute
/// for `GET /productqueries`, and a total limit whose size it does not document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// GET requests per operation and window (CCV: 150).
    pub reads_per_window: u32,
    /// POST, PATCH, PUT and DELETE requests per operation and window (CCV: 100).
    pub writes_per_window: u32,
    /// `GET /productqueries` per window (CCV: 30, "30 per minute" in `ProductqueriesEndpoint.php`
    /// of the schemas generated as `jacobdekeizer/ccvshop-client`).
    pub productqueries_per_window: u32,
    /// All requests per window. CCV's value is unknown; the default, 300, is twice the read
    /// limit: a client that pages one collection as fast as allowed stays under it, one that does
    /// several things at full speed does not, and must handle `429.11`.
    pub total_per_window: u32,
    /// The window (CCV: a minute); tests shorten it.
    pub window: Duration,
}

impl RateLimits {
    /// No limits (`tillbridge sim ccv --no-limits`): for measuring tillbridge's own speed,
    /// which no real CCV account allows.
    pub fn none() -> Self {
        RateLimits {
            reads_per_window: u32::MAX,
            writes_per_window: u32::MAX,
            productqueries_per_window: u32::MAX,
            total_per_window: u32::MAX,
            window: Duration::from_secs(60),
        }
    }

    /// The `rate_limits` of a flows.toml connection that paces a client under exactly these
    /// limits (an inline table), for tests and benchmarks that shorten the window.
    pub fn pacing_toml(&self) -> String {
        let window = self.window.as_secs_f64();
        format!(
            "{{ reads_per_window = {}, writes_per_window = {}, total_per_window = {}, window_secs = {window}, operations = {{ \"GET /productqueries\" = {{ requests = {}, per_seconds = {window} }} }} }}",
            self.reads_per_window,
            self.writes_per_window,
            self.total_per_window,
            self.productqueries_per_window,
        )
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            reads_per_window: 150,
            writes_per_window: 100,
            productqueries_per_window: 30,
            total_per_window: 300,
            window: Duration::from_secs(60),
        }
    }
}

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct CcvOptions {
    /// Where to listen; port 0 picks a free one.
    pub addr: SocketAddr,
    /// The state at start.
    pub seed: Seed,
    /// The API public key requests must carry.
    pub public_key: String,
    /// The API secret requests are signed with.
    pub secret: String,
    /// The rate limits.
    pub rate_limits: RateLimits,
    /// How `GET /productqueries` combines several parameters (CCV does not document it).
    pub productqueries: QueryMatch,
    /// How far a request's `x-date` may be off (CCV: 5 minutes).
    pub max_clock_skew: Duration,
    /// Seeds the random choices of probabilistic faults.
    pub fault_seed: u64,
    /// The simulator's clock at start (it runs on from there); none: the real time. Seeded
    /// records are dated by it, and `x-date` is checked against it.
    pub now: Option<DateTime<Utc>>,
}

impl Default for CcvOptions {
    fn default() -> Self {
        CcvOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Seed::Empty,
            public_key: CCV_PUBLIC_KEY.into(),
            secret: CCV_SECRET.into(),
            rate_limits: RateLimits::default(),
            productqueries: QueryMatch::default(),
            max_clock_skew: Duration::from_secs(5 * 60),
            fault_seed: 0,
            now: None,
        }
    }
}

/// The simulator's clock: the real time, shifted so that it started at a chosen instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    offset: TimeDelta,
}

impl Clock {
    fn starting_at(start: Option<DateTime<Utc>>) -> Self {
        Clock {
            offset: start.map_or(TimeDelta::zero(), |start| start - Utc::now()),
        }
    }

    /// Now, on this clock.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// A running CCV SalesPOS simulator. It stops when dropped or [`Self::stop`]ped.
pub struct CcvSim {
    server: RunningServer,
    shared: Arc<Shared>,
    instrumentation: Arc<Instrumentation>,
}

impl CcvSim {
    /// Seeds the state and starts serving.
    pub async fn start(options: CcvOptions) -> anyhow::Result<Self> {
        let clock = Clock::starting_at(options.now);
        let mut store = match &options.seed {
            Seed::Empty => model::Store::default(),
            Seed::Dataset(dataset) => seed::from_dataset(dataset, clock.now())?,
            Seed::File(path) => seed::from_file(path)?,
        };
        store.productqueries = options.productqueries;
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            credentials: Credentials {
                public_key: options.public_key,
                secret: options.secret,
                max_clock_skew: options.max_clock_skew,
            },
            limiter: RateLimiter::new(options.rate_limits),
            clock,
        });
        let instrumentation = Instrumentation::new(options.fault_seed, error::fault_answer);
        let api = Router::new()
            .fallback(http::serve_api)
            .with_state(shared.clone());
        let control = Router::new()
            .route("/__sim/state", get(state))
            .with_state(shared.clone());
        let app = instrument(api, instrumentation.clone()).merge(control);
        let server = serve(app, options.addr)
            .await
            .context("starting the CCV simulator")?;
        Ok(CcvSim {
            server,
            shared,
            instrumentation,
        })
    }

    /// "http://127.0.0.1:PORT"; the API is under `/api/rest/v1/`.
    pub fn base_url(&self) -> &str {
        &self.server.base_url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// What the CLI prints when the simulator is up.
    pub fn startup_line(&self) -> Value {
        json!({
            "sim": "ccv",
            "base_url": self.base_url(),
            "public_key": self.shared.credentials.public_key,
            "secret": self.shared.credentials.secret,
        })
    }

    /// The API public key.
    pub fn public_key(&self) -> &str {
        &self.shared.credentials.public_key
    }

    /// The API secret.
    pub fn secret(&self) -> &str {
        &self.shared.credentials.secret
    }

    /// Now, on the simulator's clock (sign `x-date` with this when the clock was set).
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Every request answered.
    pub fn journal(&self) -> &Journal {
        &self.instrumentation.journal
    }

    /// The fault rules.
    pub fn faults(&self) -> &Faults {
        &self.instrumentation.faults
    }

    /// Forgets every rate-limit count, as if a new window had begun for all.
    pub fn reset_rate_limits(&self) {
        self.shared.limiter.reset();
    }

    /// The whole state as JSON; [`Seed::File`] loads it again.
    pub fn dump(&self) -> Value {
        self.shared
            .with_store(|store| serde_json::to_value(&*store).expect("the state serializes"))
    }

    /// The article with this SKU: a combination's `sku_number`, else a product's
    /// `productnumber`.
    pub fn article(&self, sku: &str) -> Option<Article> {
        self.shared
            .with_store(|store| stock::find_article(store, sku))
    }

    /// An article's physical stock and reservations, by SKU.
    pub fn stock(&self, sku: &str) -> Option<StockLevel> {
        self.shared.with_store(|store| {
            stock::find_article(store, sku).map(|article| stock::level(store, article))
        })
    }

    /// The `total_price` of each row of an order, as `GET /orders/:id/orderrows` shows it.
    pub fn row_totals(&self, order_id: u64) -> Option<Vec<Decimal>> {
        self.shared.with_store(|store| {
            let order = store.orders.get(&order_id)?;
            order
                .rows
                .iter()
                .map(|r| r.amounts().map(|a| a.total))
                .collect()
        })
    }

    /// Counts stock at the till: sets an article's physical stock.
    pub fn set_stock(&self, sku: &str, physical: Decimal) -> anyhow::Result<()> {
        self.shared.with_store(|store| {
            let article =
                stock::find_article(store, sku).with_context(|| format!("no article {sku}"))?;
            let slot = match article.combination_id {
                Some(id) => store.combinations.get_mut(&id).map(|c| &mut c.stock),
                None => store
                    .products
                    .get_mut(&article.product_id)
                    .map(|p| &mut p.stock),
            };
            *slot.context("the article vanished")? = physical;
            Ok(())
        })
    }

    /// Enriches a product's long description in the back office, as a merchant does after the
    /// first sync (so that tests can show it is kept).
    pub fn enrich_product(&self, productnumber: &str, description: &str) -> anyhow::Result<()> {
        self.shared.with_store(|store| {
            let product = store
                .products
                .values_mut()
                .find(|p| p.productnumber == productnumber)
                .with_context(|| format!("no product {productnumber}"))?;
            product.description = description.to_string();
            Ok(())
        })
    }

    /// Sells at the till and the customer takes it along: a completed, paid order (status 7)
    /// that lowers stock. Returns the order's id.
    pub fn sell(&self, sku: &str, count: u32) -> anyhow::Result<u64> {
        self.till_sale(sku, count, STATUS_COMPLETED)
    }

    /// Sells at the till for later pick-up: an order in status 14 that reserves the article
    /// without lowering physical stock. Returns the order's id.
    pub fn reserve(&self, sku: &str, count: u32) -> anyhow::Result<u64> {
        self.till_sale(sku, count, STATUS_RESERVED)
    }

    /// Staff (or a previous integration) book a webshop order by hand: a new order of the article
    /// with the webshop's order number written in `reservationnumber`. Returns the order's id.
    pub fn book_by_hand(
        &self,
        sku: &str,
        count: u32,
        reservationnumber: &str,
    ) -> anyhow::Result<u64> {
        let id = self.till_sale(sku, count, STATUS_NEW)?;
        self.shared.with_store(|store| {
            let order = store.orders.get_mut(&id).context("the order vanished")?;
            order.reservationnumber = Some(reservationnumber.to_string());
            Ok(id)
        })
    }

    fn till_sale(&self, sku: &str, count: u32, status: u8) -> anyhow::Result<u64> {
        let now = self.now();
        self.shared.with_store(|store| {
            let article =
                stock::find_article(store, sku).with_context(|| format!("no article {sku}"))?;
            orders::till_sale(store, article, Decimal::from(count), status, now)
                .map_err(|e| anyhow::anyhow!(e.message))
        })
    }

    /// The customer picks up a reservation: the order becomes completed and paid (status 7) and
    /// its articles leave physical stock.
    pub fn collect(&self, order_id: u64) -> anyhow::Result<()> {
        self.set_order_status(order_id, STATUS_COMPLETED)
    }

    /// Cancels an order at the till (status 8): a reservation is released, a sale's articles
    /// return to stock.
    pub fn cancel(&self, order_id: u64) -> anyhow::Result<()> {
        self.set_order_status(order_id, STATUS_CANCELLED)
    }

    fn set_order_status(&self, order_id: u64, status: u8) -> anyhow::Result<()> {
        self.shared.with_store(|store| {
            stock::change_order(store, order_id, |_, order| {
                order.status = Some(status);
                order.paid |= status == STATUS_COMPLETED;
                Ok::<_, CcvError>(())
            })
            .with_context(|| format!("no order {order_id}"))?
            .map_err(|e| anyhow::anyhow!(e.message))
        })
    }

    /// Adds a package in the back office, as a merchant does. Returns its id.
    pub fn add_package(&self, name: &str) -> u64 {
        self.shared.with_store(|store| {
            let id = store.new_id();
            store.packages.insert(
                id,
                model::Package {
                    id,
                    name: name.to_string(),
                },
            );
            id
        })
    }

    /// Adds a customer the way the shop staff would, outside tillbridge: a user with the
    /// customer's e-mail address as username. Returns the user's id.
    pub fn add_user(&self, customer: &Customer) -> u64 {
        let now = self.now();
        self.shared
            .with_store(|store| seed::add_user(store, customer, seed::personalinfo(customer), now))
    }

    /// Staff retype a user's billing address in the address-line form (CCV's other form), clearing
    /// street and house number.
    pub fn edit_user_address(
        &self,
        user_id: u64,
        line_1: &str,
        line_2: &str,
    ) -> anyhow::Result<()> {
        self.shared.with_store(|store| {
            let user = store
                .users
                .get_mut(&user_id)
                .with_context(|| format!("no user {user_id}"))?;
            let address = &mut user.userinfo.billingaddress;
            address.street = None;
            address.housenumber = None;
            address.housenumber_suffix = None;
            address.address_line_1 = Some(line_1.to_string());
            address.address_line_2 = Some(line_2.to_string());
            Ok(())
        })
    }

    /// The ids of the users with this e-mail address in their `userinfo` (for assertions; the
    /// API itself has no such filter).
    pub fn users_with_email(&self, email: &str) -> Vec<u64> {
        self.shared.with_store(|store| {
            store
                .users
                .values()
                .filter(|u| u.userinfo.email.as_deref() == Some(email))
                .map(|u| u.id)
                .collect()
        })
    }

    /// Stops serving and waits until the server is down.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// `GET /__sim/state`: the dump.
async fn state(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(shared.with_store(|store| serde_json::to_value(&*store).expect("the state serializes")))
}
