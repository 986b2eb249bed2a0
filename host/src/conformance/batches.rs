//! A batch with one invalid record in the middle: the bad record fails alone, as `invalid` and
//! keyed by its own key, and the others are written, each reported in the order given.

use chrono::Utc;
use serde_json::json;

use super::{Harness, Row};
use crate::runtime::bindings::exports::tillbridge::plugin as guest;
use crate::runtime::bindings::tillbridge::plugin::types::{PluginError, RecordResult};
use crate::runtime::{CallError, Capability};

const INVALID: &str = "errors: a validation error is invalid, naming the record";
const PER_RECORD: &str = "batches keep their order and report per record";
const CAPABILITY: &str = "products-sink";

fn product(sku: &str, name: &str) -> guest::products_sink::ProductWrite {
    let product = json!({
        "sku": sku, "name": name, "active": true, "variants": [], "properties": [], "categories": [],
        "custom_fields": [],
        "prices": [{ "amount": "9.95", "includes_tax": true, "tax_rate": "21", "currency": "EUR" }],
    });
    guest::products_sink::ProductWrite {
        product: serde_json::from_value(product).expect("the suite's product fits the contract"),
        target_id: None,
        update_fields: guest::products_sink::ProductFields::empty(),
        categories: Vec::new(),
    }
}

/// The two checks: (the validation error's class, the batch's shape). The batch check needs the
/// first to hold: a batch stopped by a misclassified error says nothing about batches.
pub async fn run(harness: &Harness) -> (Vec<Row>, Vec<Row>) {
    if !harness.has(Capability::ProductsSink) {
        return (Vec::new(), Vec::new());
    }
    let stamp = Utc::now().format("%H%M%S%3f");
    let skus: Vec<String> = (1..=3).map(|i| format!("CONF-B{stamp}-{i}")).collect();
    // The middle one has no name: every system refuses that.
    let batch = vec![
        product(&skus[0], "Conformance article one"),
        product(&skus[1], ""),
        product(&skus[2], "Conformance article three"),
    ];
    let answer = async {
        let mut session = harness.session().await?;
        session.write_products(&batch).await
    };
    let results = match answer.await {
        Ok(results) => results,
        Err(CallError::Plugin(error @ PluginError::Invalid(_))) => {
            return (
                vec![Row::pass(
                    INVALID,
                    CAPABILITY,
                    format!("{}", CallError::Plugin(error.clone())),
                )],
                vec![Row::fail(
                    PER_RECORD,
                    CAPABILITY,
                    format!(
                        "the whole batch failed for one bad record: {}",
                        CallError::Plugin(error)
                    ),
                )],
            );
        }
        Err(e) => {
            return (
                vec![Row::fail(
                    INVALID,
                    CAPABILITY,
                    format!("a batch with a product without a name failed as a whole: {e}"),
                )],
                vec![Row::skipped(
                    PER_RECORD,
                    CAPABILITY,
                    "needs validation errors classified",
                )],
            );
        }
    };
    (
        vec![invalid(&results, &skus[1])],
        vec![per_record(&results, &skus)],
    )
}

fn invalid(results: &[RecordResult], sku: &str) -> Row {
    match results.iter().find(|r| r.key == sku).map(|r| &r.outcome) {
        Some(Err(error @ PluginError::Invalid(_))) => Row::pass(
            INVALID,
            CAPABILITY,
            format!("{sku}: {}", CallError::Plugin(error.clone())),
        ),
        Some(Err(error)) => Row::fail(
            INVALID,
            CAPABILITY,
            format!(
                "{sku} (no name) failed as {}, not as invalid",
                CallError::Plugin(error.clone())
            ),
        ),
        Some(Ok(written)) => Row::fail(
            INVALID,
            CAPABILITY,
            format!("{sku} has no name, yet was written as {}", written.id),
        ),
        None => Row::fail(INVALID, CAPABILITY, format!("no result keyed {sku}")),
    }
}

fn per_record(results: &[RecordResult], skus: &[String]) -> Row {
    let keys: Vec<&str> = results.iter().map(|r| r.key.as_str()).collect();
    if keys != skus.iter().map(String::as_str).collect::<Vec<_>>() {
        return Row::fail(
            PER_RECORD,
            CAPABILITY,
            format!(
                "results keyed [{}] for a batch of [{}]",
                keys.join(", "),
                skus.join(", ")
            ),
        );
    }
    let refused: Vec<String> = [0, 2]
        .iter()
        .filter_map(|&i| match &results[i].outcome {
            Ok(_) => None,
            Err(e) => Some(format!("{}: {}", skus[i], CallError::Plugin(e.clone()))),
        })
        .collect();
    if !refused.is_empty() {
        return Row::fail(
            PER_RECORD,
            CAPABILITY,
            format!(
                "the valid records around the bad one were not written: {}",
                refused.join("; ")
            ),
        );
    }
    Row::pass(
        PER_RECORD,
        CAPABILITY,
        "3 results in the order given; only the middle one failed",
    )
}
