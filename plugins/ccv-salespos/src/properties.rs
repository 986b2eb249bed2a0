//! Product properties: CCV's information fields (country of origin, material), which make no
//! variants (FLOWS.md §3.4). CCV keeps them as product property groups, each with properties of a
//! type (text, option, checkbox), the options of option properties, a product's links to groups
//! (`producttopropertygroups`, "the place where you can add values") and its values
//! (`productpropertyvalues`: "an optionid when property type is option, string when else").
//!
//! A canonical property (`group` = "Material", `value` = "Stoneware") is the CCV property of that
//! name (case-insensitive, in any group) with that value. The connector creates no properties:
//! CCV documents no values of `type`, so the merchant makes them in the back office and maps the
//! flow's `properties` to their names (`tillbridge validate` lists what CCV has). It does create
//! options an option property lacks, as it creates attribute values.
//!
//! What CCV has is read once per call, when a call needs it: `GET /productpropertygroups` and
//! one `GET /productpropertygroups/:id/productproperties` per group; an option property's options
//! with one `GET /productproperties/:id/productpropertyoptions` when first needed.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;
use serde::de::Deserializer;
use serde_json::{Value, json};
use tillbridge_sdk::types::{OptionValue, PluginError};

use crate::client::operation;
use crate::errors::Failure;
use crate::products::{Ctx, ProductJob, ProductStep, partly_written};
use crate::schedule::Step;
use crate::settings::Ccv;
use crate::wire::{Created, Expanded};

/// A property as CCV has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub id: u64,
    pub group_id: u64,
    pub name: String,
    /// CCV's `type`: `option` takes an option's id, `checkbox` a boolean, others text.
    pub kind: String,
}

impl Property {
    fn is_option(&self) -> bool {
        self.kind.eq_ignore_ascii_case("option")
    }
}

/// A product's link to a property group, with its values (`GET /products/:id/producttopropertygroups`).
#[derive(Debug, Clone, Deserialize)]
pub struct Link {
    pub product_property_group_id: u64,
    #[serde(default)]
    pub values: Expanded<PropertyValue>,
}

/// A product's value of a property.
#[derive(Debug, Clone, Deserialize)]
pub struct PropertyValue {
    pub id: u64,
    pub product_property_id: u64,
    #[serde(default, deserialize_with = "scalar")]
    pub value: String,
}

/// A JSON scalar as text: CCV's schema says string, its description also "an boolean" and "an
/// optionid", so a number or a boolean is read too.
fn scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

#[derive(Debug, Deserialize)]
struct Named {
    id: u64,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// CCV's properties and options, as far as this call has read them.
#[derive(Debug, Default)]
pub struct Properties {
    /// Every property, by lower-case name (the oldest wins); none until read.
    by_name: Option<BTreeMap<String, Property>>,
    /// Options per property: (id, name), oldest first.
    options: HashMap<u64, Vec<(u64, String)>>,
}

/// A property to give a product: which, and the value as the source has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub property: Property,
    pub value: String,
}

impl Properties {
    /// Every property of the shop, read the first time.
    pub fn all(&mut self, ccv: &Ccv) -> Result<&BTreeMap<String, Property>, Failure> {
        if self.by_name.is_none() {
            let mut by_name = BTreeMap::new();
            let groups: Vec<Named> = ccv.api.all("productpropertygroups", &[])?;
            for group in groups {
                let path = format!("productpropertygroups/{}/productproperties", group.id);
                for p in ccv.api.all::<Named>(&path, &[])? {
                    by_name.entry(key(&p.name)).or_insert(Property {
                        id: p.id,
                        group_id: group.id,
                        name: p.name,
                        kind: p.kind.unwrap_or_default(),
                    });
                }
            }
            self.by_name = Some(by_name);
        }
        Ok(self.by_name.as_ref().expect("read above"))
    }

    /// The property with this id, if the shop has it.
    fn by_id(&mut self, ccv: &Ccv, id: u64) -> Result<Option<Property>, Failure> {
        Ok(self.all(ccv)?.values().find(|p| p.id == id).cloned())
    }

    /// Which CCV property each canonical property is, and what goes in it; a property CCV
    /// lacks, or cannot take from text, makes the product fail before anything is sent.
    pub fn plan(
        &mut self,
        ccv: &Ccv,
        sku: &str,
        wanted: &[OptionValue],
    ) -> Result<Vec<Planned>, PluginError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let all = self.all(ccv)?;
        wanted
            .iter()
            .filter(|p| !p.value.trim().is_empty())
            .map(|p| {
                let Some(property) = all.get(&key(&p.group)) else {
                    let known: Vec<&str> = all.values().map(|p| p.name.as_str()).collect();
                    return Err(PluginError::invalid_field(
                        format!(
                            "product {sku}: CCV has no product property {:?}; create it in the CCV \
                             back office (under a product property group) or map the flow's \
                             `properties` to one it has: {}",
                            p.group,
                            if known.is_empty() {
                                "none".into()
                            } else {
                                known.join(", ")
                            }
                        ),
                        "properties",
                    ));
                };
                if property.kind.eq_ignore_ascii_case("checkbox") {
                    return Err(PluginError::invalid_field(
                        format!(
                            "product {sku}: CCV product property {:?} is a checkbox; tillbridge \
                             writes text and option properties only (how CCV takes a checkbox's \
                             value is not documented)",
                            property.name
                        ),
                        "properties",
                    ));
                }
                Ok(Planned {
                    property: property.clone(),
                    value: p.value.trim().to_string(),
                })
            })
            .collect()
    }

    /// The options of an option property, read the first time.
    fn options(&mut self, ccv: &Ccv, property: u64) -> Result<&mut Vec<(u64, String)>, Failure> {
        match self.options.entry(property) {
            Entry::Occupied(known) => Ok(known.into_mut()),
            Entry::Vacant(slot) => {
                let path = format!("productproperties/{property}/productpropertyoptions");
                let mut read: Vec<(u64, String)> = ccv
                    .api
                    .all::<Named>(&path, &[])?
                    .into_iter()
                    .map(|o| (o.id, o.name))
                    .collect();
                read.sort_unstable();
                Ok(slot.insert(read))
            }
        }
    }

    /// What CCV stores for a planned value: an option's id (the option made when the property
    /// lacks it), else the text.
    fn stored(&mut self, ccv: &Ccv, planned: &Planned) -> Result<String, Failure> {
        if !planned.property.is_option() {
            return Ok(planned.value.clone());
        }
        let id = planned.property.id;
        let wanted = key(&planned.value);
        if let Some((option, _)) = self
            .options(ccv, id)?
            .iter()
            .find(|(_, name)| key(name) == wanted)
        {
            return Ok(option.to_string());
        }
        let path = format!("productproperties/{id}/productpropertyoptions");
        let created: Created = ccv.api.post(&path, &json!({ "name": planned.value }))?;
        self.options(ccv, id)?
            .push((created.id, planned.value.clone()));
        Ok(created.id.to_string())
    }

    /// A product's properties as the canonical model has them: (property name, value), an
    /// option property's value by the option's name. Values of properties the shop no longer
    /// lists are left out.
    pub fn read(&mut self, ccv: &Ccv, links: &[Link]) -> Result<Vec<OptionValue>, Failure> {
        let mut read = Vec::new();
        for value in links.iter().flat_map(|l| l.values.items()) {
            let Some(property) = self.by_id(ccv, value.product_property_id)? else {
                continue;
            };
            let text = if property.is_option() {
                let chosen = value.value.trim().parse::<u64>().ok();
                let options = self.options(ccv, property.id)?;
                match options.iter().find(|(id, _)| Some(*id) == chosen) {
                    Some((_, name)) => name.clone(),
                    None => continue,
                }
            } else {
                value.value.clone()
            };
            if !text.trim().is_empty() {
                read.push(OptionValue {
                    group: property.name,
                    value: text,
                });
            }
        }
        Ok(read)
    }
}

/// A product's links to property groups, with their values.
pub fn links(ccv: &Ccv, product: u64) -> Result<Vec<Link>, Failure> {
    ccv.api
        .all(&format!("products/{product}/producttopropertygroups"), &[])
}

/// The steps that give a product its planned properties, once it exists: a new product is
/// linked to the groups and given the values at once; an existing one's links are read first.
pub fn steps<'a>(job: &ProductJob<'a>) -> Vec<ProductStep<'a>> {
    let id = job.id.expect("the product exists");
    if job.properties.is_empty() {
        return Vec::new();
    }
    if job.new {
        write_steps(id, &job.properties, &[])
    } else {
        vec![read_step(id)]
    }
}

fn read_step<'a>(id: u64) -> ProductStep<'a> {
    let path = format!("products/{id}/producttopropertygroups");
    Step::new(
        operation("GET", &path),
        move |ctx: &mut Ctx, job: &mut ProductJob<'a>| match links(ctx.ccv, id) {
            Ok(current) => write_steps(id, &job.properties, &current),
            Err(failure) => {
                job.failure = Some(unwritten(job, ctx.failed(failure)));
                Vec::new()
            }
        },
    )
}

/// A link per group the product lacks, then a value per planned property (posted, or patched
/// when the product has another value of it).
fn write_steps<'a>(id: u64, planned: &[Planned], current: &[Link]) -> Vec<ProductStep<'a>> {
    let linked: BTreeSet<u64> = current
        .iter()
        .map(|l| l.product_property_group_id)
        .collect();
    let groups: BTreeSet<u64> = planned.iter().map(|p| p.property.group_id).collect();
    let mut steps: Vec<ProductStep<'a>> = groups
        .difference(&linked)
        .map(|group| link_step(id, *group))
        .collect();
    for planned in planned {
        let existing = current
            .iter()
            .flat_map(|l| l.values.items())
            .find(|v| v.product_property_id == planned.property.id)
            .cloned();
        steps.push(value_step(id, planned.clone(), existing));
    }
    steps
}

fn link_step<'a>(product: u64, group: u64) -> ProductStep<'a> {
    Step::new(
        operation("POST", "producttopropertygroups"),
        move |ctx: &mut Ctx, job: &mut ProductJob| {
            let body = json!({ "product_id": product, "product_property_group_id": group });
            match ctx.ccv.api.post::<Value>("producttopropertygroups", &body) {
                Ok(_) => job.changed = true,
                Err(failure) if failure.already_exists() => {}
                Err(failure) => job.failure = Some(unwritten(job, ctx.failed(failure))),
            }
            Vec::new()
        },
    )
}

fn value_step<'a>(
    product: u64,
    planned: Planned,
    existing: Option<PropertyValue>,
) -> ProductStep<'a> {
    let op = match &existing {
        Some(v) => operation("PATCH", &format!("productpropertyvalues/{}", v.id)),
        None => operation("POST", "productpropertyvalues"),
    };
    Step::new(op, move |ctx: &mut Ctx, job: &mut ProductJob| {
        if job.failure.is_some() {
            return Vec::new();
        }
        let written = ctx
            .properties
            .stored(ctx.ccv, &planned)
            .and_then(|stored| match &existing {
                Some(v) if v.value.trim() == stored => Ok(false),
                Some(v) => ctx
                    .ccv
                    .api
                    .patch(
                        &format!("productpropertyvalues/{}", v.id),
                        &json!({ "value": stored }),
                        true,
                    )
                    .map(|()| true),
                None => {
                    let body = json!({
                        "product_id": product,
                        "product_property_id": planned.property.id,
                        "value": stored,
                    });
                    ctx.ccv
                        .api
                        .post::<Value>("productpropertyvalues", &body)
                        .map(|_| true)
                }
            });
        match written {
            Ok(changed) => job.changed |= changed,
            Err(failure) => job.failure = Some(unwritten(job, ctx.failed(failure))),
        }
        Vec::new()
    })
}

/// A property's failure, saying that the product itself is written.
fn unwritten(job: &ProductJob, error: PluginError) -> PluginError {
    partly_written(job, "its properties are not all written", error)
}

/// The requests a product's properties will probably take, per operation.
pub fn expected(planned: &[Planned], new: bool) -> Vec<(String, usize)> {
    if planned.is_empty() {
        return Vec::new();
    }
    let groups: BTreeSet<u64> = planned.iter().map(|p| p.property.group_id).collect();
    let mut expected = vec![
        (operation("POST", "producttopropertygroups"), groups.len()),
        (operation("POST", "productpropertyvalues"), planned.len()),
    ];
    if !new {
        expected.push((operation("GET", "products/0/producttopropertygroups"), 1));
    }
    expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_text_whatever_json_carries_them() {
        let links: Vec<Link> = serde_json::from_str(
            r#"[{"product_property_group_id": 5, "values": {"collection": [
                {"id": 1, "product_property_id": 7, "value": "Stoneware"},
                {"id": 2, "product_property_id": 8, "value": 42},
                {"id": 3, "product_property_id": 9, "value": true}]}}]"#,
        )
        .unwrap();
        let values: Vec<&str> = links[0]
            .values
            .items()
            .iter()
            .map(|v| v.value.as_str())
            .collect();
        assert_eq!(values, ["Stoneware", "42", "true"]);
    }

    #[test]
    fn a_product_is_linked_once_per_group_and_given_each_value() {
        let property = |id, group| Property {
            id,
            group_id: group,
            name: format!("P{id}"),
            kind: "text".into(),
        };
        let planned = [
            Planned {
                property: property(7, 5),
                value: "a".into(),
            },
            Planned {
                property: property(8, 5),
                value: "b".into(),
            },
            Planned {
                property: property(9, 6),
                value: "c".into(),
            },
        ];
        let counts: BTreeMap<String, usize> = expected(&planned, true).into_iter().collect();
        assert_eq!(counts["POST /producttopropertygroups"], 2);
        assert_eq!(counts["POST /productpropertyvalues"], 3);
    }
}
