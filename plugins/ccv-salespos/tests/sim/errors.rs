//! CCV's answers become what the host must do: rate limited, transient, invalid, not found.

use serde_json::json;
use tillbridge::runtime::CallError;
use tillbridge::runtime::bindings::tillbridge::plugin::types::PluginError;
use tillbridge_sim::common::Fault;

use super::support::Pos;
use super::support::records::{product, product_write};

#[tokio::test]
async fn a_rate_limit_the_host_could_not_wait_out_is_rate_limited() {
    let pos = Pos::empty().await;
    // Every read refused, saying "try again in 0 s": the host resends at once, then gives up.
    pos.sim.faults().add(
        Fault::status("/api/rest/v1/products", 429)
            .method("GET")
            .retry_after(0),
    );
    let error = pos
        .session()
        .await
        .find_products(&["MUG".into()])
        .await
        .unwrap_err();
    assert_eq!(error, CallError::Plugin(PluginError::RateLimited(0)));
    assert_eq!(
        pos.count(),
        5,
        "sent once and resent four times by the host"
    );
}

#[tokio::test]
async fn after_a_429_the_rest_of_the_batch_is_handed_back_unsent() {
    let pos = Pos::empty().await;
    pos.sim.faults().add(
        Fault::status("/api/rest/v1/products", 429)
            .method("POST")
            .skip(1)
            .retry_after(30),
    );
    let writes: Vec<_> = ["A", "B", "C", "D"]
        .iter()
        .map(|sku| product_write(product(sku, "1", 1), None, &[]))
        .collect();
    let results = pos.session().await.write_products(&writes).await.unwrap();
    assert!(results[0].outcome.is_ok());
    for result in &results[1..] {
        assert_eq!(
            result.outcome,
            Err(PluginError::RateLimited(30_000)),
            "{}",
            result.key
        );
    }
    let posts = pos.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(
        posts, 2,
        "B sent once (a POST is resent by no one; a later run tries it again), C and D not sent"
    );
}

#[tokio::test]
async fn an_outage_on_a_create_is_transient_and_the_create_is_looked_up_next_time() {
    let pos = Pos::empty().await;
    pos.sim.faults().add(
        Fault::status("/api/rest/v1/products", 503)
            .method("POST")
            .times(1),
    );
    let mut session = pos.session().await;
    let first = session
        .write_products(&[product_write(product("MUG", "1", 1), None, &[])])
        .await
        .unwrap();
    let Err(PluginError::Transient(message)) = &first[0].outcome else {
        panic!("{first:?}")
    };
    assert!(
        message.contains("503") && message.contains("looked up"),
        "{message}"
    );
    assert_eq!(
        pos.requests().iter().filter(|r| r.method == "POST").count(),
        1,
        "a POST is never resent blindly"
    );

    let before = pos.count();
    let second = session
        .write_products(&[product_write(product("MUG", "1", 1), None, &[])])
        .await
        .unwrap();
    assert!(second[0].outcome.is_ok());
    assert_eq!(pos.since(before), ["GET /products", "POST /products"]);
}

#[tokio::test]
async fn a_refusal_is_invalid_and_a_vanished_record_not_found() {
    let mut pos = Pos::empty().await;
    // A tariff CCV does not know, so that CCV itself refuses the product.
    pos.settings["tax_tariffs"] = json!({ "21": "normal", "9": "reduced" });
    let mut session = pos.session().await;
    let mut comma = product("COMMA", "1", 1);
    comma.prices[0].amount = "12,50".into();
    let mut low = product("LOW", "1", 1);
    low.prices[0].tax_rate = "9".into();
    let results = session
        .write_products(&[
            product_write(comma, None, &[]),
            product_write(low, None, &[]),
            product_write(product("GONE", "2", 1), Some("424242"), &["price"]),
        ])
        .await
        .unwrap();
    let invalid = |i: usize| match &results[i].outcome {
        Err(PluginError::Invalid(problem)) => problem.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        invalid(0).message.contains("not a decimal"),
        "{:?}",
        invalid(0)
    );
    assert_eq!(invalid(0).field.as_deref(), Some("/prices/0/amount"));
    assert!(
        invalid(1).message.contains("400.10") && invalid(1).message.contains("taxtariff"),
        "{:?}",
        invalid(1)
    );
    let Err(PluginError::NotFound(message)) = &results[2].outcome else {
        panic!("{results:?}")
    };
    assert!(
        message.contains("GONE") && message.contains("424242"),
        "{message}"
    );
    assert!(pos.dump()["products"].as_object().unwrap().is_empty());

    // Neither refusal left anything to look up: corrected, they are simply created.
    let before = pos.count();
    let corrected = session
        .write_products(&[
            product_write(product("COMMA", "1", 1), None, &[]),
            product_write(product("LOW", "1", 1), None, &[]),
        ])
        .await
        .unwrap();
    assert!(corrected.iter().all(|r| r.outcome.is_ok()), "{corrected:?}");
    assert_eq!(pos.since(before), ["POST /products", "POST /products"]);
}
