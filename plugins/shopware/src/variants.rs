//! Property groups and options, which make variants (Size = M) and properties (Country of
//! origin = Netherlands): found by name, and created when the shop lacks them, with ids derived
//! from the names so that creating twice creates once.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tillbridge_sdk::types::{OptionValue, PluginError};

use crate::catalog::{Catalog, Group};
use crate::client::Client;
use crate::ids;
use crate::lookup::norm;
use crate::sync::{self, Operation, Records};

/// A (group, value) pair, normalised for lookups.
pub fn key(option: &OptionValue) -> (String, String) {
    (norm(&option.group), norm(&option.value))
}

/// A group to make, or to add options to.
struct Missing {
    group: Group,
    new: bool,
    /// (option id, value) to make.
    options: Vec<(String, String)>,
}

/// What `ensure` found or made.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Option ids by normalised (group, value).
    pub ids: BTreeMap<(String, String), String>,
    /// Groups that could not be created, with the reason (their products fail with it).
    pub failed: BTreeMap<String, PluginError>,
}

impl Resolved {
    /// The option ids of these pairs, or the reason one is missing.
    pub fn ids_of(&self, options: &[OptionValue]) -> Result<Vec<String>, PluginError> {
        options
            .iter()
            .map(|o| match self.ids.get(&key(o)) {
                Some(id) => Ok(id.clone()),
                None => Err(self
                    .failed
                    .get(&norm(&o.group))
                    .cloned()
                    .unwrap_or_else(|| {
                        PluginError::invalid(format!(
                            "option {} = {} could not be made",
                            o.group, o.value
                        ))
                    })),
            })
            .collect()
    }
}

/// The option ids of every pair, creating missing groups and options in one sync request
/// (none when all exist).
pub fn ensure(
    client: &mut Client,
    catalog: &mut Catalog,
    pairs: &[OptionValue],
) -> Result<Resolved, PluginError> {
    let mut groups: Vec<String> = pairs.iter().map(|p| p.group.trim().to_string()).collect();
    groups.sort();
    groups.dedup_by(|a, b| norm(a) == norm(b));
    catalog.load_groups(client, &groups)?;
    let mut resolved = Resolved::default();
    // Per group: the group (existing or to make) and the options to add to it.
    let mut missing: BTreeMap<String, Missing> = BTreeMap::new();
    for pair in pairs {
        let (group_key, value_key) = key(pair);
        if group_key.is_empty() || value_key.is_empty() {
            continue;
        }
        let known = catalog.groups.get(&group_key);
        if let Some(id) = known.and_then(|g| g.options.get(&value_key)) {
            resolved.ids.insert((group_key, value_key), id.clone());
            continue;
        }
        let entry = missing
            .entry(group_key.clone())
            .or_insert_with(|| match known {
                Some(group) => Missing {
                    group: group.clone(),
                    new: false,
                    options: Vec::new(),
                },
                None => Missing {
                    group: Group {
                        id: ids::derive("property_group", &group_key),
                        name: pair.group.trim().to_string(),
                        ..Group::default()
                    },
                    new: true,
                    options: Vec::new(),
                },
            });
        if !entry.options.iter().any(|(_, v)| norm(v) == value_key) {
            let id = ids::derive(
                "property_group_option",
                &format!("{}/{value_key}", entry.group.id),
            );
            entry.options.push((id, pair.value.trim().to_string()));
        }
    }
    if missing.is_empty() {
        return Ok(resolved);
    }
    let mut records = Records::default();
    let mut operation = Operation::upsert("groups", "property_group");
    for Missing {
        group,
        new,
        options,
    } in missing.values()
    {
        let record = records.add(&group.name, None);
        let options: Vec<Value> = options
            .iter()
            .map(|(id, value)| json!({"id": id, "name": value}))
            .collect();
        let row = if *new {
            json!({"id": group.id, "name": group.name, "displayType": "text",
                   "sortingType": "alphanumeric", "options": options})
        } else {
            json!({"id": group.id, "options": options})
        };
        operation.push(Some(record), row);
    }
    let failed = sync::run(client, &[operation], &records, "sync property groups")?;
    for (record, (group_key, Missing { group, options, .. })) in missing.into_iter().enumerate() {
        if let Some(error) = failed.get(&record) {
            resolved.failed.insert(group_key, error.clone());
            continue;
        }
        for (id, value) in options {
            catalog.learn_option(&group, &value, &id);
            resolved.ids.insert((group_key.clone(), norm(&value)), id);
        }
    }
    Ok(resolved)
}

/// The parent's configurator settings for its variants' options (which values the storefront
/// offers) that it lacks, with ids derived from parent and option, placed after the `present`
/// ones. A setting is unique per product and option (SW@v6.4.20.2:
/// `Migration1618989442AddProductConfigurationSettingsUniqKey`): writing one again under
/// another id is refused, so options the product offers already (the merchant's, made in the
/// Admin with ids of its own) are left as they are.
pub fn configurator(parent_id: &str, option_ids: &[String], present: &[String]) -> Vec<Value> {
    let mut seen: Vec<&String> = present.iter().collect();
    option_ids
        .iter()
        .filter(|id| {
            let new = !seen.contains(id);
            seen.push(*id);
            new
        })
        .enumerate()
        .map(|(i, option)| {
            let position = present.len() + i;
            json!({"id": ids::derive("product_configurator_setting", &format!("{parent_id}/{option}")),
                   "optionId": option, "position": position})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurator_settings_are_one_per_option_with_stable_ids() {
        let settings = configurator("p", &["a".into(), "b".into(), "a".into()], &[]);
        assert_eq!(settings.len(), 2);
        assert_eq!(settings[1]["position"], 1);
        assert_eq!(
            settings[0]["id"],
            configurator("p", &["a".into()], &[])[0]["id"]
        );
    }

    #[test]
    fn options_the_product_offers_already_get_no_second_setting() {
        let settings = configurator("p", &["a".into(), "b".into()], &["a".into()]);
        assert_eq!(settings.len(), 1);
        assert_eq!(settings[0]["optionId"], "b");
        assert_eq!(settings[0]["position"], 1, "after the present one");
    }
}
