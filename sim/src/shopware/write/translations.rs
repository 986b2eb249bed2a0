//! Translated fields: `"translations": {"<languageId>|<locale code>": {…}}` on write, and the
//! names of the translation entities the sync API reports.

use serde_json::{Map, Value, json};

use super::{Writer, unexpected};
use crate::shopware::definition::EntityDef;
use crate::shopware::error::{WRITE_CONSTRAINT, violation};
use crate::shopware::ids::{self, LIVE_VERSION};
use crate::shopware::store::Row;
use crate::shopware::validate::check;

impl Writer<'_, '_> {
    /// `"translations": {"<languageId>|<locale code>": {field: value}}` or a list of objects
    /// with `languageId`.
    pub(super) fn translations(
        &mut self,
        def: &EntityDef,
        row: &mut Row,
        value: &Value,
        pointer: &str,
    ) {
        let entries: Vec<(String, Map<String, Value>)> = match value {
            Value::Object(map) => map
                .iter()
                .filter_map(|(k, v)| v.as_object().map(|o| (k.clone(), o.clone())))
                .collect(),
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_object())
                .map(|o| {
                    (
                        o["languageId"].as_str().unwrap_or_default().to_string(),
                        o.clone(),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        for (language, fields) in entries {
            let at = format!("{pointer}/{language}");
            let Some(language) = self.language_id(&language) else {
                self.errors.push(violation(
                    &at,
                    WRITE_CONSTRAINT,
                    &format!("The language \"{language}\" was not found."),
                    json!({}),
                ));
                continue;
            };
            for (name, value) in fields {
                if name == "languageId" {
                    continue;
                }
                let field_at = format!("{at}/{name}");
                match def.field(&name).filter(|f| f.translated) {
                    Some(field) => match check(field.kind, &value, &field_at) {
                        Ok(value) => {
                            row.translations
                                .entry(language.clone())
                                .or_default()
                                .insert(name, value);
                        }
                        Err(errors) => self.errors.extend(errors),
                    },
                    None => self.errors.push(unexpected(&name, &field_at)),
                }
            }
        }
    }

    /// A language id, or the id of the language whose locale has this code (`de-DE`).
    fn language_id(&self, key: &str) -> Option<String> {
        if ids::is_valid(key) {
            return self.tx.live("language", key).map(|_| key.to_string());
        }
        let locale = self
            .tx
            .rows("locale", LIVE_VERSION)
            .into_iter()
            .find(|l| l.str("code").is_some_and(|c| c.eq_ignore_ascii_case(key)))?
            .id()
            .to_string();
        self.tx
            .rows("language", LIVE_VERSION)
            .into_iter()
            .find(|l| {
                l.str("translationCodeId") == Some(&locale) || l.str("localeId") == Some(&locale)
            })
            .map(|l| l.id().to_string())
    }
}

/// `product` → `product_translation`.
pub(super) fn translation_entity(entity: &'static str) -> &'static str {
    match entity {
        "product" => "product_translation",
        "category" => "category_translation",
        "property_group" => "property_group_translation",
        "property_group_option" => "property_group_option_translation",
        "product_manufacturer" => "product_manufacturer_translation",
        "currency" => "currency_translation",
        "sales_channel" => "sales_channel_translation",
        "payment_method" => "payment_method_translation",
        "shipping_method" => "shipping_method_translation",
        "country" => "country_translation",
        "locale" => "locale_translation",
        "salutation" => "salutation_translation",
        "state_machine" => "state_machine_translation",
        "state_machine_state" => "state_machine_state_translation",
        _ => "translation",
    }
}

/// `property_group_option` → `propertyGroupOption`.
pub(super) fn camel(entity: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in entity.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
