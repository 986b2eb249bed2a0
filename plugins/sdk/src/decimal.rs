//! Decimal text, the way money, prices and tax rates travel in the WIT model (never `f64`).

pub use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::types::PluginError;

/// Parses decimal text ("19.95", "-2", "21"); the error names the field. No exponent, as the
/// WIT model says.
pub fn parse(text: &str, field: &str) -> Result<Decimal, PluginError> {
    let trimmed = text.trim();
    let bad = || PluginError::invalid_field(format!("{text:?} is not a decimal number"), field);
    if trimmed.contains(['e', 'E']) {
        return Err(bad());
    }
    trimmed.parse::<Decimal>().map_err(|_| bad())
}

/// Writes a decimal as the model's text: no exponent, no trailing zeros ("19.9", "21").
pub fn format(value: Decimal) -> String {
    value.normalize().to_string()
}

/// A decimal from a JSON number as an API sent it. Goes through the number's text, so 19.95 stays
/// 19.95 (a float would make it 19.949999…).
pub fn from_json(value: &serde_json::Value, field: &str) -> Result<Decimal, PluginError> {
    match value {
        serde_json::Value::Number(n) => parse(&n.to_string(), field),
        serde_json::Value::String(s) => parse(s, field),
        other => Err(PluginError::invalid_field(
            format!("expected a number, got {other}"),
            field,
        )),
    }
}

/// A decimal as a JSON number for an API that wants numbers, with `places` decimals.
pub fn to_json(value: Decimal, places: u32) -> serde_json::Value {
    let rounded = value.round_dp(places).normalize();
    if rounded.scale() == 0
        && let Some(whole) = rounded.to_i64()
    {
        return serde_json::Value::from(whole);
    }
    // serde_json's arbitrary-precision is off, so the number goes through its shortest f64 text,
    // which for values with at most `places` decimals prints exactly as `rounded`.
    serde_json::Number::from_f64(rounded.to_f64().unwrap_or_default())
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

/// The net amount for a gross one at a tax rate in percent, rounded to `places` decimals.
pub fn net_from_gross(gross: Decimal, tax_rate: Decimal, places: u32) -> Decimal {
    (gross * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + tax_rate)).round_dp(places)
}

/// The gross amount for a net one at a tax rate in percent, rounded to `places` decimals.
pub fn gross_from_net(net: Decimal, tax_rate: Decimal, places: u32) -> Decimal {
    (net * (Decimal::ONE_HUNDRED + tax_rate) / Decimal::ONE_HUNDRED).round_dp(places)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_keep_their_digits() {
        let v: serde_json::Value = serde_json::from_str("19.95").unwrap();
        assert_eq!(format(from_json(&v, "price").unwrap()), "19.95");
        assert_eq!(
            to_json(parse("19.950", "p").unwrap(), 2).to_string(),
            "19.95"
        );
    }

    #[test]
    fn tax_conversions_round_to_cents() {
        let gross = parse("24.95", "p").unwrap();
        let net = net_from_gross(gross, Decimal::from(21), 2);
        assert_eq!(format(net), "20.62");
        assert_eq!(format(gross_from_net(net, Decimal::from(21), 2)), "24.95");
    }

    #[test]
    fn whole_numbers_stay_whole_and_exponents_are_refused() {
        assert_eq!(to_json(parse("5.00", "p").unwrap(), 2).to_string(), "5");
        assert!(parse("1e3", "p").is_err());
    }

    #[test]
    fn bad_text_names_the_field() {
        let Err(PluginError::Invalid(p)) = parse("12,50", "price") else {
            panic!()
        };
        assert_eq!(p.field.as_deref(), Some("price"));
    }
}
