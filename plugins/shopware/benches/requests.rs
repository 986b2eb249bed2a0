//! Requests and time of the connector's heavy operations against the Shopware simulator, on
//! 6.4 and 6.6: reading 1,200 orders, writing 2,000 stock levels, writing 500 products of which
//! one the database refuses. Prints a Markdown table (the README's BENCHMARKS section).
//!
//!     cargo bench -p shopware --bench requests
//!
//! Times include the simulator answering in the same process; requests are what a real shop
//! would be sent.

#[allow(dead_code, unused_imports)]
#[path = "../tests/sim/support.rs"]
mod support;

use std::time::{Duration, Instant};

use support::*;
use tillbridge::runtime::Kv;

/// Runs of each timed operation; the median is reported.
const RUNS: usize = 3;

struct Row {
    version: ApiVersion,
    what: &'static str,
    requests: usize,
    time: Duration,
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Reads every order of a fresh sweep in a fresh session (no token yet) with `limit` a page.
async fn read_orders(shop: &mut Shop, limit: u32) -> (usize, Duration) {
    let mut times = Vec::new();
    let mut requests = 0;
    for _ in 0..RUNS {
        shop.kv = Kv::memory();
        let mut session = shop.session().await;
        let before = shop.requests();
        let started = Instant::now();
        let (orders, _) = read_all(&mut session, query(None, &[], limit))
            .await
            .unwrap();
        times.push(started.elapsed());
        requests = shop.requests() - before;
        assert_eq!(orders.len(), 1200);
    }
    (requests, median(times))
}

/// 2,000 stock updates with quantities that change with `round`.
fn updates(skus: &[String], round: i64) -> Vec<StockUpdate> {
    skus.iter()
        .enumerate()
        .map(|(i, sku)| StockUpdate {
            sku: sku.clone(),
            quantity: (i as i64 * 7 + round) % 90,
            managed: true,
        })
        .collect()
}

/// Writes 2,000 levels in a new session: `cold` with nothing remembered (no token, no ids),
/// else with the key-value store of the previous runs.
async fn write_stock(shop: &mut Shop, skus: &[String], cold: bool) -> (usize, Duration) {
    let mut times = Vec::new();
    let mut requests = 0;
    for round in 0..RUNS {
        if cold {
            shop.kv = Kv::memory();
        }
        let mut session = shop.session().await;
        let batch = updates(skus, round as i64 + if cold { 0 } else { 50 });
        let before = shop.requests();
        let started = Instant::now();
        let results = session.write_stock(&batch).await.unwrap();
        times.push(started.elapsed());
        requests = shop.requests() - before;
        assert!(results.iter().all(|r| r.outcome.is_ok()));
    }
    (requests, median(times))
}

/// 500 new simple products, the first of which names a category the shop does not have (a
/// foreign key the database refuses, which no pointer places), written in a new session with
/// a token already remembered. Returns the requests and time of the write.
async fn write_products_one_bad(version: ApiVersion) -> (usize, Duration) {
    let mut times = Vec::new();
    let mut requests = 0;
    for _ in 0..RUNS {
        let shop = Shop::demo(version).await;
        shop.session().await.check().await.unwrap();
        let writes: Vec<ProductWrite> = (0..500)
            .map(|i| ProductWrite {
                product: simple(&format!("TB-BULK-{i:03}"), &format!("Bulk {i}")),
                target_id: None,
                update_fields: ProductFields::empty(),
                categories: if i == 0 {
                    vec!["0123456789abcdef0123456789abcdef".into()]
                } else {
                    vec![]
                },
            })
            .collect();
        let mut session = shop.session().await;
        let before = shop.requests();
        let started = Instant::now();
        let results = session.write_products(&writes).await.unwrap();
        times.push(started.elapsed());
        requests = shop.requests() - before;
        assert!(results[0].outcome.is_err());
        assert!(results[1..].iter().all(|r| r.outcome.is_ok()));
    }
    (requests, median(times))
}

async fn bench(version: ApiVersion, rows: &mut Vec<Row>) {
    let mut shop = Shop::start(version, Seed::Dataset(Dataset::generated(60, 1200, 0.5, 7))).await;
    for (limit, what) in [
        (50, "read 1,200 orders, pages of 50"),
        (500, "read 1,200 orders, pages of 500"),
    ] {
        let (requests, time) = read_orders(&mut shop, limit).await;
        rows.push(Row {
            version,
            what,
            requests,
            time,
        });
    }
    let data = Dataset::generated(1500, 300, 0.5, 11);
    let skus: Vec<String> = data
        .products
        .iter()
        .flat_map(|p| match p.variants.is_empty() {
            true => vec![p.sku.clone()],
            false => p.variants.iter().map(|v| v.sku.clone()).collect(),
        })
        .take(2000)
        .collect();
    let mut shop = Shop::start(version, Seed::Dataset(data)).await;
    let (requests, time) = write_stock(&mut shop, &skus, true).await;
    rows.push(Row {
        version,
        what: "write 2,000 stock levels, first run",
        requests,
        time,
    });
    let (requests, time) = write_stock(&mut shop, &skus, false).await;
    rows.push(Row {
        version,
        what: "write 2,000 stock levels, next runs",
        requests,
        time,
    });
    let (requests, time) = write_products_one_bad(version).await;
    rows.push(Row {
        version,
        what: "write 500 new products, one refused by the database",
        requests,
        time,
    });
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut rows = Vec::new();
    runtime.block_on(async {
        for version in VERSIONS {
            bench(version, &mut rows).await;
        }
    });
    println!("| Shopware | operation | requests | time (median of {RUNS}) |");
    println!("|---|---|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {} | {:.2} s |",
            row.version,
            row.what,
            row.requests,
            row.time.as_secs_f64()
        );
    }
}
