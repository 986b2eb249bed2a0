//! The connection's settings (flows.toml) and secrets. Every option is documented in the
//! README; unknown keys are refused so that a typo is never silently ignored.

use serde::Deserialize;
use tillbridge_sdk::types::{PluginError, SecretSpec, SettingKind, SettingSpec};

use crate::version::{MAX_ROWS, StockMode};

/// Where a canonical short description lives in Shopware, which has no such field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShortDescription {
    /// Not read or written.
    Off,
    /// A product field, e.g. `metaDescription` (the default).
    Field(String),
    /// A custom field, e.g. `customFields.short_description`.
    CustomField(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    url: String,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    sync_batch_size: Option<u32>,
    #[serde(default)]
    stock_mode: Option<StockMode>,
    #[serde(default)]
    short_description: Option<String>,
    #[serde(default)]
    sales_channels: Vec<String>,
    #[serde(default)]
    timeout_ms: Option<u32>,
    #[serde(default)]
    queue_indexing_from: Option<u32>,
    #[serde(default = "yes")]
    remember_token: bool,
}

fn yes() -> bool {
    true
}

/// The settings the connector reads, declared to the host (README.md, "Settings"), in the
/// order of [`Raw`]'s fields.
pub fn declared() -> Vec<SettingSpec> {
    use SettingKind::*;
    vec![
        SettingSpec::new("url", Text, "The shop's base URL (the connection's `url`).").required(),
        SettingSpec::new("page_size", Integer, "Rows per search request, 1–500.")
            .with_default("500"),
        SettingSpec::new("sync_batch_size", Integer, "Rows per sync request, 1–500.")
            .with_default("500"),
        SettingSpec::new(
            "stock_mode",
            Text,
            "`legacy` or `sellable`: only for 6.5 with STOCK_HANDLING=1; otherwise by version.",
        ),
        SettingSpec::new(
            "short_description",
            Text,
            "Where the short description lives: a product field, `customFields.NAME` or `none`.",
        )
        .with_default("\"metaDescription\""),
        SettingSpec::new(
            "sales_channels",
            TextList,
            "Sales channels (names or ids) a new product is made visible in.",
        )
        .with_default("[]"),
        SettingSpec::new(
            "timeout_ms",
            Integer,
            "How long to wait for an answer, when not the host's default.",
        ),
        SettingSpec::new(
            "queue_indexing_from",
            Integer,
            "From how many rows a sync request asks for queue indexing; 0: never.",
        )
        .with_default("100"),
        SettingSpec::new(
            "remember_token",
            Boolean,
            "Keep the access token in the connection's store between runs.",
        )
        .with_default("true"),
    ]
}

/// The secrets the connector reads (README.md, "Secrets").
pub fn secrets() -> Vec<SecretSpec> {
    vec![
        SecretSpec::required(
            "client_id",
            "The integration's access key id (SWIA…), Settings › System › Integrations.",
        ),
        SecretSpec::required("client_secret", "The integration's secret access key."),
    ]
}

/// The settings, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The shop's base URL without `/api` and without a trailing slash.
    pub base: String,
    /// Rows per search request (1–500).
    pub page_size: u32,
    /// Rows per sync request (1–500).
    pub sync_batch_size: u32,
    /// Overrides the stock mode the version implies (for 6.5 with `STOCK_HANDLING=1`).
    pub stock_mode: Option<StockMode>,
    /// Where the short description lives.
    pub short_description: ShortDescription,
    /// Sales channels (names or ids) new products are made visible in.
    pub sales_channels: Vec<String>,
    /// How long to wait for an answer, when not the host's default.
    pub timeout_ms: Option<u32>,
    /// Whether the access token may be kept in the connection's key-value store between runs.
    pub remember_token: bool,
    /// From how many rows on a sync request asks Shopware to index in its message queue
    /// (`indexing-behavior: use-queue-indexing`); 0: never.
    pub queue_indexing_from: u32,
}

/// The default of `queue_indexing_from`: a sync of this many rows or more is a bulk write.
pub const QUEUE_INDEXING_FROM: u32 = 100;

impl Settings {
    /// The plugin's settings as the host gives them.
    pub fn load() -> Result<Settings, PluginError> {
        Self::parse(&tillbridge_sdk::config::settings())
    }

    /// Parses and checks settings JSON.
    pub fn parse(json: &str) -> Result<Settings, PluginError> {
        let raw: Raw = tillbridge_sdk::settings::parse(json)?;
        let mut base = raw.url.trim().trim_end_matches('/').to_string();
        if let Some(stripped) = base.strip_suffix("/api") {
            base = stripped.to_string();
        }
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(PluginError::fatal(format!(
                "plugin settings: url {:?} must start with https:// (the shop's address, e.g. https://shop.example.com)",
                raw.url
            )));
        }
        let rows = |value: Option<u32>, name: &str| match value {
            None => Ok(MAX_ROWS),
            Some(n) if (1..=MAX_ROWS).contains(&n) => Ok(n),
            Some(n) => Err(PluginError::fatal(format!(
                "plugin settings: {name} = {n} must be between 1 and {MAX_ROWS}"
            ))),
        };
        let short_description = match raw.short_description.as_deref().map(str::trim) {
            None => ShortDescription::Field("metaDescription".into()),
            Some("") | Some("none") => ShortDescription::Off,
            Some(field) => match field.strip_prefix("customFields.") {
                Some(name) if !name.is_empty() => ShortDescription::CustomField(name.into()),
                _ => ShortDescription::Field(field.into()),
            },
        };
        Ok(Settings {
            base,
            page_size: rows(raw.page_size, "page_size")?,
            sync_batch_size: rows(raw.sync_batch_size, "sync_batch_size")?,
            stock_mode: raw.stock_mode,
            short_description,
            sales_channels: raw.sales_channels,
            timeout_ms: raw.timeout_ms,
            remember_token: raw.remember_token,
            queue_indexing_from: raw.queue_indexing_from.unwrap_or(QUEUE_INDEXING_FROM),
        })
    }

    /// `{base}/api{path}`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api{path}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_settings_are_the_ones_read() {
        assert_eq!(
            tillbridge_sdk::settings::names(&declared()),
            tillbridge_sdk::settings::field_names::<Raw>()
        );
    }

    #[test]
    fn defaults_and_normalised_url() {
        let s = Settings::parse(r#"{"url": "https://shop.example.com/api/"}"#).unwrap();
        assert_eq!(
            s.api("/search/order"),
            "https://shop.example.com/api/search/order"
        );
        assert_eq!((s.page_size, s.sync_batch_size), (500, 500));
        assert_eq!(
            s.short_description,
            ShortDescription::Field("metaDescription".into())
        );
        assert!(s.remember_token);
        assert_eq!(s.queue_indexing_from, QUEUE_INDEXING_FROM);
    }

    #[test]
    fn options_are_checked() {
        let custom = Settings::parse(
            r#"{"url": "http://127.0.0.1:1", "short_description": "customFields.teaser", "stock_mode": "sellable"}"#,
        )
        .unwrap();
        assert_eq!(
            custom.short_description,
            ShortDescription::CustomField("teaser".into())
        );
        assert_eq!(custom.stock_mode, Some(StockMode::Sellable));
        assert!(Settings::parse(r#"{"url": "http://x", "page_size": 1000}"#).is_err());
        assert!(Settings::parse(r#"{"url": "shop.example.com"}"#).is_err());
        assert!(Settings::parse(r#"{"url": "http://x", "pagesize": 5}"#).is_err());
    }
}
