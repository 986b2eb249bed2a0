//! Products found by SKU, created with everything, updated with only the allowed fields, and
//! never created twice.

use serde_json::Value;
use tillbridge::runtime::Kv;
use tillbridge::runtime::bindings::tillbridge::plugin::types::{PluginError, WriteAction};

use tillbridge_sim::common::Fault;

use super::support::records::{configurable, price, product, product_write};
use super::support::{Pos, assert_all_signed};

/// The products in the simulator with this number.
fn products_numbered(dump: &Value, sku: &str) -> Vec<Value> {
    dump["products"]
        .as_object()
        .unwrap()
        .values()
        .filter(|p| p["productnumber"] == sku)
        .cloned()
        .collect()
}

fn combinations_of(dump: &Value, product_id: &str) -> Vec<Value> {
    dump["combinations"]
        .as_object()
        .unwrap()
        .values()
        .filter(|c| {
            c["product_id"].as_u64().map(|id| id.to_string()).as_deref() == Some(product_id)
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn three_sizes_by_two_colours_make_six_combinations_with_sku_ean_and_stock() {
    let pos = Pos::empty().await;
    let tee = configurable("TEE", &["S", "M", "L"], &["Red", "Blue"]);
    let mut session = pos.session().await;
    let results = session
        .write_products(&[product_write(tee.clone(), None, &[])])
        .await
        .unwrap();

    assert_eq!(
        results.len(),
        7,
        "one per product and per variant: {results:#?}"
    );
    assert_eq!(results[0].key, "TEE");
    let product_id = results[0].outcome.clone().unwrap().id;
    let dump = pos.dump();
    let combinations = combinations_of(&dump, &product_id);
    assert_eq!(combinations.len(), 6);
    for (variant, result) in tee.variants.iter().zip(&results[1..]) {
        assert_eq!(result.key, variant.sku);
        let written = result.outcome.clone().unwrap();
        assert_eq!(written.action, WriteAction::Created);
        let c = &dump["combinations"][&written.id];
        assert_eq!(c["sku_number"], variant.sku);
        assert_eq!(c["ean_number"], variant.ean.clone().unwrap());
        assert_eq!(c["stock"], variant.stock.unwrap().to_string());
        assert_eq!(c["product_id"].to_string(), product_id);
    }
    assert_eq!(
        dump["products"][&product_id]["stocktype"],
        "attribute_combination"
    );

    let mut counts = std::collections::BTreeMap::new();
    for request in pos.since(0) {
        let op = request
            .split('/')
            .map(|s| {
                if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
                    "{id}"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        *counts.entry(op).or_insert(0) += 1;
    }
    let counts: Vec<(&str, i32)> = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        counts,
        [
            ("GET /attributes", 1),
            ("GET /attributes/{id}/attributevalues", 2),
            ("GET /packages", 1),
            ("GET /products/{id}/attributecombinations", 1),
            ("GET /webshops", 1),
            ("GET /webshops/{id}/settings", 1),
            ("PATCH /attributecombinations/{id}", 6),
            ("POST /attributes", 2),
            ("POST /attributes/{id}/attributevalues", 5),
            ("POST /products", 1),
            ("POST /products/{id}/productattributevalues", 5),
        ]
    );
    assert_all_signed(&pos);

    // The next configurable product reuses the attributes and values: no look-ups.
    let before = pos.count();
    let polo = configurable("POLO", &["S", "M", "L"], &["Red", "Blue"]);
    let more = session
        .write_products(&[product_write(polo, None, &[])])
        .await
        .unwrap();
    assert!(more.iter().all(|r| r.outcome.is_ok()), "{more:#?}");
    assert_eq!(
        pos.count() - before,
        1 + 5 + 1 + 6,
        "{:?}",
        pos.since(before)
    );

    // And both are found by SKU.
    let found = session
        .find_products(&["TEE-M-Blue".into(), "POLO".into(), "NOPE".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].id, product_id);
    assert_eq!(
        found[0].variant_id.as_deref(),
        Some(results[4].outcome.clone().unwrap().id.as_str())
    );
    assert_eq!(found[1].variant_id, None);
}

#[tokio::test]
async fn a_variant_price_that_depends_on_the_size_becomes_a_surcharge() {
    let pos = Pos::empty().await;
    let mut tee = configurable("TEE", &["M", "XL"], &["Red"]);
    tee.variants[1].prices = vec![price("22.45")];
    let results = pos
        .session()
        .await
        .write_products(&[product_write(tee, None, &[])])
        .await
        .unwrap();
    assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:#?}");
    let dump = pos.dump();
    let surcharges: Vec<String> = dump["product_attribute_values"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v["price"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(surcharges, ["0", "2.5", "0"], "M, XL, Red");
}

#[tokio::test]
async fn updates_overwrite_only_the_allowed_fields() {
    let pos = Pos::empty().await;
    let mut session = pos.session().await;
    let mug = product("MUG", "12.50", 10);
    let created = session
        .write_products(&[product_write(mug.clone(), None, &[])])
        .await
        .unwrap();
    let id = created[0].outcome.clone().unwrap().id;

    let mut changed = mug.clone();
    changed.name = "Renamed in the shop".into();
    changed.description = Some("<p>Overwritten?</p>".into());
    changed.prices = vec![price("14.95")];
    changed.stock = Some(7);
    let before = pos.count();
    let updated = session
        .write_products(&[product_write(
            changed.clone(),
            Some(&id),
            &["price", "stock"],
        )])
        .await
        .unwrap();
    assert_eq!(
        updated[0].outcome.clone().unwrap().action,
        WriteAction::Updated
    );
    assert_eq!(pos.since(before), [format!("PATCH /products/{id}")]);
    let p = &pos.dump()["products"][&id];
    assert_eq!(
        (p["price"].as_str(), p["stock"].as_str()),
        (Some("14.95"), Some("7"))
    );
    assert_eq!(p["name"], "Product MUG", "the POS's name is kept");
    assert_eq!(
        p["description"], "<p>Long text</p>",
        "texts only when allowed"
    );

    // Nothing allowed: nothing sent.
    let before = pos.count();
    let same = session
        .write_products(&[product_write(changed, Some(&id), &[])])
        .await
        .unwrap();
    assert_eq!(
        same[0].outcome.clone().unwrap().action,
        WriteAction::Unchanged
    );
    assert_eq!(pos.count(), before);
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_not_duplicated() {
    let pos = Pos::empty().await;
    let mut session = pos.session().await;
    let mug = product("MUG", "12.50", 10);
    let first = session
        .write_products(&[product_write(mug.clone(), None, &[])])
        .await
        .unwrap();
    let id = first[0].outcome.clone().unwrap().id;
    // A crash after POST /products: the intent is left, the host never heard the id.
    let Kv::Memory(map) = &pos.kv else { panic!() };
    map.lock()
        .unwrap()
        .insert("products/intent/MUG".into(), "1".into());

    let before = pos.count();
    let again = session
        .write_products(&[product_write(mug, None, &[])])
        .await
        .unwrap();
    assert_eq!(again[0].outcome.clone().unwrap().id, id);
    assert_eq!(products_numbered(&pos.dump(), "MUG").len(), 1);
    assert_eq!(
        pos.since(before)[0],
        "GET /products",
        "looked up first (one page: the whole catalogue)"
    );
    // Settled, the intent is gone: the store does not grow with every product ever created.
    let kept = pos.kv.keys("products/intent/").unwrap();
    assert!(kept.is_empty(), "{kept:?}");
}

#[tokio::test]
async fn variants_whose_last_offer_answer_was_lost_get_their_stock_on_the_next_write() {
    let pos = Pos::empty().await;
    // The fifth and last offer (3 sizes, 2 colours) is kept by CCV, which generates every
    // combination (stock 0, no SKU), and its answer is lost: the write fails before its patches.
    pos.sim.faults().add(
        Fault::status("/api/rest/v1/products/*/productattributevalues", 500)
            .after_write()
            .skip(4)
            .times(1),
    );
    let tee = configurable("TEE", &["S", "M", "L"], &["Red", "Blue"]);
    let mut session = pos.session().await;
    let first = session
        .write_products(&[product_write(tee.clone(), None, &[])])
        .await
        .unwrap();
    assert!(
        first[1..].iter().all(|r| r.outcome.is_err()),
        "the variants failed: {first:#?}"
    );
    let id = first[0].outcome.clone().unwrap().id;

    // The next run updates the product (only prices may change): its variants are still new.
    let again = session
        .write_products(&[product_write(tee.clone(), Some(&id), &["prices"])])
        .await
        .unwrap();
    let dump = pos.dump();
    for (variant, result) in tee.variants.iter().zip(&again[1..]) {
        let written = result.outcome.clone().unwrap();
        assert_eq!(written.action, WriteAction::Created, "{}", variant.sku);
        let c = &dump["combinations"][&written.id];
        assert_eq!(c["sku_number"], variant.sku);
        assert_eq!(
            c["stock"],
            variant.stock.unwrap().to_string(),
            "{}",
            variant.sku
        );
    }
    assert_eq!(combinations_of(&dump, &id).len(), 6, "none made twice");
}

#[tokio::test]
async fn a_bad_product_fails_alone_with_a_reason() {
    let pos = Pos::empty().await;
    let mut no_price = product("FREE", "1", 1);
    no_price.prices.clear();
    let mut odd_vat = product("ODD", "10", 1);
    odd_vat.prices[0].tax_rate = "7".into();
    let results = pos
        .session()
        .await
        .write_products(&[
            product_write(no_price, None, &[]),
            product_write(odd_vat, None, &[]),
            product_write(product("OK", "5", 1), None, &[]),
        ])
        .await
        .unwrap();
    let message = |i: usize| match results[i].outcome.clone().unwrap_err() {
        PluginError::Invalid(p) => p.message,
        other => panic!("{other:?}"),
    };
    assert!(message(0).contains("no price"), "{}", message(0));
    assert!(
        message(1).contains("7% VAT") && message(1).contains("tax_tariffs"),
        "{}",
        message(1)
    );
    assert!(results[2].outcome.is_ok());
    assert_eq!(pos.dump()["products"].as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn variant_updates_touch_only_what_changed_and_add_sizes_when_allowed() {
    let pos = Pos::empty().await;
    let mut session = pos.session().await;
    let mut tee = configurable("TEE", &["S", "M"], &["Red"]);
    let created = session
        .write_products(&[product_write(tee.clone(), None, &[])])
        .await
        .unwrap();
    let id = created[0].outcome.clone().unwrap().id;

    // One variant's stock changed.
    tee.variants[0].stock = Some(99);
    let before = pos.count();
    let results = session
        .write_products(&[product_write(tee.clone(), Some(&id), &["stock", "ean"])])
        .await
        .unwrap();
    let actions: Vec<WriteAction> = results
        .iter()
        .map(|r| r.outcome.clone().unwrap().action)
        .collect();
    assert_eq!(
        actions,
        [
            WriteAction::Unchanged,
            WriteAction::Updated,
            WriteAction::Unchanged
        ]
    );
    let combination = results[1].outcome.clone().unwrap().id;
    assert_eq!(
        pos.since(before),
        [
            format!("GET /products/{id}/attributecombinations"),
            format!("PATCH /attributecombinations/{combination}")
        ]
    );
    assert_eq!(pos.dump()["combinations"][&combination]["stock"], "99");

    // A new size, not allowed: the variant fails, saying why.
    let mut bigger = tee.clone();
    bigger.variants.push(super::support::records::variant(
        "TEE-L-Red",
        "8710000000099",
        "L",
        "Red",
        5,
    ));
    let refused = session
        .write_products(&[product_write(bigger.clone(), Some(&id), &["stock"])])
        .await
        .unwrap();
    let Err(PluginError::Invalid(problem)) = &refused[3].outcome else {
        panic!("{refused:?}")
    };
    assert!(
        problem.message.contains("\"variants\""),
        "{}",
        problem.message
    );

    // Allowed: the size is offered, and its combination set up.
    let before = pos.count();
    let added = session
        .write_products(&[product_write(bigger, Some(&id), &["stock", "variants"])])
        .await
        .unwrap();
    assert_eq!(added[3].key, "TEE-L-Red");
    assert_eq!(
        added[3].outcome.clone().unwrap().action,
        WriteAction::Created
    );
    assert!(
        pos.since(before)
            .contains(&format!("POST /products/{id}/productattributevalues"))
    );
    let dump = pos.dump();
    assert_eq!(combinations_of(&dump, &id).len(), 3);
    let l = &dump["combinations"][&added[3].outcome.clone().unwrap().id];
    assert_eq!(
        (l["sku_number"].as_str(), l["stock"].as_str()),
        (Some("TEE-L-Red"), Some("5"))
    );
}

/// CCV's product resource carries a tax tariff, not a rate (ccvshop/ccvshop-api
/// `src/Resources/Product.php`): a product read from CCV gets the rate the connection's
/// `tax_tariffs` gives its tariff, the table it is written with.
#[tokio::test]
async fn a_product_read_from_ccv_has_the_rate_of_its_tax_tariff() {
    use tillbridge::runtime::bindings::exports::tillbridge::plugin::products_source::ProductQuery;
    let pos = Pos::demo().await;
    let query = ProductQuery {
        cursor: None,
        changed_since: None,
        skus: vec!["TB-BOOK-01".into(), "TB-MUG-01".into()],
        properties: vec![],
        limit: 10,
    };
    let page = pos.session().await.read_products(&query).await.unwrap();
    let rate = |sku: &str| {
        page.products
            .iter()
            .find(|p| p.sku == sku)
            .map(|p| p.prices[0].tax_rate.clone())
    };
    assert_eq!(rate("TB-BOOK-01").as_deref(), Some("9"), "tariff low a");
    assert_eq!(rate("TB-MUG-01").as_deref(), Some("21"), "tariff normal");
}
