//! What a session learns about the shop's catalogue once and reuses: currencies, tax rates,
//! property groups with their options, and the sales channels new products are shown in.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::types::PluginError;

use crate::client::Client;
use crate::criteria::equals_any;
use crate::lookup::norm;
use crate::order_model::name;

/// The system default currency's id: the same in every Shopware (`Defaults::CURRENCY`), and
/// the one every product price must have.
pub const DEFAULT_CURRENCY: &str = "b7d2554b0ce847cd82f3ac9bd1c0dfca";

/// A property group and its options (value → option id), names compared without case.
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// Its id.
    pub id: String,
    /// Its name as the shop writes it.
    pub name: String,
    /// Its position, for ordering variant options.
    pub position: i64,
    /// Option value (normalised) → option id.
    pub options: BTreeMap<String, String>,
}

/// The session's knowledge of the catalogue.
#[derive(Debug, Default)]
pub struct Catalog {
    currencies: Option<Vec<(String, String)>>,
    taxes: Option<Vec<(Decimal, String)>>,
    /// Property groups by normalised name.
    pub groups: BTreeMap<String, Group>,
    /// Option id → (group name, value, group position), for reading products.
    pub options: BTreeMap<String, (String, String, i64)>,
    channels: Option<Vec<String>>,
}

impl Catalog {
    fn currencies(&mut self, client: &mut Client) -> Result<&[(String, String)], PluginError> {
        if self.currencies.is_none() {
            let rows = client.search_all(
                "currency",
                json!({"includes": {"currency": ["id", "isoCode"]}}),
            )?;
            self.currencies = Some(
                rows.iter()
                    .filter_map(|r| Some((r["id"].as_str()?.into(), r["isoCode"].as_str()?.into())))
                    .collect(),
            );
        }
        Ok(self.currencies.as_deref().unwrap_or_default())
    }

    /// The ISO code of a currency id.
    pub fn currency_iso(
        &mut self,
        client: &mut Client,
        id: &str,
    ) -> Result<Option<String>, PluginError> {
        Ok(self
            .currencies(client)?
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, iso)| iso.clone()))
    }

    /// The id of a currency by ISO code.
    pub fn currency_id(
        &mut self,
        client: &mut Client,
        iso: &str,
    ) -> Result<Option<String>, PluginError> {
        Ok(self
            .currencies(client)?
            .iter()
            .find(|(_, i)| i.eq_ignore_ascii_case(iso))
            .map(|(id, _)| id.clone()))
    }

    fn taxes(&mut self, client: &mut Client) -> Result<&[(Decimal, String)], PluginError> {
        if self.taxes.is_none() {
            let rows = client.search_all("tax", json!({"includes": {"tax": ["id", "taxRate"]}}))?;
            let mut taxes = Vec::new();
            for row in rows {
                let rate = decimal::from_json(&row["taxRate"], "taxRate")?;
                taxes.push((rate, row["id"].as_str().unwrap_or_default().to_string()));
            }
            self.taxes = Some(taxes);
        }
        Ok(self.taxes.as_deref().unwrap_or_default())
    }

    /// The id of the tax with this rate in percent.
    pub fn tax_id(
        &mut self,
        client: &mut Client,
        rate: Decimal,
    ) -> Result<Option<String>, PluginError> {
        Ok(self
            .taxes(client)?
            .iter()
            .find(|(r, _)| *r == rate)
            .map(|(_, id)| id.clone()))
    }

    /// The rate in percent of a tax id.
    pub fn tax_rate(
        &mut self,
        client: &mut Client,
        id: &str,
    ) -> Result<Option<Decimal>, PluginError> {
        Ok(self
            .taxes(client)?
            .iter()
            .find(|(_, i)| i == id)
            .map(|(rate, _)| *rate))
    }

    /// Loads the property groups with these names (and all their options) not known yet.
    pub fn load_groups(
        &mut self,
        client: &mut Client,
        names: &[String],
    ) -> Result<(), PluginError> {
        let wanted: Vec<String> = names
            .iter()
            .filter(|n| !self.groups.contains_key(&norm(n)))
            .cloned()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        self.fetch_groups(client, equals_any("name", &wanted))
    }

    /// Loads the groups of these option ids (for reading products).
    pub fn load_options(&mut self, client: &mut Client, ids: &[String]) -> Result<(), PluginError> {
        let wanted: Vec<&String> = ids
            .iter()
            .filter(|i| !self.options.contains_key(*i))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        self.fetch_groups(client, equals_any("options.id", &wanted))
    }

    /// Reads the groups that match `filter`, with all their options, and remembers them.
    fn fetch_groups(&mut self, client: &mut Client, filter: Value) -> Result<(), PluginError> {
        let rows = client.search_all(
            "property_group",
            json!({
                "filter": [filter],
                "associations": {"options": {}},
                "includes": {"property_group": ["id", "name", "translated", "position", "options"],
                             "property_group_option": ["id", "name", "translated"]},
            }),
        )?;
        for row in rows {
            self.learn_group(&row);
        }
        Ok(())
    }

    fn learn_group(&mut self, row: &Value) {
        let group_name = name(row).unwrap_or_default();
        let group = self.groups.entry(norm(&group_name)).or_default();
        group.id = row["id"].as_str().unwrap_or_default().to_string();
        group.name = group_name.clone();
        group.position = row["translated"]["position"]
            .as_i64()
            .or_else(|| row["position"].as_i64())
            .unwrap_or(0);
        for option in row["options"].as_array().into_iter().flatten() {
            let (Some(id), Some(value)) = (option["id"].as_str(), name(option)) else {
                continue;
            };
            group.options.insert(norm(&value), id.to_string());
            self.options
                .insert(id.to_string(), (group_name.clone(), value, group.position));
        }
    }

    /// Notes a group or option this connector created.
    pub fn learn_option(&mut self, group: &Group, value: &str, id: &str) {
        let entry = self
            .groups
            .entry(norm(&group.name))
            .or_insert_with(|| group.clone());
        entry.options.insert(norm(value), id.to_string());
        self.options.insert(
            id.to_string(),
            (group.name.clone(), value.to_string(), group.position),
        );
    }

    /// The ids of the sales channels (named or given by id in the settings) new products are
    /// made visible in.
    pub fn channels(&mut self, client: &mut Client) -> Result<Vec<String>, PluginError> {
        let wanted = client.settings.sales_channels.clone();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        if self.channels.is_none() {
            let rows = client.search_all(
                "sales_channel",
                json!({"includes": {"sales_channel": ["id", "name", "translated"]}}),
            )?;
            let mut ids = Vec::new();
            for wanted in &wanted {
                let found = rows.iter().find(|r| {
                    r["id"].as_str() == Some(wanted.as_str())
                        || name(r).is_some_and(|n| n.eq_ignore_ascii_case(wanted))
                });
                match found.and_then(|r| r["id"].as_str()) {
                    Some(id) => ids.push(id.to_string()),
                    None => {
                        return Err(PluginError::fatal(format!(
                            "plugin settings: sales channel {wanted:?} is not in the shop"
                        )));
                    }
                }
            }
            self.channels = Some(ids);
        }
        Ok(self.channels.clone().unwrap_or_default())
    }
}
