//! FLOWS.md §3: products (and categories), one test per numbered point.

use serde_json::Value;
use tillbridge::state::Outcome;

use super::harness::{Pair, finished, keys, values};

const PRODUCTS: &str = r#"
[flows.products]
kind = "products"
source = "shop"
target = "pos"
settings = { options = { "Size" = "Size", "Colour" = "Colour" }, properties = { "Material" = "Material" } }
"#;

const CATEGORIES: &str = r#"
[flows.categories]
kind = "categories"
source = "shop"
target = "pos"
"#;

fn pos_product(pair: &Pair, sku: &str) -> Option<Value> {
    values(&pair.pos_state()["products"])
        .into_iter()
        .find(|p| p["productnumber"] == sku)
}

fn combinations(pair: &Pair, product_id: &Value) -> Vec<Value> {
    values(&pair.pos_state()["combinations"])
        .into_iter()
        .filter(|c| &c["product_id"] == product_id)
        .collect()
}

fn price(value: &Value) -> String {
    value.to_string().trim_matches('"').to_string()
}

#[tokio::test]
async fn flows_3_1_products_are_created_or_updated_by_sku() {
    let pair = Pair::demo(PRODUCTS).await;
    let mug_before = pos_product(&pair, "TB-MUG-01").expect("the POS has the mug");
    let first = pair.run("products").await;
    finished(&first);
    // The poster and the hoodie are new to the POS; the mug, book, T-shirt and candle exist and
    // are matched by SKU.
    assert_eq!(
        keys(&first, "product", Outcome::Created),
        vec!["TB-HOODIE".to_string(), "TB-POSTER-01".to_string()]
    );
    assert!(pos_product(&pair, "TB-POSTER-01").is_some());
    assert_eq!(
        pos_product(&pair, "TB-MUG-01").unwrap()["id"],
        mug_before["id"],
        "matched by SKU, not duplicated"
    );
    assert_eq!(
        values(&pair.pos_state()["products"])
            .iter()
            .filter(|p| p["productnumber"] == "TB-MUG-01")
            .count(),
        1
    );

    // Nothing changed: nothing written.
    let writes = pair.pos_writes();
    let second = pair.run("products").await;
    assert!(
        keys(&second, "product", Outcome::Created).is_empty()
            && keys(&second, "product", Outcome::Updated).is_empty()
    );
    assert_eq!(
        pair.pos_writes(),
        writes,
        "an unchanged catalogue costs no write"
    );
}

#[tokio::test]
async fn flows_3_2_simple_and_variant_products() {
    let pair = Pair::demo(PRODUCTS).await;
    finished(&pair.run("products").await);
    let poster = pos_product(&pair, "TB-POSTER-01").unwrap();
    assert!(
        combinations(&pair, &poster["id"]).is_empty(),
        "a simple product has no combinations"
    );
    let hoodie = pos_product(&pair, "TB-HOODIE").unwrap();
    let combos = combinations(&pair, &hoodie["id"]);
    assert_eq!(combos.len(), 4, "2 sizes × 2 colours");
    let mut skus: Vec<String> = combos
        .iter()
        .map(|c| c["sku_number"].as_str().unwrap_or_default().to_string())
        .collect();
    skus.sort();
    assert_eq!(
        skus,
        vec![
            "TB-HOODIE-L-BLACK",
            "TB-HOODIE-L-GREY",
            "TB-HOODIE-M-BLACK",
            "TB-HOODIE-M-GREY"
        ]
    );
    assert!(
        combos
            .iter()
            .all(|c| c["ean_number"].as_str().is_some_and(|e| e.len() == 13)),
        "each with its EAN"
    );
}

#[tokio::test]
async fn flows_3_3_update_product_information_switch_keeps_or_overwrites_texts() {
    let mut pair = Pair::demo(PRODUCTS).await;
    finished(&pair.run("products").await);
    // Enrichment in the POS after the first sync, and a change of text and price in the shop.
    let mug = pos_product(&pair, "TB-MUG-01").unwrap();
    pair.pos
        .enrich_product("TB-MUG-01", "Enriched in the shop floor system")
        .unwrap();
    pair.shop.update_product("TB-MUG-01", serde_json::json!({ "description": "<p>New webshop text</p>", "price": [{ "currencyId": "b7d2554b0ce847cd82f3ac9bd1c0dfca", "gross": 13.95, "net": 11.53, "linked": true }] })).unwrap();

    let off = pair.run("products").await;
    finished(&off);
    assert_eq!(
        keys(&off, "product", Outcome::Updated),
        vec!["TB-MUG-01".to_string()]
    );
    let after = pos_product(&pair, "TB-MUG-01").unwrap();
    assert_eq!(after["id"], mug["id"]);
    assert_eq!(
        after["description"], "Enriched in the shop floor system",
        "texts are kept when the switch is off"
    );
    assert_eq!(
        price(&after["price"]),
        "13.95",
        "the price is updated regardless"
    );

    pair.reconfigure(|text| {
        text.replace(
            "settings = { options",
            "settings = { update_product_info = true, options",
        )
    });
    pair.shop
        .update_product(
            "TB-MUG-01",
            serde_json::json!({ "description": "<p>Newer webshop text</p>" }),
        )
        .unwrap();
    finished(&pair.run("products").await);
    assert_eq!(
        pos_product(&pair, "TB-MUG-01").unwrap()["description"],
        "<p>Newer webshop text</p>",
        "overwritten when the switch is on"
    );
}

#[tokio::test]
async fn flows_3_4_attributes_build_variants_and_properties_are_mapped_by_the_merchant() {
    let pair =
        Pair::demo(&PRODUCTS.replace("\"Colour\" = \"Colour\"", "\"Colour\" = \"Kleur\"")).await;
    let report = pair.run("products").await;
    finished(&report);
    let attributes: Vec<String> = values(&pair.pos_state()["attributes"])
        .iter()
        .filter_map(|a| a["name"].as_str().map(String::from))
        .collect();
    assert!(
        attributes.contains(&"Kleur".to_string()),
        "the colour group is mapped to the POS attribute Kleur: {attributes:?}"
    );
    let hoodie = report
        .entries
        .iter()
        .find(|e| e.key == "TB-HOODIE")
        .unwrap();
    let sent = hoodie.sent.as_ref().unwrap();
    let properties: Vec<String> = sent["product"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["group"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        properties,
        vec!["Material"],
        "only mapped properties are sent (delivery time is not mapped)"
    );
}

#[tokio::test]
async fn flows_3_5_categories_are_created_parents_first_and_products_linked() {
    let pair = Pair::demo(&format!("{CATEGORIES}{PRODUCTS}")).await;
    let report = pair.run("categories").await;
    finished(&report);
    let categories = values(&pair.pos_state()["categories"]);
    let by_name = |name: &str| {
        categories
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {categories:?}"))
            .clone()
    };
    let (home, clothing, tees) = (by_name("Home"), by_name("Clothing"), by_name("T-shirts"));
    assert_eq!(clothing["parent_id"], home["id"]);
    assert_eq!(
        tees["parent_id"], clothing["id"],
        "three levels, each under its parent"
    );
    let written: Vec<&str> = report.entries.iter().map(|e| e.message.as_str()).collect();
    let at = |path: &str| {
        written
            .iter()
            .position(|m| m.starts_with(&format!("{path} created")))
            .unwrap_or_else(|| panic!("{path} in {written:?}"))
    };
    assert!(
        at("Home") < at("Home › Clothing")
            && at("Home › Clothing") < at("Home › Clothing › T-shirts"),
        "parents before children"
    );

    finished(&pair.run("products").await);
    let hoodie = pos_product(&pair, "TB-HOODIE").unwrap();
    let links: Vec<Value> = values(&pair.pos_state()["product_categories"])
        .into_iter()
        .filter(|l| l["product_id"] == hoodie["id"])
        .collect();
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0]["category_id"],
        by_name("Hoodies")["id"],
        "linked to its category"
    );

    let again = pair.run("categories").await;
    assert!(
        keys(&again, "category", Outcome::Created).is_empty(),
        "an unchanged tree is not written again"
    );
}

#[tokio::test]
async fn flows_3_6_images_are_not_synced_and_the_run_says_so() {
    let pair = Pair::demo(PRODUCTS).await;
    let report = pair.run("products").await;
    assert!(
        report
            .run
            .notes
            .iter()
            .any(|n| n.contains("images are not synced")),
        "{:?}",
        report.run.notes
    );
}

#[tokio::test]
async fn flows_3_7_the_default_product_mapping() {
    let pair = Pair::demo(PRODUCTS).await;
    finished(&pair.run("products").await);
    let poster = pos_product(&pair, "TB-POSTER-01").unwrap();
    assert_eq!(poster["name"], "Harbour poster 50×70");
    assert_eq!(poster["productnumber"], "TB-POSTER-01");
    assert!(
        poster["description"]
            .as_str()
            .unwrap()
            .contains("Harbour poster"),
        "the long description"
    );
    assert_eq!(poster["shortdescription"], "Harbour poster 50×70");
    assert_eq!(price(&poster["price"]), "19.5");
    assert_eq!(poster["eannumber"].as_str().unwrap().len(), 13);
    assert_eq!(
        poster["stock"].to_string().trim_matches('"'),
        "15",
        "the quantity, on create"
    );
}
