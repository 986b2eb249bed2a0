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
    let price = json!([{ "currencyId": "b7d2554b0ce847cd82f3ac9bd1c0dfca", "gross": 13.95, "net": 11.53, "linked": true }]);
    pair.shop
        .update_product("TB-MUG-01", json!({ "price": price }))
        .unwrap();
    pair.pos.faults().add(
        Fault::status("/api/rest/v1/products*", 422)
            .method("PATCH")
            .times(1),
    );
    let refused = pair.run("products").await;
    assert_eq!(
        seen(finished(&refused)),
        1,
        "only the changed product: {refused:?}"
    );
    assert_eq!(keys(&refused, "product", Outcome::Failed), ["TB-MUG-01"]);

    // Unchanged in the shop since, it is read again because it failed, and written.
    let retried = pair.run("products").await;
    assert_eq!(
        keys(finished(&retried), "product", Outcome::Updated),
        ["TB-MUG-01"]
    );
    assert_eq!(seen(&retried), 1, "{retried:?}");
    assert_eq!(pos_price(&pair, "TB-MUG-01"), "13.95");
    assert_eq!(seen(&pair.run("products").await), 0, "and then no more");

    // Refused again, then changed again: it is both changed since and failed last time, and is
    // read and written once.
    let price = |gross: f64| json!([{ "currencyId": "b7d2554b0ce847cd82f3ac9bd1c0dfca", "gross": gross, "net": 12.0, "linked": true }]);
    pair.shop
        .update_product("TB-MUG-01", json!({ "price": price(14.95) }))
        .unwrap();
    pair.pos.faults().add(
        Fault::status("/api/rest/v1/products*", 422)
            .method("PATCH")
            .times(1),
    );
    assert_eq!(
        keys(&pair.run("products").await, "product", Outcome::Failed),
        ["TB-MUG-01"]
    );
    pair.shop
        .update_product("TB-MUG-01", json!({ "price": price(15.95) }))
        .unwrap();
    let both = pair.run("products").await;
    assert_eq!(
        keys(finished(&both), "product", Outcome::Updated),
        ["TB-MUG-01"]
    );
    assert_eq!(seen(&both), 1, "read once: {both:?}");
    assert_eq!(pos_price(&pair, "TB-MUG-01"), "15.95");

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
