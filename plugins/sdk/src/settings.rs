//! The plugin's settings from flows.toml and its granted secrets.

use serde::de::DeserializeOwned;

use crate::config;
use crate::types::PluginError;

/// The plugin's settings read into your own type. Unknown or missing fields are errors the host
/// shows to the merchant, so derive `Deserialize` with `#[serde(deny_unknown_fields)]` and defaults
/// where a setting is optional.
pub fn load<T: DeserializeOwned>() -> Result<T, PluginError> {
    parse(&config::settings())
}

/// Parses settings JSON into `T` (split from [`load`] so that it can be tested natively).
pub fn parse<T: DeserializeOwned>(json: &str) -> Result<T, PluginError> {
    serde_json::from_str(json).map_err(|e| PluginError::fatal(format!("plugin settings: {e}")))
}

/// A secret granted to this plugin; an error that tells the merchant what to grant when it is not.
pub fn secret(name: &str) -> Result<String, PluginError> {
    config::secret(name).ok_or_else(|| {
        PluginError::Auth(format!(
            "secret `{name}` is not granted to this plugin: add it to the connection's `secrets` in flows.toml"
        ))
    })
}
