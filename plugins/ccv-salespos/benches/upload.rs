//! Uploads 1,000 products to the CCV simulator through the host (runtime, egress, pacer, state
//! store), under CCV's rate limits scaled from a minute to 6 s (150 reads and 100 writes per
//! operation, 300 requests in total per window), and compares the time with the least the limits
//! allow for the requests it took.
//!
//! Run: `cargo bench -p ccv-salespos --bench upload` (1,000 simple products, each in a category)
//! or `cargo bench -p ccv-salespos --bench upload -- mixed` (every fifth product configurable,
//! 3 sizes × 2 colours). Numbers are in README.md, section BENCHMARKS.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::json;
use tillbridge::egress::{AllowList, Pacer, RateLimits as PaceLimits};
use tillbridge::runtime::bindings::exports::tillbridge::plugin::categories_sink::CategoryWrite;
use tillbridge::runtime::bindings::exports::tillbridge::plugin::products_sink::{
    ProductFields, ProductWrite,
};
use tillbridge::runtime::bindings::tillbridge::plugin::types::{
    Category, OptionValue, PluginError, Price, Product, ProductVariant,
};
use tillbridge::runtime::{Grants, Kv, Limits, Runtime};
use tillbridge::state::State;
use tillbridge_sim::ccv::{CcvOptions, CcvSim, RateLimits, operation};

const PRODUCTS: usize = 1_000;
const BATCH: usize = 100;
const CATEGORIES: usize = 20;
const WINDOW: Duration = Duration::from_secs(6);

fn limits() -> RateLimits {
    RateLimits {
        window: WINDOW,
        ..RateLimits::default()
    }
}

fn product(i: usize, configurable: bool) -> Product {
    let sku = format!("BENCH-{i:05}");
    let mut variants = Vec::new();
    if configurable {
        for (s, size) in ["S", "M", "L"].iter().enumerate() {
            for (c, colour) in ["Red", "Blue"].iter().enumerate() {
                variants.push(ProductVariant {
                    id: None,
                    sku: format!("{sku}-{size}-{colour}"),
                    ean: Some(format!("87{i:07}{s}{c}00")),
                    options: vec![
                        OptionValue {
                            group: "Size".into(),
                            value: size.to_string(),
                        },
                        OptionValue {
                            group: "Colour".into(),
                            value: colour.to_string(),
                        },
                    ],
                    prices: vec![],
                    stock: Some((i % 7) as i64 + 1),
                    active: true,
                });
            }
        }
    }
    Product {
        id: Some(format!("sw-{i}")),
        sku,
        name: format!("Benchmark product {i}"),
        ean: (!configurable).then(|| format!("88{i:011}")),
        description: Some("<p>A product of the benchmark.</p>".into()),
        short_description: Some("Benchmark".into()),
        prices: vec![Price {
            amount: format!("{}.95", 5 + i % 50),
            includes_tax: true,
            tax_rate: "21".into(),
            currency: "EUR".into(),
        }],
        stock: (!configurable).then_some((i % 40) as i64),
        active: true,
        variants,
        properties: vec![],
        categories: vec![],
        updated_at: None,
        custom_fields: vec![],
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mixed = std::env::args().any(|a| a == "mixed");
    let sim = CcvSim::start(CcvOptions {
        rate_limits: limits(),
        ..CcvOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(&dir.path().join("cache")).unwrap();
    let plugin = runtime
        .load(
            "ccv-salespos",
            tillbridge::builtin::get("ccv-salespos").unwrap().bytes,
        )
        .unwrap();
    // The host's own state file: the connector's memory is committed to disk as in production.
    let state = State::open(&dir.path().join("state.redb")).unwrap();
    let mut grants = Grants::minimal("ccv-salespos@pos", Limits::CONNECTOR)
        .with_settings(json!({ "url": sim.base_url() }));
    grants
        .secrets
        .insert("public_key".into(), sim.public_key().into());
    grants.secrets.insert("secret".into(), sim.secret().into());
    grants.allowed_hosts = AllowList::new(&[AllowList::entry_for(sim.base_url()).unwrap()]);
    grants.kv = Kv::State(state.kv("pos"));
    let pacing = PaceLimits::from_toml(&limits().pacing_toml()).unwrap();
    grants.pacer = Some(Pacer::new(&pacing));
    let mut session = plugin.session(grants).await.unwrap();

    // The tree first (not timed): 20 categories.
    let tree: Vec<CategoryWrite> = (0..CATEGORIES)
        .map(|i| CategoryWrite {
            category: Category {
                id: format!("cat-{i}"),
                parent_id: None,
                name: format!("Category {i}"),
                path: vec![format!("Category {i}")],
                position: i as u32,
                active: true,
                description: None,
            },
            parent_target_id: None,
            target_id: None,
        })
        .collect();
    let category_ids: Vec<String> = session
        .write_categories(&tree)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.outcome.unwrap().id)
        .collect();
    sim.journal().clear();
    sim.reset_rate_limits();
    tokio::time::sleep(WINDOW).await; // the pacer's slots are free again too

    let writes: Vec<ProductWrite> = (0..PRODUCTS)
        .map(|i| ProductWrite {
            product: product(i, mixed && i % 5 == 4),
            target_id: None,
            update_fields: ProductFields::empty(),
            categories: vec![category_ids[i % CATEGORIES].clone()],
        })
        .collect();
    let skus: Vec<String> = writes.iter().map(|w| w.product.sku.clone()).collect();

    let started = Instant::now();
    // As the host does: which exist already? (none: one page of the catalogue)
    let existing = session.find_products(&skus).await.unwrap();
    assert!(existing.is_empty());
    let mut host_retries = 0;
    let mut results = 0;
    for chunk in writes.chunks(BATCH) {
        let mut pending: Vec<ProductWrite> = chunk.to_vec();
        while !pending.is_empty() {
            let answer = session.write_products(&pending).await.unwrap();
            let mut wait = None;
            let mut again = Vec::new();
            for write in pending {
                let own = answer.iter().find(|r| r.key == write.product.sku).unwrap();
                match &own.outcome {
                    Ok(_) => results += 1 + write.product.variants.len(),
                    // The host retries a rate-limited record after the wait it was given.
                    Err(PluginError::RateLimited(ms)) => {
                        wait = Some(Duration::from_millis(*ms));
                        again.push(write);
                    }
                    Err(other) => panic!("{}: {other:?}", write.product.sku),
                }
            }
            if let Some(wait) = wait {
                host_retries += again.len();
                tokio::time::sleep(wait).await;
            }
            pending = again;
        }
    }
    let took = started.elapsed();

    let journal = sim.journal().entries();
    if let Some(path) = std::env::var_os("CCV_BENCH_JOURNAL") {
        let lines: Vec<String> = journal
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    e.at.timestamp_micros(),
                    operation(&e.method, &e.path),
                    e.status
                )
            })
            .collect();
        std::fs::write(path, lines.join("\n")).unwrap();
    }
    let mut per_op: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &journal {
        *per_op
            .entry(operation(&entry.method, &entry.path))
            .or_default() += 1;
    }
    let refused = journal.iter().filter(|e| e.status == 429).count();
    let refused_ops: HashMap<String, usize> =
        journal
            .iter()
            .filter(|e| e.status == 429)
            .fold(HashMap::new(), |mut m, e| {
                *m.entry(operation(&e.method, &e.path)).or_default() += 1;
                m
            });
    // The least time the limits allow for these requests: sustained at the limits (n / limit
    // windows), and with fixed windows filled in bursts at each window's start
    // ((⌈n / limit⌉ − 1) windows).
    let l = limits();
    let window = WINDOW.as_secs_f64();
    let mut sustained = journal.len() as f64 / f64::from(l.total_per_window) * window;
    let mut bursts = (journal.len().div_ceil(l.total_per_window as usize) - 1) as f64 * window;
    let mut binding = "all requests (total limit)".to_string();
    for (op, n) in &per_op {
        let limit = if op == "GET /productqueries" {
            l.productqueries_per_window
        } else if op.starts_with("GET") {
            l.reads_per_window
        } else {
            l.writes_per_window
        };
        let op_sustained = *n as f64 / f64::from(limit) * window;
        if op_sustained > sustained {
            sustained = op_sustained;
            binding = op.clone();
        }
        bursts = bursts.max((n.div_ceil(limit as usize) - 1) as f64 * window);
    }
    let secs = took.as_secs_f64();
    println!(
        "scenario: {} products{}, batches of {BATCH}, each product in a category",
        PRODUCTS,
        if mixed {
            " (every fifth 3 sizes × 2 colours)"
        } else {
            ", simple"
        }
    );
    println!(
        "limits: {} reads / {} writes per operation, {} in total, per {} s",
        l.reads_per_window, l.writes_per_window, l.total_per_window, window
    );
    println!("records written: {results} (products and variants)");
    println!("requests: {}", journal.len());
    for (op, n) in &per_op {
        println!("  {n:>5}  {op}");
    }
    println!(
        "429 answers: {refused} {refused_ops:?}; records the host had to retry: {host_retries}"
    );
    println!("took: {secs:.1} s");
    println!(
        "least at the limits' rate: {sustained:.1} s (bound by {binding}); ratio {:.3}",
        secs / sustained
    );
    println!(
        "least with fixed-window bursts: {bursts:.1} s; ratio {:.3}",
        secs / bursts.max(f64::EPSILON)
    );
}
