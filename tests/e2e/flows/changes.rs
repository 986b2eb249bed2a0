//! Products runs read only what changed since the last complete run, the products that failed in
//! it, and the whole catalogue when the flow's configuration changed or when asked to.

use serde_json::json;
use tillbridge::flows::{self, Options, RunReport};
use tillbridge::state::Outcome;
use tillbridge_sim::common::Fault;

use super::harness::{Pair, finished, keys};

/// Products from the shop to the point of sale; the simulators share this machine's clock, so
/// no overlap is needed.
const PRODUCTS: &str = r#"
[flows.products]
kind = "products"
source = "shop"
target = "pos"
settings = { options = { "Size" = "Size", "Colour" = "Colour" }, overlap_minutes = 0 }
"#;

/// How many records a run saw, whatever became of them.
fn seen(report: &RunReport) -> u64 {
    report.run.counts.values().sum()
}

fn pos_price(pair: &Pair, sku: &str) -> String {
    let products = pair.pos_state()["products"].clone();
    let product = super::harness::values(&products)
        .into_iter()
        .find(|p| p["productnumber"] == sku)
        .unwrap();
    product["price"].to_string().trim_matches('"').to_string()
}

/// Changes the price of the shop's mug (TB-MUG-01).
fn set_mug_price(pair: &Pair, gross: f64) {
    let price = json!([{ "currencyId": "b7d2554b0ce847cd82f3ac9bd1c0dfca", "gross": gross, "net": gross / 1.21, "linked": true }]);
    pair.shop
        .update_product("TB-MUG-01", json!({ "price": price }))
        .unwrap();
}

/// The point of sale refuses the next update of a product.
fn refuse_next_update(pair: &Pair) {
    pair.pos.faults().add(
        Fault::status("/api/rest/v1/products*", 422)
            .method("PATCH")
            .times(1),
    );
}

/// The next run reads the mug alone, once, and the point of sale then has its price.
async fn mug_written_once(pair: &Pair, price: &str) {
    let run = pair.run("products").await;
    assert_eq!(
        keys(finished(&run), "product", Outcome::Updated),
        ["TB-MUG-01"]
    );
    assert_eq!(seen(&run), 1, "read once: {run:?}");
    assert_eq!(pos_price(pair, "TB-MUG-01"), price);
}

#[tokio::test]
async fn a_products_run_reads_what_changed_and_what_failed_and_everything_when_the_flow_changed() {
    let mut pair = Pair::demo(PRODUCTS).await;
    let first = pair.run("products").await;
    finished(&first);
    let catalogue = seen(&first);
    assert!(
        catalogue >= 6,
        "the first run reads every product: {first:?}"
    );

    let quiet = pair.run("products").await;
    assert_eq!(
        seen(finished(&quiet)),
        0,
        "nothing changed, nothing read: {quiet:?}"
    );

    // A price changed in the shop, and the point of sale refuses the first write of it.
    set_mug_price(&pair, 13.95);
    refuse_next_update(&pair);
    let refused = pair.run("products").await;
    assert_eq!(
        seen(finished(&refused)),
        1,
        "only the changed product: {refused:?}"
    );
    assert_eq!(keys(&refused, "product", Outcome::Failed), ["TB-MUG-01"]);

    // Unchanged in the shop since, it is read again because it failed, and written.
    mug_written_once(&pair, "13.95").await;
    assert_eq!(seen(&pair.run("products").await), 0, "and then no more");

    // Refused again, then changed again: it is both changed since and failed last time, and is
    // read and written once.
    set_mug_price(&pair, 14.95);
    refuse_next_update(&pair);
    assert_eq!(
        keys(&pair.run("products").await, "product", Outcome::Failed),
        ["TB-MUG-01"]
    );
    set_mug_price(&pair, 15.95);
    mug_written_once(&pair, "15.95").await;

    // A changed configuration reaches every product.
    pair.reconfigure(|text| {
        text.replace(
            "overlap_minutes = 0",
            "overlap_minutes = 0, batch_size = 50",
        )
    });
    let reconfigured = pair.run("products").await;
    assert_eq!(seen(finished(&reconfigured)), catalogue, "{reconfigured:?}");
    assert_eq!(seen(&pair.run("products").await), 0);

    // As does a run that asks for the whole catalogue (`tillbridge once products --full`).
    let options = Options {
        full: true,
        ..Options::default()
    };
    let full = flows::run_flow(&pair.integration, &pair.state, "products", &options)
        .await
        .unwrap();
    assert_eq!(seen(finished(&full)), catalogue, "{full:?}");
}
