//! Checking one written value against its field type, with the violations Shopware's field
//! serializers raise (`This value should be of type int.`, `No price for default currency
//! defined`, …) and their pointers.

use serde_json::{Value, json};

use super::definition::Kind;
use super::error::{ApiError, NOT_BLANK, WRITE_CONSTRAINT, WRONG_TYPE, violation};
use super::ids::{self, DEFAULT_CURRENCY};

/// Symfony's DateTime violation code.
const NOT_A_DATE: &str = "1a9da513-2640-4f84-9b6a-4d99dcddc628";

fn wrong_type(pointer: &str, expected: &str, value: &Value) -> Value {
    violation(
        pointer,
        WRONG_TYPE,
        &format!("This value should be of type {expected}."),
        json!({"{{ value }}": value, "{{ type }}": expected}),
    )
}

/// A missing required value.
pub fn not_blank(pointer: &str) -> Value {
    violation(
        pointer,
        NOT_BLANK,
        "This value should not be blank.",
        json!({"{{ value }}": "null"}),
    )
}

fn is_number(value: &Value) -> bool {
    value.is_number()
        || value
            .as_str()
            .is_some_and(|s| s.trim().parse::<f64>().is_ok())
}

/// Checks `value` for a field of `kind`; returns the value as stored (empty strings become
/// null, numeric strings numbers) or the violations.
pub fn check(kind: Kind, value: &Value, pointer: &str) -> Result<Value, Vec<Value>> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let one = |v| Err(vec![v]);
    match kind {
        Kind::Id | Kind::Fk | Kind::Version => match value.as_str() {
            Some(id) if ids::is_valid(id) => Ok(value.clone()),
            Some(id) => one(ApiError::invalid_uuid(id).pointer(pointer).errors.remove(0)),
            None => one(wrong_type(pointer, "string", value)),
        },
        Kind::Str | Kind::Text => match value.as_str() {
            Some("") => Ok(Value::Null),
            Some(_) => Ok(value.clone()),
            None => one(wrong_type(pointer, "string", value)),
        },
        Kind::Int => match value.as_i64() {
            Some(_) => Ok(value.clone()),
            None => one(wrong_type(pointer, "int", value)),
        },
        Kind::Float => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(s) if is_number(value) => {
                Ok(json!(s.trim().parse::<f64>().unwrap_or_default()))
            }
            _ => one(wrong_type(pointer, "numeric", value)),
        },
        Kind::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => one(wrong_type(pointer, "bool", value)),
        },
        Kind::Json => match value {
            Value::Object(_) | Value::Array(_) => Ok(value.clone()),
            _ => one(wrong_type(pointer, "array", value)),
        },
        Kind::List => match value {
            Value::Array(_) => Ok(value.clone()),
            _ => one(wrong_type(pointer, "array", value)),
        },
        Kind::DateTime | Kind::Date => match value.as_str() {
            Some(text) if parses_as_date(text) => Ok(value.clone()),
            _ => one(violation(
                pointer,
                NOT_A_DATE,
                "This value is not a valid datetime.",
                json!({"{{ value }}": value}),
            )),
        },
        Kind::Price => price(value, pointer),
        Kind::CalculatedPrice => structure(
            value,
            pointer,
            &[
                ("unitPrice", true),
                ("totalPrice", true),
                ("quantity", true),
            ],
            &["calculatedTaxes", "taxRules"],
        ),
        Kind::CartPrice => structure(
            value,
            pointer,
            &[
                ("netPrice", true),
                ("totalPrice", true),
                ("positionPrice", true),
                ("rawTotal", true),
            ],
            &["calculatedTaxes", "taxRules"],
        )
        .and_then(|v| {
            if v["taxStatus"].is_string() {
                Ok(v)
            } else {
                Err(vec![not_blank(&format!("{pointer}/taxStatus"))])
            }
        }),
        Kind::Rounding => structure(
            value,
            pointer,
            &[("decimals", true), ("interval", true)],
            &[],
        )
        .and_then(|v| {
            if v["roundForNet"].is_boolean() {
                Ok(v)
            } else {
                Err(vec![wrong_type(
                    &format!("{pointer}/roundForNet"),
                    "bool",
                    &v["roundForNet"],
                )])
            }
        }),
    }
}

fn parses_as_date(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// An object that needs numeric `numbers` and list `lists`.
fn structure(
    value: &Value,
    pointer: &str,
    numbers: &[(&str, bool)],
    lists: &[&str],
) -> Result<Value, Vec<Value>> {
    let Some(object) = value.as_object() else {
        return Err(vec![wrong_type(pointer, "array", value)]);
    };
    let mut errors = Vec::new();
    for (key, required) in numbers {
        match object.get(*key) {
            None | Some(Value::Null) if *required => {
                errors.push(not_blank(&format!("{pointer}/{key}")))
            }
            Some(v) if !v.is_null() && !is_number(v) => {
                errors.push(wrong_type(&format!("{pointer}/{key}"), "numeric", v))
            }
            _ => {}
        }
    }
    for key in lists {
        if let Some(v) = object.get(*key)
            && !v.is_array()
            && !v.is_null()
        {
            errors.push(wrong_type(&format!("{pointer}/{key}"), "array", v));
        }
    }
    if errors.is_empty() {
        Ok(value.clone())
    } else {
        Err(errors)
    }
}

/// A product price list: every entry needs a currency, a net and a gross price (nothing is
/// computed from the other, also with `linked: true`), and the default currency must be there.
fn price(value: &Value, pointer: &str) -> Result<Value, Vec<Value>> {
    let entries: Vec<Value> = match value {
        Value::Array(items) => items.clone(),
        // Shopware also takes prices keyed by currency id.
        Value::Object(map) => map.values().cloned().collect(),
        _ => return Err(vec![wrong_type(pointer, "array", value)]),
    };
    let mut errors = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        let Some(object) = entry.as_object() else {
            errors.push(wrong_type(&at, "array", entry));
            continue;
        };
        match object.get("currencyId").and_then(Value::as_str) {
            Some(id) if ids::is_valid(id) => {}
            Some(id) => errors.push(
                ApiError::invalid_uuid(id)
                    .pointer(format!("{at}/currencyId"))
                    .errors
                    .remove(0),
            ),
            None => errors.push(not_blank(&format!("{at}/currencyId"))),
        }
        for key in ["net", "gross"] {
            match object.get(key) {
                None | Some(Value::Null) => errors.push(not_blank(&format!("{at}/{key}"))),
                Some(v) if !v.is_number() => {
                    errors.push(wrong_type(&format!("{at}/{key}"), "numeric", v))
                }
                _ => {}
            }
        }
        if let Some(linked) = object.get("linked")
            && !linked.is_boolean()
        {
            errors.push(wrong_type(&format!("{at}/linked"), "boolean", linked));
        }
    }
    if errors.is_empty() && !entries.iter().any(|e| e["currencyId"] == DEFAULT_CURRENCY) {
        errors.push(violation(
            pointer,
            WRITE_CONSTRAINT,
            "No price for default currency defined",
            json!({}),
        ));
    }
    if errors.is_empty() {
        Ok(Value::Array(entries))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_need_the_default_currency_and_both_amounts() {
        let ok =
            json!([{"currencyId": DEFAULT_CURRENCY, "net": 10, "gross": 12.1, "linked": true}]);
        assert!(check(Kind::Price, &ok, "/0/price").is_ok());
        let other = json!([{"currencyId": ids::stable("currency", "USD"), "net": 10, "gross": 12.1, "linked": true}]);
        let errors = check(Kind::Price, &other, "/0/price").unwrap_err();
        assert_eq!(errors[0]["detail"], "No price for default currency defined");
        let gross_only = json!([{"currencyId": DEFAULT_CURRENCY, "gross": 12.1, "linked": true}]);
        let errors = check(Kind::Price, &gross_only, "/0/price").unwrap_err();
        assert_eq!(errors[0]["source"]["pointer"], "/0/price/0/net");
    }

    #[test]
    fn types_are_strict() {
        assert!(check(Kind::Int, &json!("5"), "/0/stock").is_err());
        assert!(check(Kind::Int, &json!(5), "/0/stock").is_ok());
        assert_eq!(check(Kind::Str, &json!(""), "/0/ean"), Ok(Value::Null));
        assert!(check(Kind::Fk, &json!("ABC"), "/0/taxId").is_err());
    }
}
