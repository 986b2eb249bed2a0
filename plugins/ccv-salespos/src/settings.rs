//! The connector's settings (flows.toml) and secrets, and the open connection they make.

use std::collections::BTreeMap;

use serde::Deserialize;
use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::types::{PluginError, SecretSpec, SettingKind, SettingSpec};

use crate::client::Client;
use crate::marker::Marker;
use crate::signing::Keys;

/// What a merchant may set for the connection (README.md, "Settings").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The webshop's address (the connection's `url`).
    pub url: String,
    /// The CCV package new products and free order rows get (CCV requires one): an id of the
    /// shop's own, from `GET /packages`. None: the shop's only package (see [`crate::packages`]).
    #[serde(default)]
    pub package_id: Option<u64>,
    /// VAT rate in percent → CCV tax tariff ("21" → "normal"); read backwards for products read
    /// from CCV, which carry only the tariff.
    #[serde(default = "default_tax_tariffs")]
    pub tax_tariffs: BTreeMap<String, String>,
    /// The format of the marker in an order's `reservationnumber`: `{number}` stands for the
    /// source order number ("WEB-{number}", or "{number}" for orders booked with the bare number).
    #[serde(default = "default_marker")]
    pub order_marker: String,
    /// For how many days the connector remembers the CCV orders it saw with a marker, counted
    /// from when CCV created them. Forgetting costs requests (CCV is read again), never a
    /// second order.
    #[serde(default = "default_booked_memory_days")]
    pub booked_memory_days: u32,
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
    /// Which of CCV's schemas every request asks for (`Accept`).
    #[serde(default)]
    pub media_type: MediaType,
    /// Whether CCV's `stock` still counts the goods of reserved orders (status 14) until they
    /// are collected. CCV does not document it (README, "Stock numbers").
    #[serde(default = "yes")]
    pub reserved_in_stock: bool,
}

/// The settings the connector reads, declared to the host (README.md, "Settings"), in the
/// order of [`Settings`]' fields.
pub fn declared() -> Vec<SettingSpec> {
    use SettingKind::*;
    vec![
        SettingSpec::new(
            "url",
            Text,
            "The webshop's address (the connection's `url`).",
        )
        .required(),
        SettingSpec::new(
            "package_id",
            Integer,
            "The CCV package new products and free order rows get; none: the shop's only one.",
        ),
        SettingSpec::new(
            "tax_tariffs",
            TextMap,
            "VAT rate in percent → CCV tax tariff.",
        )
        .with_default(r#"{"0": "zero", "21": "normal", "9": "low a"}"#),
        SettingSpec::new(
            "order_marker",
            Text,
            "The format of the marker in `reservationnumber`, with `{number}` once.",
        )
        .with_default(r#""WEB-{number}""#),
        SettingSpec::new(
            "booked_memory_days",
            Integer,
            "For how many days the connector remembers the marked orders it saw.",
        )
        .with_default("90"),
        SettingSpec::new(
            "order_note",
            Boolean,
            "Give each booked order an internal note (one more request per order).",
        )
        .with_default("true"),
        SettingSpec::new(
            "prices_include_vat",
            Boolean,
            "Whether CCV's product prices include VAT; none: the shop's own setting.",
        ),
        SettingSpec::new(
            "attribute_type",
            Text,
            "The type of the attributes created for variant options.",
        )
        .with_default(r#""option_menu""#),
        SettingSpec::new(
            "media_type",
            Text,
            "`webshop` or `salespos`: which of CCV's schemas every request asks for.",
        )
        .with_default(r#""webshop""#),
        SettingSpec::new(
            "reserved_in_stock",
            Boolean,
            "Whether CCV's `stock` still counts the goods of reserved orders.",
        )
        .with_default("true"),
    ]
}

/// The secrets the connector reads (README.md, "Secrets").
pub fn secrets() -> Vec<SecretSpec> {
    vec![
        SecretSpec::required(
            "public_key",
            "The API's public key (CCV's webshop back office).",
        ),
        SecretSpec::required("secret", "The API's secret key, which signs every request."),
    ]
}

/// CCV's two media types (its SDK, `BaseEndpoint::ACCEPT_HEADERS`): the webshop schemas, the
/// default; or "CCV SalesPos specific API schema's", documented only for cash-ups and fiscal
/// transaction signatures, so what they change for products, stock and orders is unverified
/// (README.md, "The SalesPOS media type").
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    #[default]
    Webshop,
    Salespos,
}

impl MediaType {
    /// The `Accept` header.
    pub fn header(self) -> &'static str {
        match self {
            MediaType::Webshop => "application/vnd.verto.webshop+json",
            MediaType::Salespos => "application/vnd.verto.salespos+json",
        }
    }
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

fn default_booked_memory_days() -> u32 {
    90
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

    /// The VAT rate of a CCV tax tariff: the one rate `tax_tariffs` gives it, or a message saying
    /// how to set it.
    pub fn rate(&self, tariff: &str) -> Result<Decimal, PluginError> {
        let rates: Vec<&String> = self
            .tax_tariffs
            .iter()
            .filter(|(_, t)| t.trim().eq_ignore_ascii_case(tariff.trim()))
            .map(|(rate, _)| rate)
            .collect();
        let problem = match rates.as_slice() {
            [rate] => return decimal::parse(rate, "tax_tariffs"),
            [] => format!(
                "no VAT rate is set for CCV tax tariff {tariff:?}: add it to the connection's \
                 `tax_tariffs` setting (e.g. \"9\" = \"{tariff}\")"
            ),
            several => format!(
                "the connection's `tax_tariffs` setting gives CCV tax tariff {tariff:?} to {} \
                 rates; give each tariff one rate",
                several.len()
            ),
        };
        Err(PluginError::invalid_field(problem, "taxtariff"))
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
        let api = Client::new(&settings.url, keys)?.accepting(settings.media_type.header());
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

    #[test]
    fn declared_settings_are_the_ones_read() {
        assert_eq!(
            tillbridge_sdk::settings::names(&declared()),
            tillbridge_sdk::settings::field_names::<Settings>()
        );
    }

    fn settings(json: &str) -> Result<Settings, PluginError> {
        tillbridge_sdk::settings::parse(json)
    }

    #[test]
    fn defaults_fit_a_dutch_shop() {
        let s = settings(r#"{"url": "https://x"}"#).unwrap();
        assert_eq!(s.package_id, None, "CCV's package ids are the shop's own");
        assert_eq!(s.order_marker, "WEB-{number}");
        assert!(s.order_note);
        assert!(s.reserved_in_stock);
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
    fn a_tariff_reads_back_as_the_one_rate_the_table_gives_it() {
        let s = settings(r#"{"url": "https://x"}"#).unwrap();
        assert_eq!(s.rate("low a").unwrap(), Decimal::from(9));
        assert_eq!(s.rate("normal").unwrap(), Decimal::from(21));
        let PluginError::Invalid(problem) = s.rate("extra low").unwrap_err() else {
            panic!()
        };
        assert!(
            problem.message.contains("tax_tariffs") && problem.message.contains("extra low"),
            "{}",
            problem.message
        );
        let twice =
            settings(r#"{"url": "https://x", "tax_tariffs": {"9": "low a", "6": "low a"}}"#)
                .unwrap();
        assert!(twice.rate("low a").is_err(), "ambiguous");
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
