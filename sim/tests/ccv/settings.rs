//! The webshop and its settings: the currency and the VAT convention are settings
//! (`GET /webshops/:id/settings`), not fields of the webshop.

use serde_json::{Value, json};
use tillbridge_sim::ccv::{RateLimits, Seed};
use tillbridge_sim::dataset::Dataset;

use super::client::{Client, demo, start};

/// The only webshop's settings.
async fn settings(client: &Client) -> Value {
    let webshops = client.all_items("/api/rest/v1/webshops").await;
    let id = webshops[0]["id"].as_u64().unwrap();
    let answer = client
        .get(&format!("/api/rest/v1/webshops/{id}/settings"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body
}

/// SDK `src/Resources/Webshop.php` (2025) and JDK `Resource/Webshops/Webshops.php` list a
/// webshop's fields: id, name, is_multishop_system, is_salespos, product_limit(_left), api_root.
/// No currency, no language, no `prices_include_vat`: a client that looks for them there finds
/// nothing.
#[tokio::test]
async fn a_webshop_has_no_currency_and_no_vat_convention() {
    let (_sim, client) = demo().await;
    let webshops = client.all_items("/api/rest/v1/webshops").await;
    let webshop = webshops[0].as_object().unwrap();
    for field in ["currency", "prices_include_vat", "language"] {
        assert!(!webshop.contains_key(field), "{field} in {webshop:?}");
    }
    for field in [
        "href",
        "id",
        "name",
        "is_multishop_system",
        "is_salespos",
        "product_limit",
        "product_limit_left",
        "api_root",
    ] {
        assert!(webshop.contains_key(field), "{field} missing: {webshop:?}");
    }
    let one = client
        .get(&format!("/api/rest/v1/webshops/{}", webshop["id"]))
        .await;
    assert!(one.body.get("prices_include_vat").is_none());
}

/// Whether a JSON value has the documented type.
type TypeCheck = fn(&Value) -> bool;

/// JDK `Endpoints/SettingsEndpoint.php`: `GET webshops/:id/settings/` ("Retrieve all settings of
/// the webshop") answers one `Entity/Settings/Settings` object (the SDK's `Settings::getFor` takes
/// an answer without `items` as one resource). Its fields, named and typed as that schema says:
/// `currency` (string, ISO 4217), `prices_include_vat` (bool, "Do prices include VAT"),
/// `default_vat_rat` (float), `languages` (string[]), `stock` (bool), and the rest.
#[tokio::test]
async fn the_settings_say_the_currency_and_whether_prices_include_vat() {
    let (_sim, client) = demo().await;
    let s = settings(&client).await;
    assert!(s.get("items").is_none(), "one object, not a collection");
    assert_eq!(s["currency"], "EUR");
    assert_eq!(s["prices_include_vat"], true);
    assert_eq!(s["default_vat_rat"], 21);
    assert_eq!(s["languages"], json!(["nl"]));
    let types: [(&str, TypeCheck); 13] = [
        ("href", Value::is_string),
        ("webshop_enabled", Value::is_boolean),
        ("webshop_disabled_title", Value::is_string),
        ("webshop_disabled_text", Value::is_string),
        ("currency", Value::is_string),
        ("default_vat_rat", Value::is_number),
        ("prices_include_vat", Value::is_boolean),
        ("full_ssl_webshop", Value::is_boolean),
        ("languages", Value::is_array),
        ("backend_language", Value::is_string),
        ("separate_domain_per_language", Value::is_boolean),
        ("stock", Value::is_boolean),
        ("multishop_readonly_properties", Value::is_array),
    ];
    for (field, is_type) in types {
        assert!(is_type(&s[field]), "{field} = {}", s[field]);
    }
    for nullable in [
        "creditpoint_value",
        "ordering_without_stock",
        "checkout_type",
        "takeoutsettings",
        "order_status",
    ] {
        assert!(s.as_object().unwrap().contains_key(nullable), "{nullable}");
    }
    assert!(s["stock_level_warnings"].get("low_threshold").is_some());
}

/// A POS that keeps its prices excluding VAT: the setting says so, and its product prices are
/// net (JDK `Entity/Settings/Settings.php`: `prices_include_vat`, "Do prices include VAT").
#[tokio::test]
async fn a_shop_that_keeps_prices_excluding_vat_says_so_and_its_prices_are_net() {
    let dataset = Dataset {
        pos_prices_include_vat: false,
        ..Dataset::demo()
    };
    let (_sim, client) = start(Seed::Dataset(dataset), RateLimits::default()).await;
    assert_eq!(settings(&client).await["prices_include_vat"], false);
    let mug = client
        .get("/api/rest/v1/products?productnumber=TB-MUG-01")
        .await
        .body["items"][0]
        .clone();
    // 12.95 including 21% VAT is 10.7025 without.
    assert_eq!(mug["price"], 10.7025);
}

/// JDK `Internal/Resource/Settings/Put/Put.php` (and SDK `Setting::getPutData`): `PUT` takes
/// `languages` and the webshop's on/off notice, "only settings that are included in the payload
/// will be overwritten". The VAT convention is not among them.
#[tokio::test]
async fn put_changes_only_what_it_documents() {
    let (_sim, client) = demo().await;
    let href = settings(&client).await["href"]
        .as_str()
        .unwrap()
        .to_string();
    let uri = client.uri_of(&href).to_string();
    let put = client.put(&uri, &json!({"languages": ["nl", "en"]})).await;
    assert_eq!(put.status, 204, "{}", put.text);
    let after = client.get(&uri).await.body;
    assert_eq!(after["languages"], json!(["nl", "en"]));
    assert_eq!(after["webshop_enabled"], true, "left as it was");
    let refused = client
        .put(&uri, &json!({"prices_include_vat": false}))
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(client.get(&uri).await.body["prices_include_vat"], true);
}
