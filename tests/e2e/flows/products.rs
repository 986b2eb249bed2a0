//! FLOWS.md §3: products (and categories), one test per numbered point.

use serde_json::Value;
use tillbridge::state::Outcome;

use tillbridge_sim::dataset::Dataset;

use super::harness::{Pair, Setup, finished, keys, values};

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
    let hoodie = pair.logged(&report, "product", "TB-HOODIE");
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

/// Products from the point of sale to the webshop, and back again.
const FROM_POS: &str = r#"
[flows.products-to-shop]
kind = "products"
source = "pos"
target = "shop"
settings = { options = { "Size" = "Size", "Colour" = "Colour" } }
"#;

/// The webshop's products (the simulator's rows, as `Accept: application/json` shows them).
fn shop_products(pair: &Pair) -> Vec<Value> {
    pair.shop.dump()["entities"]["product"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn flows_3_1_and_3_2_products_also_go_from_the_pos_to_the_webshop() {
    // The T-shirt (3 sizes × 2 colours) and the book are in the POS only.
    let pair = with_pos_only(&["TB-TEE", "TB-BOOK-01"], FROM_POS).await;
    assert!(pair.shop.product("TB-TEE").is_none());
    let first = pair.run("products-to-shop").await;
    finished(&first);
    assert_eq!(
        keys(&first, "product", Outcome::Created),
        vec!["TB-BOOK-01".to_string(), "TB-TEE".to_string()]
    );

    let book = pair
        .shop
        .product("TB-BOOK-01")
        .expect("the book is created");
    assert_eq!(book["name"], "Field guide to Dutch birds");
    assert_eq!(book["price"][0]["gross"].to_string(), "29.95");
    assert_eq!(book["stock"], 12);
    let tee = pair.shop.product("TB-TEE").expect("the T-shirt is created");
    let mut variants: Vec<String> = shop_products(&pair)
        .iter()
        .filter(|p| p["parentId"] == tee["id"])
        .map(|p| p["productNumber"].as_str().unwrap_or_default().to_string())
        .collect();
    variants.sort();
    assert_eq!(
        variants,
        [
            "TB-TEE-L-BLUE",
            "TB-TEE-L-RED",
            "TB-TEE-M-BLUE",
            "TB-TEE-M-RED",
            "TB-TEE-S-BLUE",
            "TB-TEE-S-RED"
        ],
        "a variant product arrives as a parent with its six variants"
    );
    // The mug and the others exist in both: matched by SKU, not made twice.
    let mugs = shop_products(&pair)
        .iter()
        .filter(|p| p["productNumber"] == "TB-MUG-01")
        .count();
    assert_eq!(mugs, 1);
}

#[tokio::test]
async fn a_two_way_product_sync_does_not_echo_its_own_writes() {
    // Long descriptions are kept in step both ways.
    let both = format!("{PRODUCTS}\n{FROM_POS}").replace(
        "settings = { options",
        "settings = { fields = { description = \"always\" }, options",
    );
    let pair = Pair::demo(&both).await;
    finished(&pair.run("products").await);
    finished(&pair.run("products-to-shop").await);
    // Everything is in both now: another round in each direction writes nothing.
    let (shop_writes, pos_writes) = (pair.shop_writes(), pair.pos_writes());
    for flow in ["products", "products-to-shop"] {
        let report = pair.run(flow).await;
        finished(&report);
        assert!(
            keys(&report, "product", Outcome::Created).is_empty()
                && keys(&report, "product", Outcome::Updated).is_empty(),
            "{flow} wrote again: {:?}",
            report.entries
        );
    }
    assert_eq!(pair.shop_writes(), shop_writes, "no write to the webshop");
    assert_eq!(pair.pos_writes(), pos_writes, "no write to the POS");

    // A change made in the POS goes to the webshop once, and does not come back.
    pair.pos
        .enrich_product("TB-MUG-01", "<p>Now dishwasher safe</p>")
        .unwrap();
    let report = pair.run("products-to-shop").await;
    assert_eq!(
        keys(&report, "product", Outcome::Updated),
        vec!["TB-MUG-01".to_string()]
    );
    let back = pair.run("products").await;
    assert!(
        keys(&back, "product", Outcome::Updated).is_empty(),
        "the webshop's copy of the change is not sent back"
    );
}

/// A product's value of a CCV product property, by the property's name: the text, or for an
/// option property the option's name.
fn pos_property(pair: &Pair, product: &Value, name: &str) -> Option<String> {
    let dump = pair.pos_state();
    let property = values(&dump["properties"])
        .into_iter()
        .find(|p| p["name"] == name)?;
    let value = values(&dump["property_values"])
        .into_iter()
        .find(|v| v["product_id"] == product["id"] && v["property_id"] == property["id"])?;
    let stored = value["value"].as_str()?.to_string();
    if property["type"] != "option" {
        return Some(stored);
    }
    values(&dump["property_options"])
        .into_iter()
        .find(|o| o["id"].as_u64() == stored.parse().ok())
        .and_then(|o| o["name"].as_str().map(String::from))
}

#[tokio::test]
async fn flows_3_4_properties_become_the_pos_product_properties_they_are_mapped_to() {
    let pair = Pair::demo(&PRODUCTS.replace(
        "properties = { \"Material\" = \"Material\" }",
        "properties = { \"Material\" = \"Material\", \"Country of origin\" = \"Country of origin\" }",
    ))
    .await;
    finished(&pair.run("products").await);
    let hoodie = pos_product(&pair, "TB-HOODIE").unwrap();
    assert_eq!(
        pos_property(&pair, &hoodie, "Material").as_deref(),
        Some("Cotton")
    );
    assert_eq!(
        pos_property(&pair, &hoodie, "Delivery time"),
        None,
        "an unmapped property is not written"
    );
    let poster = pos_product(&pair, "TB-POSTER-01").unwrap();
    assert_eq!(
        pos_property(&pair, &poster, "Country of origin").as_deref(),
        Some("Netherlands"),
        "an option property gets the option of that name"
    );
}

/// The names of the webshop options of a product (its properties), as "group: option".
fn shop_properties(pair: &Pair, product: &Value) -> Vec<String> {
    let dump = pair.shop.dump();
    let rows = |entity: &str| {
        dump["entities"][entity]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    // A row's name, in its (only) language: the simulator keeps translated fields per language.
    let name = |row: &Value| {
        row["_translations"]
            .as_object()
            .and_then(|t| t.values().find_map(|fields| fields["name"].as_str()))
            .unwrap_or_default()
            .to_string()
    };
    let (groups, options) = (rows("property_group"), rows("property_group_option"));
    let mut named: Vec<String> = product["propertyIds"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|id| options.iter().find(|o| &o["id"] == id))
        .map(|o| {
            let group = groups.iter().find(|g| g["id"] == o["groupId"]);
            format!("{}: {}", group.map(name).unwrap_or_default(), name(o))
        })
        .collect();
    named.sort();
    named
}

/// The demo pair with the products `skus` in the point of sale only, running `config`.
async fn with_pos_only(skus: &[&str], config: &str) -> Pair {
    let mut dataset = Dataset::demo();
    for product in &mut dataset.products {
        if skus.contains(&product.sku.as_str()) {
            product.in_shop = false;
        }
    }
    Pair::start(
        Setup {
            dataset,
            ..Setup::default()
        },
        config,
    )
    .await
}

#[tokio::test]
async fn flows_3_4_properties_come_from_the_pos_to_the_webshop() {
    let config = FROM_POS.replace(
        "settings = { options = { \"Size\" = \"Size\", \"Colour\" = \"Colour\" } }",
        "settings = { options = { \"Size\" = \"Size\", \"Colour\" = \"Colour\" }, properties = { \"Material\" = \"Material\" } }",
    );
    let pair = with_pos_only(&["TB-TEE"], &config).await;
    let report = pair.run("products-to-shop").await;
    finished(&report);
    assert_eq!(
        keys(&report, "product", Outcome::Created),
        vec!["TB-TEE".to_string()]
    );
    let tee = pair.shop.product("TB-TEE").expect("the T-shirt is created");
    assert_eq!(
        shop_properties(&pair, &tee),
        ["Material: Organic cotton"],
        "the mapped property, and only it (its delivery time is not mapped)"
    );
}

#[tokio::test]
async fn flows_3_7_a_pos_product_keeps_its_tax_rate_in_the_webshop() {
    let pair = with_pos_only(&["TB-BOOK-01"], FROM_POS).await;
    let report = pair.run("products-to-shop").await;
    finished(&report);
    assert!(
        keys(&report, "product", Outcome::Failed).is_empty(),
        "{:?}",
        report.entries
    );
    let book = pair
        .shop
        .product("TB-BOOK-01")
        .expect("the book is created");
    let taxes = pair.shop.dump()["entities"]["tax"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rate = taxes
        .iter()
        .find(|t| t["id"] == book["taxId"])
        .map(|t| t["taxRate"].to_string());
    assert_eq!(
        rate.as_deref(),
        Some("9.0"),
        "the book's CCV tariff `low a` is 9% VAT"
    );
}
