//! Exactly-once is the contract's, not a connector's private protocol: a third-party sink that
//! only writes each order with the host's marker and finds orders by marker (the ledger fixture,
//! over an API whose writes are not idempotent) books every order exactly once, however often
//! the host is killed between sending an order and recording the answer.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use tillbridge_sim::dataset::{self, Dataset};
use tillbridge_sim::ledger::{LedgerOptions, LedgerSim};
use tillbridge_sim::shopware::{self, ShopwareOptions, ShopwareSim};

use super::harness::values;
use super::robustness::moments;

/// The webshop's orders go to the ledger through the fixture connector; the ledger's requests
/// are paced (60 a second) so that a run lasts long enough to be killed in the middle. The
/// fixture's `double-create` setting makes its create-orders post blindly, without looking for
/// the marker first: all it does is write with the marker and find by marker.
fn flows_toml(dir: &std::path::Path, shop: &ShopwareSim, ledger: &LedgerSim) -> String {
    let fixture =
        std::path::PathBuf::from(tillbridge::builtin::PLUGIN_DIR).join("fixture_ledger.wasm");
    format!(
        r#"
[host]
state = "state.redb"
cache_dir = "{cache}"

[plugins.shopware]
file = "builtin:shopware"

[plugins.ledger]
file = "{fixture}"

[connections.shop]
plugin = "shopware"
url = "{shop_url}"
secrets = {{ client_id = "{client_id}", client_secret = "{client_secret}" }}

[connections.books]
plugin = "ledger"
settings = {{ defect = "double-create" }}
url = "{ledger_url}"
secrets = {{ token = "{token}" }}
rate_limits = {{ total_per_window = 60, window_secs = 1 }}

[flows.orders]
kind = "orders"
source = "shop"
target = "books"
settings = {{ order_states = [], payment_states = [], batch_size = 1000 }}
"#,
        cache = dir.join("cache").display(),
        fixture = fixture.display(),
        shop_url = shop.base_url(),
        client_id = dataset::SHOPWARE_CLIENT_ID,
        client_secret = dataset::SHOPWARE_CLIENT_SECRET,
        ledger_url = ledger.base_url(),
        token = ledger.token(),
    )
}

/// How many ledger orders carry each reference (the marker the fixture writes).
fn bookings(ledger: &LedgerSim) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for order in values(&ledger.dump()["orders"]) {
        let reference = order["reference"].as_str().unwrap_or_default().to_string();
        *counts.entry(reference).or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_sink_with_only_write_and_find_by_marker_books_once_through_kills() {
    let dataset = Dataset::generated(20, 100, 1.0, 11);
    let shop = ShopwareSim::start(ShopwareOptions {
        seed: shopware::Seed::Dataset(dataset.clone()),
        ..ShopwareOptions::default()
    })
    .await
    .unwrap();
    let ledger = LedgerSim::start(LedgerOptions::default()).await.unwrap();
    // Every article the orders hold exists in the ledger, as the orders flow requires.
    for product in &dataset.products {
        ledger
            .add_product(&product.sku, &product.name, &product.gross_price, 10)
            .unwrap();
        for variant in &product.variants {
            ledger
                .add_product(&variant.sku, &product.name, &product.gross_price, 10)
                .unwrap();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("flows.toml");
    std::fs::write(&config, flows_toml(dir.path(), &shop, &ledger)).unwrap();
    let once = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tillbridge"));
        command.args(["once", "orders", "--config"]).arg(&config);
        command
    };

    // Each kill lands mid-run: once the ledger has a new order from this run (whatever the
    // machine's load), after a further pseudo-random moment.
    let mut killed_mid_booking = 0;
    for (i, extra_ms) in moments(7, 12, 400).into_iter().enumerate() {
        let before = bookings(&ledger).values().sum::<usize>();
        let mut child = once()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let waited = tokio::time::timeout(Duration::from_secs(120), async {
            while bookings(&ledger).values().sum::<usize>() == before
                && child.try_wait().unwrap().is_none()
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "run {i} booked nothing in two minutes");
        tokio::time::sleep(Duration::from_millis(extra_ms - 200)).await;
        if child.try_wait().unwrap().is_none() {
            killed_mid_booking += 1;
        }
        child.kill().unwrap(); // SIGKILL: no chance to record the answers in flight
        child.wait().unwrap();
        let twice: Vec<_> = bookings(&ledger)
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .collect();
        assert!(twice.is_empty(), "after kill {i}, booked twice: {twice:?}");
        if bookings(&ledger).len() == dataset.orders.len() {
            break;
        }
    }
    assert!(
        killed_mid_booking >= 6,
        "the kills must land while orders are being booked (only {killed_mid_booking} did)"
    );
    let last = once().output().unwrap();
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    let booked = bookings(&ledger);
    let numbers: Vec<&str> = dataset.orders.iter().map(|o| o.number.as_str()).collect();
    assert_eq!(
        booked.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut sorted = numbers.clone();
            sorted.sort();
            sorted
        },
        "every order is in the ledger, under its own number"
    );
    assert!(booked.values().all(|n| *n == 1), "each exactly once");
}
