//! The plugin's settings from flows.toml and its granted secrets.

use serde::de::DeserializeOwned;

use crate::config;
use crate::types::{PluginError, SecretSpec, SettingKind, SettingSpec};

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

impl SettingSpec {
    /// An optional setting without a declared default.
    pub fn new(name: &str, kind: SettingKind, description: &str) -> Self {
        SettingSpec {
            name: name.into(),
            kind,
            required: false,
            default: None,
            description: description.into(),
        }
    }

    /// The same setting, required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The same setting with its default, as JSON text (`500`, `"WEB-{number}"`, `true`).
    pub fn with_default(mut self, json: &str) -> Self {
        self.default = Some(json.into());
        self
    }
}

impl SecretSpec {
    /// A secret the plugin cannot work without.
    pub fn required(name: &str, description: &str) -> Self {
        SecretSpec {
            name: name.into(),
            required: true,
            description: description.into(),
        }
    }
}

/// The names of settings as declared, in order (to compare with [`field_names`]).
pub fn names(specs: &[SettingSpec]) -> Vec<&str> {
    specs.iter().map(|s| s.name.as_str()).collect()
}

/// The names of the fields a settings struct reads, as serde sees them (renames applied), so
/// that a plugin's declared `setting-spec`s can be tested against the struct they describe:
/// `assert_eq!(declared names, field_names::<Settings>())`. Works for a struct that derives
/// `Deserialize` without `flatten`.
pub fn field_names<T: DeserializeOwned>() -> Vec<&'static str> {
    let mut names = Vec::new();
    // The recorder always fails after it has seen the fields: there is no value to make.
    let _ = T::deserialize(FieldRecorder(&mut names));
    names
}

/// A deserializer that records the fields a struct asks for and makes nothing.
struct FieldRecorder<'a>(&'a mut Vec<&'static str>);

impl<'de> serde::Deserializer<'de> for FieldRecorder<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.extend_from_slice(fields);
        Err(serde::de::Error::custom(
            "only the field names were asked for",
        ))
    }

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Example {
        url: String,
        #[serde(rename = "page-size", default)]
        page_size: Option<u32>,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn field_names_are_the_structs_with_renames() {
        assert_eq!(
            super::field_names::<Example>(),
            ["url", "page-size", "tags"]
        );
    }
}
