//! Prices the way CCV keeps them: one price per product, including or excluding VAT as the shop's
//! `prices_include_vat` says, with a tax tariff; a variant costs its product's price plus a
//! surcharge per attribute value it is made of. Decimals throughout, never floating point.

use std::collections::HashMap;

use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::types::{PluginError, Price};

use crate::settings::Settings;
use crate::shop::Shop;

/// The price CCV gets: in the shop's VAT convention, with its tariff.
#[derive(Debug, Clone, PartialEq)]
pub struct CcvPrice {
    pub amount: Decimal,
    pub tariff: String,
    pub tax_rate: Decimal,
}

/// The price in the shop's currency, else the first (the main one).
pub fn main_price<'a>(prices: &'a [Price], shop: &Shop) -> Option<&'a Price> {
    prices
        .iter()
        .find(|p| p.currency.eq_ignore_ascii_case(&shop.currency))
        .or(prices.first())
}

/// An amount in the shop's VAT convention: gross prices are kept to the cent, net ones to 4
/// decimals (a net price of a round gross one rarely is whole cents).
pub fn in_shop_terms(price: &Price, prices_include_vat: bool) -> Result<Decimal, PluginError> {
    let amount = decimal::parse(&price.amount, "/prices/0/amount")?;
    let rate = decimal::parse(&price.tax_rate, "/prices/0/tax-rate")?;
    Ok(match (price.includes_tax, prices_include_vat) {
        (false, true) => decimal::gross_from_net(amount, rate, 2),
        (true, false) => decimal::net_from_gross(amount, rate, 4),
        _ => amount,
    })
}

/// The CCV price of a product's main price.
pub fn ccv_price(price: &Price, shop: &Shop, settings: &Settings) -> Result<CcvPrice, PluginError> {
    let tax_rate = decimal::parse(&price.tax_rate, "/prices/0/tax-rate")?;
    Ok(CcvPrice {
        amount: in_shop_terms(price, shop.prices_include_vat)?,
        tariff: settings.tariff(tax_rate)?.to_string(),
        tax_rate,
    })
}

/// Option names as CCV matches them: trimmed, case-insensitive.
pub fn option_key(group: &str, value: &str) -> (String, String) {
    (group.trim().to_lowercase(), value.trim().to_lowercase())
}

/// Surcharges per attribute value that give each variant its price, and the variants whose
/// price they cannot give.
#[derive(Debug, Default, PartialEq)]
pub struct Surcharges {
    /// (group, value) as [`option_key`] → surcharge; absent means none.
    pub by_value: HashMap<(String, String), Decimal>,
    /// Indexes of variants whose price is not their product's price plus one surcharge per
    /// option.
    pub misfits: Vec<usize>,
}

/// A variant as priced: its (group, value) options, and its own price if it has one.
pub type PricedVariant = (Vec<(String, String)>, Option<Decimal>);

/// Surcharges for variants `(options, own price)` on a product priced `base`. A variant without
/// its own price costs `base`. CCV adds one surcharge per attribute value, so a price that
/// depends on one option (XL costs 2 more) fits exactly; prices that depend on several at once
/// are fitted on the option that explains most of them, and the rest are misfits.
pub fn surcharges(base: Decimal, variants: &[PricedVariant]) -> Surcharges {
    let extra: Vec<Decimal> = variants
        .iter()
        .map(|(_, own)| own.map_or(Decimal::ZERO, |p| p - base))
        .collect();
    if extra.iter().all(Decimal::is_zero) {
        return Surcharges::default();
    }
    let mut groups: Vec<String> = Vec::new();
    for (options, _) in variants {
        for (group, value) in options {
            let key = option_key(group, value).0;
            if !groups.contains(&key) {
                groups.push(key);
            }
        }
    }
    let mut best = Surcharges {
        misfits: (0..variants.len()).collect(),
        ..Surcharges::default()
    };
    for group in &groups {
        // The surcharge of a value: the least extra of the variants with that value.
        let value_of = |i: usize| -> Option<(String, String)> {
            variants[i]
                .0
                .iter()
                .map(|(g, v)| option_key(g, v))
                .find(|(g, _)| g == group)
        };
        let mut by_value: HashMap<(String, String), Decimal> = HashMap::new();
        for (i, amount) in extra.iter().enumerate() {
            if let Some(key) = value_of(i) {
                let slot = by_value.entry(key).or_insert(*amount);
                *slot = (*slot).min(*amount);
            }
        }
        let misfits: Vec<usize> = (0..variants.len())
            .filter(|&i| {
                let given = value_of(i).and_then(|k| by_value.get(&k).copied());
                given.unwrap_or(Decimal::ZERO) != extra[i]
            })
            .collect();
        if misfits.len() < best.misfits.len() {
            by_value.retain(|_, amount| !amount.is_zero());
            best = Surcharges { by_value, misfits };
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(prices_include_vat: bool) -> Shop {
        Shop {
            currency: "EUR".into(),
            prices_include_vat,
        }
    }

    fn price(amount: &str, includes_tax: bool, currency: &str) -> Price {
        Price {
            amount: amount.into(),
            includes_tax,
            tax_rate: "21".into(),
            currency: currency.into(),
        }
    }

    fn d(text: &str) -> Decimal {
        decimal::parse(text, "t").unwrap()
    }

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(g, v)| (g.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_shops_currency_and_vat_convention_win() {
        let prices = [price("10", true, "USD"), price("20.00", false, "EUR")];
        let main = main_price(&prices, &shop(true)).unwrap();
        assert_eq!(main.currency, "EUR");
        assert_eq!(in_shop_terms(main, true).unwrap(), d("24.20"));
        assert_eq!(
            in_shop_terms(&price("24.95", true, "EUR"), false).unwrap(),
            d("20.6198")
        );
        assert_eq!(
            in_shop_terms(&price("24.95", true, "EUR"), true).unwrap(),
            d("24.95")
        );
        let settings = tillbridge_sdk::settings::parse(r#"{"url": "https://x"}"#).unwrap();
        let ccv = ccv_price(main, &shop(true), &settings).unwrap();
        assert_eq!(ccv.tariff, "normal");
    }

    #[test]
    fn equal_prices_need_no_surcharge() {
        let s = surcharges(
            d("20"),
            &[
                (opts(&[("Size", "S")]), None),
                (opts(&[("Size", "M")]), Some(d("20"))),
            ],
        );
        assert_eq!(s, Surcharges::default());
    }

    #[test]
    fn a_price_that_depends_on_one_option_fits_exactly() {
        let variants = [
            (opts(&[("Size", "S"), ("Colour", "Red")]), None),
            (opts(&[("Size", "XL"), ("Colour", "Red")]), Some(d("22.50"))),
            (opts(&[("Size", "S"), ("Colour", "Blue")]), None),
            (
                opts(&[("size", "xl"), ("Colour", "Blue")]),
                Some(d("22.50")),
            ),
        ];
        let s = surcharges(d("20"), &variants);
        assert!(s.misfits.is_empty(), "{s:?}");
        assert_eq!(s.by_value.len(), 1);
        assert_eq!(s.by_value[&option_key("Size", "XL")], d("2.50"));
    }

    #[test]
    fn prices_no_surcharges_can_give_are_named() {
        let variants = [
            (opts(&[("Size", "S"), ("Colour", "Red")]), None),
            (opts(&[("Size", "XL"), ("Colour", "Red")]), Some(d("22"))),
            (opts(&[("Size", "S"), ("Colour", "Blue")]), Some(d("21"))),
            (opts(&[("Size", "XL"), ("Colour", "Blue")]), Some(d("30"))),
        ];
        let s = surcharges(d("20"), &variants);
        assert_eq!(s.misfits.len(), 2, "{s:?}");
    }
}
