//! "Ledger": a small, fictional REST API of the kind a third party connects to. It models no real
//! system; it exists so that third-party connectors, the scaffolds and `tillbridge conformance`
//! have an API to talk to that behaves as real APIs do:
//!
//! - `Authorization: Bearer <token>` on every request, else `401 {"error": …}`.
//! - Lists page with `limit` (1–100, default 25) and an opaque `after` cursor and answer
//!   `{"items": […], "next": cursor | null}`, ordered by id (stock: by SKU).
//! - Writes are not idempotent: a second `POST /orders` with the same `reference` makes a second
//!   order. A client that must not book twice looks for its reference first.
//! - An invalid record answers `422 {"errors": [{"field", "message"}]}`; over the rate limit (off
//!   unless set) `429` with `Retry-After` in seconds; injected faults (`crate::common`) answer
//!   their status, and a lost-answer rule keeps a write and answers `500`, as a server that fails
//!   after its commit does.
//!
//! The endpoints are in `routes`, the records and their rules in `model`.

mod model;
mod routes;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::common::lock;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub use model::{Customer, FieldError, Order, OrderLine, Product, Stock};
pub use routes::{DEFAULT_LIMIT, MAX_LIMIT};

use crate::common::{Faults, Instrumentation, Journal, RunningServer, instrument, serve};
use model::{CustomerInput, ProductInput, Store};

/// The token of the demo ledger.
pub const LEDGER_TOKEN: &str = "tillbridge-demo-ledger-token";

/// A rate limit: at most `requests` in any window of `window`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per window.
    pub requests: u32,
    /// The window.
    pub window: Duration,
}

/// How to start a ledger.
#[derive(Debug, Clone)]
pub struct LedgerOptions {
    /// Where to listen; port 0 picks a free one.
    pub addr: SocketAddr,
    /// The bearer token every request must carry.
    pub token: String,
    /// The rate limit; none (the default): no limit.
    pub rate_limit: Option<RateLimit>,
    /// Seeds the random choices of probabilistic faults.
    pub fault_seed: u64,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: LEDGER_TOKEN.to_string(),
            rate_limit: None,
            fault_seed: 0,
        }
    }
}

/// A fixed-window counter: the simplest limit a real API puts up.
struct Limiter {
    limit: RateLimit,
    window: Mutex<(Instant, u32)>,
}

impl Limiter {
    /// None when the request may go; else the seconds to wait (at least 1).
    fn refuse(&self) -> Option<u64> {
        let mut window = lock(&self.window);
        let elapsed = window.0.elapsed();
        if elapsed >= self.limit.window {
            *window = (Instant::now(), 0);
        }
        if window.1 < self.limit.requests {
            window.1 += 1;
            return None;
        }
        let left = self.limit.window.saturating_sub(window.0.elapsed());
        Some(left.as_secs_f64().ceil().max(1.0) as u64)
    }
}

/// Writes to answer `500` after they were kept: (method, path prefix, how many more).
type LostAnswers = Vec<(String, String, u32)>;

/// What the handlers share.
pub(crate) struct Shared {
    store: Mutex<Store>,
    token: String,
    limiter: Option<Limiter>,
    lost_answers: Mutex<LostAnswers>,
}

impl Shared {
    fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut lock(&self.store))
    }

    fn clock(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Whether this answer is to be lost (and counts it).
    fn take_lost_answer(&self, method: &str, path: &str) -> bool {
        let mut rules = lock(&self.lost_answers);
        let hit = rules.iter_mut().find(|(m, prefix, left)| {
            *left > 0 && m == method && path.starts_with(prefix.as_str())
        });
        match hit {
            Some(rule) => {
                rule.2 -= 1;
                true
            }
            None => false,
        }
    }
}

/// A running ledger. It stops when dropped or [`Self::stop`]ped.
pub struct LedgerSim {
    server: RunningServer,
    shared: Arc<Shared>,
    instrumentation: Arc<Instrumentation>,
}

impl LedgerSim {
    /// Starts an empty ledger.
    pub async fn start(options: LedgerOptions) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::default()),
            token: options.token,
            limiter: options.rate_limit.map(|limit| Limiter {
                limit,
                window: Mutex::new((Instant::now(), 0)),
            }),
            lost_answers: Mutex::default(),
        });
        let instrumentation = Instrumentation::new(options.fault_seed, routes::fault_answer);
        let app: Router = instrument(routes::api(shared.clone()), instrumentation.clone());
        let server = serve(app, options.addr)
            .await
            .context("starting the ledger simulator")?;
        Ok(LedgerSim {
            server,
            shared,
            instrumentation,
        })
    }

    /// "http://127.0.0.1:PORT"; the API is at the root.
    pub fn base_url(&self) -> &str {
        &self.server.base_url
    }

    /// The bearer token.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// What the CLI prints when the simulator is up.
    pub fn startup_line(&self) -> Value {
        json!({ "sim": "ledger", "base_url": self.base_url(), "token": self.token() })
    }

    /// Every request answered.
    pub fn journal(&self) -> &Journal {
        &self.instrumentation.journal
    }

    /// The fault rules.
    pub fn faults(&self) -> &Faults {
        &self.instrumentation.faults
    }

    /// The next `times` successful `method` requests under `path_prefix` are kept but answered
    /// `500`: the write happened, the client cannot know.
    pub fn lose_answers(&self, method: &str, path_prefix: &str, times: u32) {
        lock(&self.shared.lost_answers).push((
            method.to_ascii_uppercase(),
            path_prefix.to_string(),
            times,
        ));
    }

    /// Adds a product as the ledger's owner would (no request, no rules but the API's).
    pub fn add_product(
        &self,
        sku: &str,
        name: &str,
        price: &str,
        on_hand: i64,
    ) -> anyhow::Result<Product> {
        let input = ProductInput {
            sku: Some(sku.to_string()),
            name: Some(name.to_string()),
            price: Some(Value::String(price.to_string())),
            stock: Some(on_hand),
        };
        self.shared
            .with_store(|store| store.create_product(&input, Utc::now()))
            .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))
    }

    /// Adds `count` products "SKU-0001"…, priced 1.00, 2.00, … with 10 on hand each.
    pub fn add_products(&self, prefix: &str, count: usize) -> anyhow::Result<Vec<Product>> {
        (1..=count)
            .map(|i| {
                self.add_product(
                    &format!("{prefix}-{i:04}"),
                    &format!("Article {i}"),
                    &format!("{i}.00"),
                    10,
                )
            })
            .collect()
    }

    /// Adds a customer.
    pub fn add_customer(&self, email: &str, name: &str) -> anyhow::Result<Customer> {
        let input = CustomerInput {
            email: Some(email.to_string()),
            name: Some(name.to_string()),
            company: None,
        };
        self.shared
            .with_store(|store| store.create_customer(&input))
            .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))
    }

    /// Every product, by id.
    pub fn products(&self) -> Vec<Product> {
        self.shared
            .with_store(|store| store.products.values().cloned().collect())
    }

    /// Every customer, by id.
    pub fn customers(&self) -> Vec<Customer> {
        self.shared
            .with_store(|store| store.customers.values().cloned().collect())
    }

    /// The orders with this reference (more than one when it was posted twice).
    pub fn orders_with_reference(&self, reference: &str) -> Vec<Order> {
        self.shared.with_store(|store| {
            store
                .orders
                .values()
                .filter(|o| o.reference == reference)
                .cloned()
                .collect()
        })
    }

    /// The stock of an article.
    pub fn stock(&self, sku: &str) -> Option<Stock> {
        self.shared
            .with_store(|store| store.stock.get(sku).cloned())
    }

    /// The whole state as JSON.
    pub fn dump(&self) -> Value {
        self.shared
            .with_store(|store| serde_json::to_value(&*store).expect("the state serializes"))
    }

    /// Stops serving and waits until the server is down.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}
