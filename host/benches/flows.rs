//! What the flows cost against the simulators.
//!
//! 1. HTTP requests per order at steady state (customers and products known), with the point of
//!    sale's internal note on and off: runs of 50 and of 100 orders, their difference what each
//!    order costs and the rest what a run costs; then a naive implementation of the same
//!    algorithm that makes one call per check (`find-orders`, `find-customers`,
//!    `write-customers`, `find-products` per SKU, `create-orders`), on the same simulators.
//! 2. `orders`: time for 1,000 orders end to end under the simulators' default rate limits,
//!    against the minimum those limits allow (over ten minutes: two writes per order at CCV's
//!    100 writes per minute per operation).
//! 3. `stock`: the same for the stock of 10,000 products (about 14,000 stock levels).
//! 4. `memory`: the point of sale's requests per order with its internal note and without; then
//!    a run whose state file was lost (every order already booked), and the steady state after.
//! 5. `throughput`: records a second of each flow with CCV's limits off (`tillbridge sim ccv
//!    --no-limits`) and the host's pacing as high, over 10,000 products and 1,000 orders: the
//!    engine's own speed (mapping, transforms, state, and both simulators on the same cores).
//!
//! Run: `cargo bench -p tillbridge --bench flows` (part 1), `… -- orders`, `… -- stock`,
//! `… -- memory`, `… -- throughput`, or `… -- --full` for all five. `--window=SECS` shortens CCV's minute for parts
//! 2 and 3 (every paced time scales with it; the request counts do not change).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use tillbridge::config::Config;
use tillbridge::flows::{self, Options};
use tillbridge::integration::Integration;
use tillbridge::runtime::bindings::exports::tillbridge::plugin::customers::CustomerWrite;
use tillbridge::runtime::bindings::exports::tillbridge::plugin::orders_sink::{
    MarkerLookup, OrderSubmission,
};
use tillbridge::runtime::bindings::exports::tillbridge::plugin::orders_source::OrderQuery;
use tillbridge::runtime::bindings::tillbridge::plugin::types::Order;
use tillbridge::runtime::{Kv, Session};
use tillbridge::state::{Outcome, State};
use tillbridge_sim::ccv::{self, CcvOptions, CcvSim};
use tillbridge_sim::common::JournalEntry;
use tillbridge_sim::dataset::{self, Dataset};
use tillbridge_sim::shopware::{self, ShopwareOptions, ShopwareSim};

/// The configuration: `pos_settings` for the point of sale's connection, `settings` for the
/// orders flow.
fn config(
    dir: &Path,
    shop: &ShopwareSim,
    pos: &CcvSim,
    limits: &ccv::RateLimits,
    pos_settings: &str,
    settings: &str,
) -> Integration {
    let text = format!(
        r#"
[host]
state = "state.redb"
[plugins.shopware]
file = "builtin:shopware"
[plugins.ccv-salespos]
file = "builtin:ccv-salespos"
[connections.shop]
plugin = "shopware"
url = "{shop}"
secrets = {{ client_id = "{id}", client_secret = "{secret}" }}
[connections.pos]
plugin = "ccv-salespos"
url = "{pos}"
secrets = {{ public_key = "{key}", secret = "{pos_secret}" }}
settings = {{ {pos_settings} }}
rate_limits = {pacing}
[flows.orders]
kind = "orders"
source = "shop"
target = "pos"
settings = {{ {settings} }}
[flows.stock]
kind = "stock"
source = "pos"
target = "shop"
settings = {{ batch_size = 500 }}
[flows.products]
kind = "products"
source = "shop"
target = "pos"
settings = {{ overlap_minutes = 0 }}
[flows.products-to-shop]
kind = "products"
source = "pos"
target = "shop"
settings = {{ overlap_minutes = 0 }}
[flows.categories]
kind = "categories"
source = "shop"
target = "pos"
"#,
        shop = shop.base_url(),
        id = dataset::SHOPWARE_CLIENT_ID,
        secret = dataset::SHOPWARE_CLIENT_SECRET,
        pos = pos.base_url(),
        key = dataset::CCV_PUBLIC_KEY,
        pos_secret = dataset::CCV_SECRET,
        pacing = limits.pacing_toml(),
    );
    let path = dir.join("flows.toml");
    std::fs::write(&path, &text).unwrap();
    let config =
        Config::parse(&path, &text, &|_: &str| None, &tillbridge::builtin::names()).unwrap();
    Integration::open(config).unwrap()
}

/// How many requests each simulator has journaled so far.
fn mark(shop: &ShopwareSim, pos: &CcvSim) -> (usize, usize) {
    (shop.journal().len(), pos.journal().len())
}

/// Places `n` paid orders for customers and products the point of sale already has.
fn place_paid_orders(shop: &ShopwareSim, data: &Dataset, n: usize, offset: usize) {
    let skus = data.article_skus();
    for i in 0..n {
        let customer = &data.customers[(i + offset) % 20];
        let lines = [
            (skus[(i + offset) % skus.len()], 1),
            (skus[(i * 7 + offset + 3) % skus.len()], 2),
        ];
        let placed = shop
            .place_order(customer, &lines, "payment_paypal")
            .unwrap();
        shop.transition("order_transaction", &placed.transaction_id, "paid")
            .unwrap();
    }
}

/// Both simulators on `data`, the point of sale with `limits`.
async fn start_sims(data: &Dataset, limits: ccv::RateLimits) -> (ShopwareSim, CcvSim) {
    let shop = ShopwareSim::start(ShopwareOptions {
        seed: shopware::Seed::Dataset(data.clone()),
        ..ShopwareOptions::default()
    })
    .await
    .unwrap();
    let pos = CcvSim::start(CcvOptions {
        seed: ccv::Seed::Dataset(data.clone()),
        rate_limits: limits,
        ..CcvOptions::default()
    })
    .await
    .unwrap();
    (shop, pos)
}

/// One integration over a pair of simulators, its customers and products known: where the
/// requests of one order are counted.
struct Steady<'a> {
    integration: &'a Integration,
    state: &'a State,
    shop: &'a ShopwareSim,
    pos: &'a CcvSim,
    data: &'a Dataset,
}

impl Steady<'_> {
    /// Requests of one orders run over `n` new paid orders (from `offset` in the dataset's
    /// customers and products): how many, and per operation.
    async fn orders_run(&self, n: usize, offset: usize) -> (usize, String) {
        place_paid_orders(self.shop, self.data, n, offset);
        let before = mark(self.shop, self.pos);
        let report = flows::run_flow(self.integration, self.state, "orders", &Options::default())
            .await
            .unwrap();
        let booked = report.entries.iter().filter(|e| e.kind == "order");
        assert_eq!(booked.count(), n);
        breakdown(self.shop, self.pos, before)
    }

    /// The same algorithm, one call per check, on the same systems: its requests per order.
    async fn naive_per_order(&self, n: usize, offset: usize) {
        place_paid_orders(self.shop, self.data, n, offset);
        let session = |plugin: &str, connection: &str| {
            let grants = self.integration.connection_grants(connection, Kv::memory());
            self.integration.plugins[plugin].session(grants)
        };
        let mut source = session("shopware", "shop").await.unwrap();
        let mut target = session("ccv-salespos", "pos").await.unwrap();
        let cursor = self.state.read().unwrap().cursor("orders").unwrap();
        let before = mark(self.shop, self.pos);
        let mut query = OrderQuery {
            cursor,
            changed_since: None,
            order_states: vec![],
            payment_states: vec!["paid".into()],
            numbers: vec![],
            limit: n as u32,
        };
        let mut sent = 0;
        loop {
            let page = source.read_orders(&query).await.unwrap();
            for order in page.orders {
                if naive_send(&mut target, order).await {
                    sent += 1;
                }
            }
            query.cursor = page.cursor.or(query.cursor);
            if !page.more {
                break;
            }
        }
        assert_eq!(sent, n);
        let (total, ops) = breakdown(self.shop, self.pos, before);
        println!(
            "  naive, note on: {:.2} per order ({total} requests: {ops})",
            total as f64 / n as f64
        );
    }
}

async fn requests_per_order() {
    let data = Dataset::generated(30, 0, 1.0, 11);
    let limits = ccv::RateLimits {
        window: Duration::from_millis(100),
        ..ccv::RateLimits::default()
    };
    const N: usize = 100;
    println!("requests at steady state (customers and products known):");
    for (note, pos_settings) in [("on", ""), ("off", "order_note = false")] {
        let (shop, pos) = start_sims(&data, limits).await;
        let dir = tempfile::tempdir().unwrap();
        let settings = "payment_states = [\"paid\"], batch_size = 1000";
        let integration = config(dir.path(), &shop, &pos, &limits, pos_settings, settings);
        let state = State::open(&dir.path().join("state.redb")).unwrap();
        let steady = Steady {
            integration: &integration,
            state: &state,
            shop: &shop,
            pos: &pos,
            data: &data,
        };
        // Warm up: the first 100 orders make every customer and product known.
        steady.orders_run(N, 0).await;
        // A run of N/2 orders and one of N: the difference is what each order costs, the rest
        // what a run costs whatever its size (finding new orders, CCV's reference data).
        let half = steady.orders_run(N / 2, N).await;
        let full = steady.orders_run(N, N + N / 2).await;
        let per_order = (full.0 - half.0) as f64 / (N - N / 2) as f64;
        let per_run = full.0 as f64 - per_order * N as f64;
        println!(
            "  note {note:<3}: {per_order:.2} per order, {per_run:.0} per run ({N} orders: {} requests: {})",
            full.0, full.1
        );
        if note == "on" {
            steady.naive_per_order(N, 3 * N).await;
        }
        shop.stop().await;
        pos.stop().await;
    }
}

/// The orders algorithm with one call per check: exists? customer? write customer; each product;
/// create. True when the order was sent.
async fn naive_send(target: &mut Session, order: Order) -> bool {
    let lookup = MarkerLookup {
        marker: order.number.clone(),
        since: order.ordered_at.clone(),
    };
    if !target.find_orders(&[lookup]).await.unwrap().is_empty() {
        return false;
    }
    let found = target
        .find_customers(std::slice::from_ref(&order.customer.email))
        .await
        .unwrap();
    let write = CustomerWrite {
        customer: order.customer.clone(),
        target_id: found.first().map(|c| c.id.clone()),
    };
    let written = target.write_customers(&[write]).await.unwrap();
    let customer_id = written[0].outcome.clone().unwrap().id;
    let mut products = Vec::new();
    for sku in order.lines.iter().filter_map(|l| l.sku.clone()) {
        products.extend(target.find_products(&[sku]).await.unwrap());
    }
    let submission = OrderSubmission {
        marker: order.number.clone(),
        order,
        customer_id,
        products,
        payment_method: None,
        payment_condition: None,
        store: None,
        status: None,
        paid: true,
    };
    target.create_orders(&[submission]).await.unwrap();
    true
}

/// How many requests went to each operation.
fn operations(entries: &[JournalEntry]) -> BTreeMap<String, usize> {
    let mut per_op: BTreeMap<String, usize> = BTreeMap::new();
    for e in entries.iter().filter(|e| !e.path.starts_with("/__sim")) {
        *per_op
            .entry(ccv::operation(&e.method, &e.path))
            .or_default() += 1;
    }
    per_op
}

/// The requests both simulators journaled after the first `skip` of each: how many, and per
/// operation.
fn breakdown(shop: &ShopwareSim, pos: &CcvSim, skip: (usize, usize)) -> (usize, String) {
    let mut entries = shop.journal().entries().split_off(skip.0);
    entries.extend(pos.journal().entries().split_off(skip.1));
    let ops = operations(&entries);
    let list = ops
        .iter()
        .map(|(op, n)| format!("{op} ×{n}"))
        .collect::<Vec<_>>();
    (ops.values().sum(), list.join(", "))
}

/// The least time CCV's limits allow for the requests a run made, two ways: at the limits'
/// rate (every operation spread evenly at its limit, as the host paces), and with bursts (a full
/// window's worth at once, then a window's wait). The slowest operation sets the pace.
fn minimum(entries: &[JournalEntry], limits: &ccv::RateLimits) -> (Duration, Duration) {
    let per_op = operations(entries);
    let total: usize = per_op.values().sum();
    let mut counts = vec![(total, limits.total_per_window)];
    for (op, count) in per_op {
        let limit = if op == "GET /productqueries" {
            limits.productqueries_per_window
        } else if op.starts_with("GET") {
            limits.reads_per_window
        } else {
            limits.writes_per_window
        };
        counts.push((count, limit));
    }
    let at_rate = counts
        .iter()
        .map(|&(n, limit)| limits.window.mul_f64(n as f64 / f64::from(limit)))
        .max()
        .unwrap_or_default();
    let windows = counts
        .iter()
        .map(|&(n, limit)| n.saturating_sub(1) as u32 / limit)
        .max()
        .unwrap_or_default();
    (at_rate, limits.window * windows)
}

/// Runs `flow` `runs` times under `limits` and prints how long each run took against the least
/// the limits allow, with its CCV requests per operation.
async fn timed_runs(
    what: &str,
    data: &Dataset,
    limits: ccv::RateLimits,
    flow: &str,
    settings: &str,
    runs: usize,
) {
    let (shop, pos) = start_sims(data, limits).await;
    let dir = tempfile::tempdir().unwrap();
    let integration = config(dir.path(), &shop, &pos, &limits, "", settings);
    let state = State::open(&dir.path().join("state.redb")).unwrap();
    if flow == "orders" {
        place_paid_orders(&shop, data, 1_000, 0);
    }
    let window = limits.window.as_secs_f64();
    for run in 1..=runs {
        pos.journal().clear();
        let started = Instant::now();
        let report = flows::run_flow(&integration, &state, flow, &Options::default())
            .await
            .unwrap();
        let took = started.elapsed();
        let entries = pos.journal().entries();
        let (at_rate, bursts) = minimum(&entries, &limits);
        let ratio = |min: Duration| took.as_secs_f64() / min.as_secs_f64().max(0.001);
        let per_op: Vec<String> = operations(&entries)
            .iter()
            .map(|(op, n)| format!("{op} ×{n}"))
            .collect();
        println!(
            "{what}, run {run} ({} records, {} CCV requests: {}) under CCV's limits ({window} s window): {:.1} s; the limits allow {:.1} s at their rate ({:.3}×), {:.1} s with bursts ({:.3}×); {}",
            report.entries.len(),
            entries.len(),
            per_op.join(", "),
            took.as_secs_f64(),
            at_rate.as_secs_f64(),
            ratio(at_rate),
            bursts.as_secs_f64(),
            ratio(bursts),
            flows::summary(&report.run.counts)
        );
    }
    shop.stop().await;
    pos.stop().await;
}

/// The orders flow's requests to the point of sale with the internal note and without it; then,
/// with the note, a run over the same orders with a new state file (every order already booked),
/// and the steady state after it.
async fn lost_memory() {
    let data = Dataset::generated(30, 0, 1.0, 11);
    let limits = ccv::RateLimits {
        window: Duration::from_millis(100),
        ..ccv::RateLimits::default()
    };
    let settings = "payment_states = [\"paid\"], batch_size = 10000";
    for note in [true, false] {
        let (shop, pos) = start_sims(&data, limits).await;
        let dir = tempfile::tempdir().unwrap();
        let pos_settings = format!("order_note = {note}");
        let integration = config(dir.path(), &shop, &pos, &limits, &pos_settings, settings);
        let state = |name: &str| State::open(&dir.path().join(name)).unwrap();
        place_paid_orders(&shop, &data, 500, 0);
        let with = if note { "with" } else { "without" };
        let first = format!("500 new orders, {with} the note");
        measure(&first, &integration, &state("state.redb"), &pos).await;
        if note {
            let lost = "the same orders, state file lost";
            measure(lost, &integration, &state("lost.redb"), &pos).await;
            place_paid_orders(&shop, &data, 20, 500);
            let steady = "20 new orders after that";
            measure(steady, &integration, &state("lost.redb"), &pos).await;
        }
        shop.stop().await;
        pos.stop().await;
    }
}

/// Runs the orders flow once and prints the point of sale's requests.
async fn measure(what: &str, integration: &Integration, state: &State, pos: &CcvSim) {
    let before = pos.journal().len();
    let started = Instant::now();
    let report = flows::run_flow(integration, state, "orders", &Options::default())
        .await
        .unwrap();
    let took = started.elapsed();
    let ops = operations(&pos.journal().entries()[before..]);
    let total: usize = ops.values().sum();
    let booked = report
        .entries
        .iter()
        .filter(|e| e.kind == "order" && e.outcome == Outcome::Created)
        .count();
    let list: Vec<String> = ops.iter().map(|(op, n)| format!("{op} ×{n}")).collect();
    println!(
        "{what}: {}; {total} CCV requests ({:.2} per booked order) in {:.2} s: {}",
        flows::summary(&report.run.counts),
        total as f64 / booked.max(1) as f64,
        took.as_secs_f64(),
        list.join(", ")
    );
}

/// 1,000 orders of known products, by customers the point of sale does not know yet.
/// CCV's default limits, in a window of `--window=SECS` when given (CCV's minute otherwise).
fn ccv_limits() -> ccv::RateLimits {
    let window = std::env::args()
        .find_map(|a| a.strip_prefix("--window=")?.parse::<f64>().ok())
        .filter(|w| w.is_finite() && *w > 0.0);
    let mut limits = ccv::RateLimits::default();
    if let Some(window) = window {
        limits.window = Duration::from_secs_f64(window);
    }
    limits
}

async fn thousand_orders() {
    let data = Dataset::generated(200, 0, 1.0, 5);
    let settings = "payment_states = [\"paid\"], batch_size = 1000";
    let limits = ccv_limits();
    timed_runs("1,000 orders", &data, limits, "orders", settings, 1).await;
}

/// The stock of 10,000 products (with their variants, about 14,000 articles), twice: the first
/// run reads every reserved order's rows, the second only lists them.
async fn ten_thousand_stock_levels() {
    let data = Dataset::generated(10_000, 0, 1.0, 6);
    let limits = ccv_limits();
    timed_runs("10,000 products' stock", &data, limits, "stock", "", 2).await;
}

/// Each flow over 10,000 products and 1,000 orders with no rate limit anywhere, first runs (every
/// record read) and next runs (products: only what changed since, here nothing; the simulators
/// share this machine's clock, so the products flows need no overlap): records a second and
/// requests.
async fn throughput() {
    let data = Dataset::generated(10_000, 0, 1.0, 7);
    let limits = ccv::RateLimits::none();
    let (shop, pos) = start_sims(&data, limits).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = "payment_states = [\"paid\"], batch_size = 1000";
    let integration = config(dir.path(), &shop, &pos, &limits, "", settings);
    let state = State::open(&dir.path().join("state.redb")).unwrap();
    place_paid_orders(&shop, &data, 1_000, 0);
    for flow in [
        "categories",
        "products",
        "products-to-shop",
        "stock",
        "orders",
    ] {
        for run in ["first", "next"] {
            let before = mark(&shop, &pos);
            let started = Instant::now();
            let report = flows::run_flow(&integration, &state, flow, &Options::default())
                .await
                .unwrap();
            let took = started.elapsed().as_secs_f64();
            let after = mark(&shop, &pos);
            let records = report.entries.len();
            println!(
                "{flow}, {run} run, no limits: {records} records in {took:.2} s: {:.0} records/s ({} Shopware and {} CCV requests); {}",
                records as f64 / took.max(0.001),
                after.0 - before.0,
                after.1 - before.1,
                flows::summary(&report.run.counts)
            );
        }
    }
    shop.stop().await;
    pos.stop().await;
}

fn main() {
    // Which parts: `requests` (the default), `orders`, `stock`, `memory`, `throughput`; `--full`
    // for all five.
    let mut parts: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if std::env::args().any(|a| a == "--full") {
        parts = vec![
            "requests".into(),
            "orders".into(),
            "stock".into(),
            "memory".into(),
            "throughput".into(),
        ];
    } else if parts.is_empty() {
        parts = vec!["requests".into()];
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // On the workers, as the binary runs its commands (not under `block_on` on this thread).
    let bench = runtime.spawn(async move {
        for part in parts {
            match part.as_str() {
                "requests" => requests_per_order().await,
                "orders" => thousand_orders().await,
                "stock" => ten_thousand_stock_levels().await,
                "memory" => lost_memory().await,
                "throughput" => throughput().await,
                other => {
                    eprintln!("no part {other:?}: requests, orders, stock, memory or throughput")
                }
            }
        }
    });
    runtime.block_on(bench).unwrap();
}
