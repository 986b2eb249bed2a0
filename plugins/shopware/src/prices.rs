//! Prices between the canonical model (an amount, gross or net, with a tax rate) and
//! Shopware's price list (`[{currencyId, gross, net, linked}]`). Shopware stores net and gross
//! exactly as sent and never computes one from the other, so both are always sent; the one
//! not given is derived with the tax rate and rounded to cents. The list must hold the shop's
//! default currency.

use serde_json::{Value, json};
use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::types::{PluginError, Price};

use crate::catalog::{Catalog, DEFAULT_CURRENCY};
use crate::client::Client;

/// Shopware's price list for canonical prices (the first is the main one).
pub fn to_shopware(
    client: &mut Client,
    catalog: &mut Catalog,
    prices: &[Price],
) -> Result<Value, PluginError> {
    let mut list = Vec::new();
    for (i, price) in prices.iter().enumerate() {
        let field = |name: &str| format!("prices/{i}/{name}");
        let amount = decimal::parse(&price.amount, &field("amount"))?;
        let rate = decimal::parse(&price.tax_rate, &field("tax-rate"))?;
        let (gross, net) = if price.includes_tax {
            (amount, decimal::net_from_gross(amount, rate, 2))
        } else {
            (decimal::gross_from_net(amount, rate, 2), amount)
        };
        let currency = catalog
            .currency_id(client, &price.currency)?
            .ok_or_else(|| {
                PluginError::invalid_field(
                    format!(
                        "Shopware has no currency {}: add it under Settings › Currencies",
                        price.currency
                    ),
                    field("currency"),
                )
            })?;
        list.push(json!({
            "currencyId": currency,
            "gross": decimal::to_json(gross, 4),
            "net": decimal::to_json(net, 4),
            "linked": true,
        }));
    }
    if !list.iter().any(|p| p["currencyId"] == DEFAULT_CURRENCY) {
        let default = catalog
            .currency_iso(client, DEFAULT_CURRENCY)?
            .unwrap_or_else(|| "default".into());
        return Err(PluginError::invalid_field(
            format!("Shopware needs a price in the shop's default currency ({default})"),
            "prices",
        ));
    }
    Ok(Value::Array(list))
}

/// The tax rate of the main price.
pub fn tax_rate(prices: &[Price]) -> Result<Option<Decimal>, PluginError> {
    prices
        .first()
        .map(|p| decimal::parse(&p.tax_rate, "prices/0/tax-rate"))
        .transpose()
}

/// Canonical prices (gross, the default currency first) of a Shopware price list.
pub fn from_shopware(
    client: &mut Client,
    catalog: &mut Catalog,
    list: &Value,
    tax_rate: Decimal,
) -> Result<Vec<Price>, PluginError> {
    let mut prices = Vec::new();
    let mut rows: Vec<&Value> = list.as_array().into_iter().flatten().collect();
    rows.sort_by_key(|p| p["currencyId"] != DEFAULT_CURRENCY);
    for row in rows {
        let currency_id = row["currencyId"].as_str().unwrap_or_default();
        let Some(currency) = catalog.currency_iso(client, currency_id)? else {
            continue;
        };
        let gross = decimal::from_json(&row["gross"], "price/gross")?;
        prices.push(Price {
            amount: decimal::format(gross),
            includes_tax: true,
            tax_rate: decimal::format(tax_rate),
            currency,
        });
    }
    Ok(prices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tax_rate_is_the_main_prices() {
        let price = Price {
            amount: "24.95".into(),
            includes_tax: true,
            tax_rate: "21".into(),
            currency: "EUR".into(),
        };
        assert_eq!(tax_rate(&[price]).unwrap(), Some(Decimal::from(21)));
        assert_eq!(tax_rate(&[]).unwrap(), None);
    }
}
