//! Amounts (prices, stock): `Decimal` inside the simulator, JSON numbers on the wire as CCV sends
//! them. Conversions go through decimal text, so no amount is ever computed in floating point.

use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Number, Value};

/// An amount as a JSON number: whole amounts as integers (`5`, not `5.0`), others as the nearest
/// float to their decimal text (`12.95`).
pub fn to_json(amount: Decimal) -> Value {
    let amount = amount.normalize();
    if amount.is_integer()
        && let Some(whole) = amount.to_i64()
    {
        return Value::from(whole);
    }
    amount
        .to_string()
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// An amount from a JSON number, read through its shortest decimal text (`24.95` stays `24.95`).
pub fn from_number(number: &Number) -> Option<Decimal> {
    if let Some(whole) = number.as_i64() {
        return Some(Decimal::from(whole));
    }
    if let Some(whole) = number.as_u64() {
        return Some(Decimal::from(whole));
    }
    let text = number.to_string();
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

/// `deserialize_with` for an optional amount in a request body: a JSON number, as CCV's input
/// schemas demand (a string such as `"24.95"` is refused).
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
    let number: Option<Number> = Option::deserialize(deserializer)?;
    number
        .map(|n| from_number(&n).ok_or_else(|| D::Error::custom(format!("{n} is not an amount"))))
        .transpose()
}

/// Rounds to cents, halves away from zero, as invoices do.
pub fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_travel_as_plain_numbers_and_come_back_exact() {
        let price = Decimal::from_str("24.95").unwrap();
        let json = to_json(price);
        assert_eq!(json.to_string(), "24.95");
        assert_eq!(from_number(json.as_number().unwrap()), Some(price));
        assert_eq!(to_json(Decimal::from_str("5.00").unwrap()).to_string(), "5");
    }

    #[test]
    fn strings_are_not_amounts() {
        #[derive(Deserialize)]
        struct Input {
            #[serde(default, deserialize_with = "optional")]
            price: Option<Decimal>,
        }
        let ok: Input = serde_json::from_str(r#"{"price": 0.1}"#).unwrap();
        assert_eq!(ok.price, Some(Decimal::from_str("0.1").unwrap()));
        assert!(serde_json::from_str::<Input>(r#"{"price": "0.1"}"#).is_err());
        assert_eq!(serde_json::from_str::<Input>("{}").unwrap().price, None);
    }
}
