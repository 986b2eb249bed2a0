//! The connector's settings (flows.toml) and secrets, and the open connection they make.

use std::collections::BTreeMap;

use serde::Deserialize;
use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::types::PluginError;

use crate::client::Client;
use crate::marker::Marker;
use crate::signing::Keys;

/// What a merchant may set for the connection (README.md, "Settings").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The webshop's address (the connection's `url`).
    pub url: String,
    /// The CCV package id new products and free order rows get: CCV requires one.
    #[serde(default = "default_package_id")]
    pub package_id: u64,
    /// VAT rate in percent → CCV tax tariff ("21" → "normal").
    #[serde(default = "default_tax_tariffs")]
    pub tax_tariffs: BTreeMap<String, String>,
    /// The format of the marker in an order's `reservationnumber`: `{number}` stands for the
    /// source order number ("WEB-{number}", or "{number}" for orders booked with the bare number).
    #[serde(default = "default_marker")]
    pub order_marker: String,
    /// Whether each booked order gets an internal note (for the staff, not the customer) with its
    /// payment method and condition, store, shipping method and the customer's comment: one more
    /// request per order.
    #[serde(default = "yes")]
    pub order_note: bool,
    /// Whether CCV's product prices include VAT, when the shop's own setting is not to be
    /// trusted for them (none: the shop's `prices_include_vat` decides).
    #[serde(default)]
    pub prices_include_vat: Option<bool>,
    /// The type of the attributes the connector creates for variant options.
    #[serde(default = "default_attribute_type")]
    pub attribute_type: String,
}

fn default_package_id() -> u64 {
    1
}

fn default_tax_tariffs() -> BTreeMap<String, String> {
    [("21", "normal"), ("9", "low a"), ("0", "zero")]
        .into_iter()
        .map(|(rate, tariff)| (rate.to_string(), tariff.to_string()))
        .collect()
}

fn default_marker() -> String {
    "WEB-{number}".into()
}

fn default_attribute_type() -> String {
    "option_menu".into()
}

fn yes() -> bool {
    true
}

impl Settings {
    /// The CCV tax tariff for a VAT rate, or a message saying how to add it.
    pub fn tariff(&self, rate: Decimal) -> Result<&str, PluginError> {
        self.tax_tariffs
            .iter()
            .find(|(key, _)| decimal::parse(key, "tax_tariffs").is_ok_and(|r| r == rate))
            .map(|(_, tariff)| tariff.as_str())
            .ok_or_else(|| {
                PluginError::invalid_field(
                    format!(
                        "no CCV tax tariff is set for {}% VAT: add it to the connection's \
                         `tax_tariffs` setting (e.g. \"{}\" = \"low a\")",
                        decimal::format(rate),
                        decimal::format(rate)
                    ),
                    "tax-rate",
                )
            })
    }
}

/// An open connection: settings and a signing client.
pub struct Ccv {
    pub settings: Settings,
    /// The `order_marker` setting, read.
    pub marker: Marker,
    pub api: Client,
}

impl Ccv {
    /// Reads the settings and the secrets `public_key` and `secret`.
    pub fn open() -> Result<Ccv, PluginError> {
        let settings: Settings = tillbridge_sdk::settings::load()?;
        let marker = Marker::parse(&settings.order_marker)?;
        let keys = Keys {
            public: tillbridge_sdk::settings::secret("public_key")?,
            secret: tillbridge_sdk::settings::secret("secret")?,
        };
        let api = Client::new(&settings.url, keys)?;
        Ok(Ccv {
            settings,
            marker,
            api,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: &str) -> Result<Settings, PluginError> {
        tillbridge_sdk::settings::parse(json)
    }

    #[test]
    fn defaults_fit_a_dutch_shop() {
        let s = settings(r#"{"url": "https://x"}"#).unwrap();
        assert_eq!(s.package_id, 1);
        assert_eq!(s.order_marker, "WEB-{number}");
        assert!(s.order_note);
        assert_eq!(s.tariff(Decimal::from(21)).unwrap(), "normal");
        assert_eq!(
            s.tariff(decimal::parse("9.00", "r").unwrap()).unwrap(),
            "low a"
        );
        let PluginError::Invalid(problem) = s.tariff(Decimal::from(6)).unwrap_err() else {
            panic!()
        };
        assert!(problem.message.contains("6%"), "{}", problem.message);
    }

    #[test]
    fn typos_are_refused() {
        assert!(settings(r#"{"url": "https://x", "packge_id": 2}"#).is_err());
        let s = settings(r#"{"url": "https://x", "tax_tariffs": {"6": "low b"}}"#).unwrap();
        assert_eq!(s.tariff(Decimal::from(6)).unwrap(), "low b");
        assert!(
            s.tariff(Decimal::from(21)).is_err(),
            "a map replaces the default"
        );
    }
}
