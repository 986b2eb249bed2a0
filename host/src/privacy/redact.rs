//! Personal data out of what the activity log keeps and the commands print, when the merchant
//! turns `redact_personal_data` on: records keep their shape (what came, what was sent) with
//! every personal value replaced, and messages lose any personal value a system echoed in them
//! ("CCV already has a user named \"ada@…\"").

use serde_json::Value;

/// What a redacted value reads.
pub const MARK: &str = "[redacted]";

/// The fields of the canonical records (`plugins/sdk/wit/types.wit`, as JSON) whose values are personal data.
/// A `company` is redacted whole (its name, VAT and chamber of commerce numbers); comments and
/// custom fields may hold anything a customer or a plugin put there.
const PERSONAL: [&str; 16] = [
    "email",
    "salutation",
    "first_name",
    "last_name",
    "company",
    "vat_number",
    "coc_number",
    "phone",
    "street",
    "house_number",
    "house_number_suffix",
    "additional_line",
    "postcode",
    "city",
    "comment",
    "custom_fields",
];

/// Values shorter than this are not scrubbed from messages (a house number "7" or a country
/// "NL" would garble every number and word they occur in, and identify nobody).
const SHORTEST_SCRUBBED: usize = 3;

/// A record with its personal values replaced by [`MARK`]; the values it had are added to
/// `found`, to [`scrub`] them from the messages about the record.
pub fn record(mut value: Value, found: &mut Vec<String>) -> Value {
    fn walk(value: &mut Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if PERSONAL.contains(&key.as_str()) {
                        if !v.is_null() {
                            strings(v, found);
                            *v = Value::String(MARK.into());
                        }
                    } else {
                        walk(v, found);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    walk(&mut value, found);
    value
}

/// Every text in a value.
fn strings(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(s) if s.chars().count() >= SHORTEST_SCRUBBED => found.push(s.clone()),
        Value::Object(map) => map.values().for_each(|v| strings(v, found)),
        Value::Array(items) => items.iter().for_each(|v| strings(v, found)),
        _ => {}
    }
}

/// `text` without any of `values` (as given or in lower case).
pub fn scrub(text: &str, values: &[String]) -> String {
    let mut needles: Vec<String> = values
        .iter()
        .flat_map(|v| [v.clone(), v.to_lowercase()])
        .filter(|v| v.chars().count() >= SHORTEST_SCRUBBED)
        .collect();
    // The longest first, so that "Ada Jansen" goes whole before "Ada" could split it.
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    needles.dedup();
    let mut out = text.to_string();
    for needle in &needles {
        if out.contains(needle.as_str()) {
            out = out.replace(needle.as_str(), MARK);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_their_shape_and_lose_the_person() {
        let value = serde_json::json!({
            "number": "10002",
            "customer": {
                "email": "Inkoop@Bakkerij.nl",
                "person": { "first_name": "Pieter", "last_name": "de Vries" },
                "company": { "name": "Bakkerij De Vries B.V.", "vat_number": "NL8", "coc_number": null },
                "custom_fields": [{ "name": "loyalty", "json": "\"gold\"" }]
            },
            "billing_address": { "company": "Bakkerij De Vries B.V.", "street": "Marktplein",
                                 "city": "Groningen", "country": "NL", "house_number": null },
            "comment": "ring twice",
            "lines": [{ "sku": "TB-MUG-01", "name": "Tillbridge mug" }]
        });
        let mut found = Vec::new();
        let out = record(value, &mut found);
        for path in [
            "/customer/email",
            "/customer/person/first_name",
            "/customer/company",
            "/customer/custom_fields",
            "/billing_address/company",
            "/billing_address/street",
            "/billing_address/city",
            "/comment",
        ] {
            assert_eq!(out.pointer(path).unwrap(), MARK, "{path}");
        }
        assert_eq!(out["billing_address"]["house_number"], Value::Null);
        assert_eq!(out["billing_address"]["country"], "NL");
        assert_eq!(
            out["lines"][0]["name"], "Tillbridge mug",
            "products are no people"
        );
        assert_eq!(out["number"], "10002");
        assert!(found.contains(&"Groningen".to_string()));
        let message = scrub(
            "CCV already has a user named \"inkoop@bakkerij.nl\" (Bakkerij De Vries B.V., Groningen)",
            &found,
        );
        assert_eq!(
            message,
            "CCV already has a user named \"[redacted]\" ([redacted], [redacted])"
        );
    }
}
