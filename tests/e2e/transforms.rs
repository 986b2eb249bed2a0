//! The example transforms run through `tillbridge transform` and change records as their READMEs
//! say.

use serde_json::{Value, json};

use crate::support::tillbridge;

fn address() -> Value {
    json!({ "first_name": "Ada", "last_name": "Jansen", "street": "Dorpsstraat", "house_number": "12",
            "house_number_suffix": "a", "postcode": "3512 AB", "city": "Utrecht", "country": "NL" })
}

/// An order as `tillbridge transform` reads it (shared with the scaffold tests).
pub fn order(number: &str, method: &str) -> Value {
    json!({
        "id": format!("id-{number}"), "number": number,
        "ordered_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z",
        "order_state": "open", "payment_state": "paid", "currency": "EUR", "prices_include_tax": true,
        "customer": { "email": "ada@example.nl", "person": { "first_name": "Ada", "last_name": "Jansen" }, "custom_fields": [] },
        "billing_address": address(),
        "lines": [{ "kind": "product", "sku": "SW-TB-MUG-01", "name": "Mug", "quantity": 2,
                    "unit_price": "12.95", "total_price": "25.90", "tax_rate": "21" }],
        "totals": { "net": "21.40", "gross": "25.90", "tax": "4.50", "shipping": "0" },
        "payment_method": method, "custom_fields": []
    })
}

fn product(sku: &str, variants: &[&str]) -> Value {
    let variants: Vec<Value> = variants
        .iter()
        .map(|v| json!({ "sku": v, "options": [{ "group": "Size", "value": "M" }], "prices": [], "active": true }))
        .collect();
    json!({ "sku": sku, "name": format!("Product {sku}"), "prices": [{ "amount": "24.95", "includes_tax": true, "tax_rate": "21", "currency": "EUR" }],
            "active": true, "variants": variants, "properties": [], "categories": [], "custom_fields": [] })
}

/// Runs the CLI and returns its JSON answer and its summary line.
fn run(dir: &std::path::Path, args: &[&str]) -> (Value, String) {
    let output = tillbridge(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "tillbridge {args:?} failed: {stderr}"
    );
    (
        serde_json::from_slice(&output.stdout).expect("JSON on stdout"),
        stderr,
    )
}

#[test]
fn payment_map_replaces_names_with_ids_and_fails_unmapped_ones() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("orders.json");
    std::fs::write(
        &input,
        serde_json::to_string(&json!([order("10001", "PayPal"), order("10002", "Klarna")]))
            .unwrap(),
    )
    .unwrap();
    let settings = r#"{"map":{"paypal":"2","Invoice":"3"}}"#;
    let (out, summary) = run(
        dir.path(),
        &[
            "transform",
            "payment-map",
            "--input",
            "orders.json",
            "--kind",
            "order",
            "--settings",
            settings,
        ],
    );

    assert_eq!(out[0]["verdict"], "keep");
    assert_eq!(out[0]["changed"], true);
    assert_eq!(out[0]["output"]["order"]["payment_method"], "2");
    assert_eq!(
        out[0]["output"]["order"]["number"], "10001",
        "the rest of the order is kept"
    );
    assert_eq!(out[1]["verdict"], "fail");
    assert!(
        out[1]["message"].as_str().unwrap().contains("\"Klarna\""),
        "{}",
        out[1]
    );
    assert_eq!(out[1]["field"], "payment-method");
    assert!(
        summary.contains("2 record(s): 1 kept (1 changed), 0 dropped, 1 failed"),
        "{summary}"
    );
}

#[test]
fn sku_rewrite_from_flows_toml_rewrites_and_skips() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flows.toml"),
        r#"
[plugins.sku]
file = "builtin:sku-rewrite"
settings = { strip_prefix = "SW-", case = "upper", skip = ["^GIFT-"] }
"#,
    )
    .unwrap();
    let records = json!([
        { "product": product("sw-tee", &["sw-tee-m", "GIFT-wrap"]) },
        { "product": product("GIFT-25", &[]) },
        { "order": order("10003", "PayPal") },
        { "stock-level": { "sku": "SW-TB-MUG-01", "physical": 4, "reserved": 1, "available": 3, "managed": true } }
    ]);
    std::fs::write(dir.path().join("records.json"), records.to_string()).unwrap();
    let (out, summary) = run(dir.path(), &["transform", "sku", "--input", "records.json"]);

    let tee = &out[0]["output"]["product"];
    assert_eq!(
        tee["sku"], "SW-TEE",
        "case applies after strip_prefix, which did not match lower case"
    );
    let variant_skus: Vec<&str> = tee["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["sku"].as_str().unwrap())
        .collect();
    assert_eq!(
        variant_skus,
        vec!["SW-TEE-M"],
        "the skipped variant is removed"
    );
    assert_eq!(out[1]["verdict"], "drop");
    assert!(out[1]["reason"].as_str().unwrap().contains("^GIFT-"));
    assert_eq!(out[2]["output"]["order"]["lines"][0]["sku"], "TB-MUG-01");
    assert_eq!(out[3]["output"]["stock-level"]["sku"], "TB-MUG-01");
    assert!(
        summary.contains("4 record(s): 3 kept (3 changed), 1 dropped, 0 failed"),
        "{summary}"
    );
}

#[test]
fn bad_input_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), r#"[{"invoice": {}}]"#).unwrap();
    let output = tillbridge(dir.path())
        .args(["transform", "payment-map", "--input", "bad.json"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("record 0 of bad.json") && stderr.contains("--kind"),
        "{stderr}"
    );

    let output = tillbridge(dir.path())
        .args(["transform", "no-such-plugin", "--input", "bad.json"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("payment-map"),
        "lists the built-ins"
    );
}
