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

/// The largest amount (price, stock, count, …) taken, either way: 10^15. CCV documents no bound (GUESS:
/// a shop's amounts stay far below it); with it, sums of stored amounts (a product's stock over
/// its combinations, reservations) cannot overflow, and what is computed from a request is
/// checked ([`super::stock`]).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x3_8D7E, 0, false, 0);

/// An amount from a JSON number, read through its shortest decimal text (`24.95` stays `24.95`);
/// none beyond ±[`MAX_AMOUNT`].
pub fn from_number(number: &Number) -> Option<Decimal> {
    let amount = if let Some(whole) = number.as_i64() {
        Decimal::from(whole)
    } else if let Some(whole) = number.as_u64() {
        Decimal::from(whole)
    } else {
        let text = number.to_string();
        Decimal::from_str(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .ok()?
    };
    (amount.abs() <= MAX_AMOUNT).then_some(amount)
}

/// `deserialize_with` for an optional amount in a request body: a JSON number, as CCV's input
/// schemas demand (a string such as `"24.95"` is refused).
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
    let number: Option<Number> = Option::deserialize(deserializer)?;
    number
        .map(|n| {
            from_number(&n).ok_or_else(|| {
                D::Error::custom(format!(
                    "{n} is not an amount (at most {MAX_AMOUNT} either way)"
                ))
            })
        })
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
    fn amounts_are_bounded() {
        assert_eq!(MAX_AMOUNT, Decimal::from(10_u64.pow(15)));
        let number = |text: &str| serde_json::from_str::<Number>(text).unwrap();
        assert_eq!(from_number(&number("1e15")), Some(MAX_AMOUNT));
        assert_eq!(from_number(&number("-1000000000000000")), Some(-MAX_AMOUNT));
        for huge in [
            "1000000000000001",
            "1e16",
            "7.9e28",
            "1e300",
            "-18446744073709551615",
        ] {
            assert_eq!(from_number(&number(huge)), None, "{huge}");
        }
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
