//! Variants the CCV way. A variant is not posted: CCV generates a product's attribute
//! combinations itself, one per way of picking a value of each of its option-menu attributes.
//! So a configurable product is written as:
//! 1. its attributes (Size) and attribute values (S, M, L), found by name or created — shared
//!    by all products and remembered, so each costs requests once;
//! 2. one `POST /products/:id/productattributevalues` per value the product is offered in, with
//!    its surcharge (3 sizes × 2 colours: 5 posts);
//! 3. one `GET /products/:id/attributecombinations` for what CCV generated;
//! 4. one `PATCH /attributecombinations/:id` per variant for its SKU, EAN, stock and active flag
//!    (6), and one per generated combination no variant asked for, to switch it off.
//!
//! Combinations are matched to variants by SKU, else by their option names (case-insensitive).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};
use tillbridge_sdk::decimal::Decimal;
use tillbridge_sdk::types::{PluginError, ProductVariant, WriteAction, Written};

use crate::errors::Failure;
use crate::memory;
use crate::pricing::{Surcharges, option_key};
use crate::products::Fields;
use crate::results::written;
use crate::settings::Ccv;
use crate::wire::{Combination, Created, Named, number};

/// One result per variant, keyed by its SKU.
pub type VariantResults = Vec<(String, Result<Written, PluginError>)>;

/// A variant's options as matched: sorted (group, value) names.
type OptionSet = BTreeSet<(String, String)>;

fn options_of(variant: &ProductVariant) -> OptionSet {
    variant
        .options
        .iter()
        .map(|o| option_key(&o.group, &o.value))
        .collect()
}

fn options_of_combination(combination: &Combination) -> OptionSet {
    let name = |n: &Named| n.name.clone().unwrap_or_default();
    combination
        .combination
        .iter()
        .map(|part| option_key(&name(&part.attribute), &name(&part.attribute_value)))
        .collect()
}

/// CCV's attributes and values by name, as far as this call has needed them. A name missing
/// from memory is looked up in CCV once per call (it may have been made there), then created.
pub struct Attributes {
    kind: String,
    ids: Option<HashMap<String, u64>>,
    values: HashMap<u64, HashMap<String, u64>>,
    /// Whether this call has read the attributes, and the values of which attributes.
    listed: bool,
    listed_values: BTreeSet<u64>,
}

impl Attributes {
    const KEY: &str = "attributes";

    pub fn new(kind: &str) -> Self {
        Attributes {
            kind: kind.to_string(),
            ids: None,
            values: HashMap::new(),
            listed: false,
            listed_values: BTreeSet::new(),
        }
    }

    fn values_key(attribute: u64) -> String {
        format!("attributes/{attribute}/values")
    }

    /// The id of `value` of attribute `group`, found or created.
    pub fn value_id(&mut self, ccv: &Ccv, group: &str, value: &str) -> Result<u64, Failure> {
        let (group_key, value_key) = option_key(group, value);
        let attribute = self.attribute_id(ccv, group, &group_key)?;
        let values = self
            .values
            .entry(attribute)
            .or_insert_with(|| memory::get_json(&Self::values_key(attribute)).unwrap_or_default());
        if let Some(id) = values.get(&value_key) {
            return Ok(*id);
        }
        let path = format!("attributes/{attribute}/attributevalues");
        if self.listed_values.insert(attribute) {
            values.extend(by_name(ccv.api.all(&path, &[])?));
        }
        let id = match values.get(&value_key) {
            Some(id) => *id,
            None => {
                ccv.api
                    .post::<Created>(&path, &json!({ "name": value.trim() }))?
                    .id
            }
        };
        values.insert(value_key, id);
        memory::set_json(&Self::values_key(attribute), values);
        Ok(id)
    }

    fn attribute_id(&mut self, ccv: &Ccv, group: &str, key: &str) -> Result<u64, Failure> {
        let ids = self
            .ids
            .get_or_insert_with(|| memory::get_json(Self::KEY).unwrap_or_default());
        if let Some(id) = ids.get(key) {
            return Ok(*id);
        }
        if !self.listed {
            self.listed = true;
            ids.extend(by_name(ccv.api.all("attributes", &[])?));
        }
        let id = match ids.get(key) {
            Some(id) => *id,
            None => {
                let body = json!({ "name": group.trim(), "type": self.kind });
                ccv.api.post::<Created>("attributes", &body)?.id
            }
        };
        ids.insert(key.to_string(), id);
        memory::set_json(Self::KEY, ids);
        Ok(id)
    }

    /// Forgets what is remembered (after CCV said a remembered id is gone).
    pub fn forget(&mut self) {
        self.ids = Some(HashMap::new());
        self.values.clear();
        self.listed = false;
        self.listed_values.clear();
        memory::set_json(Self::KEY, &HashMap::<String, u64>::new());
    }
}

/// Ids by lower-case name; the oldest wins.
fn by_name(items: Vec<Named>) -> HashMap<String, u64> {
    let mut ids = HashMap::new();
    for item in items {
        let name = item.name.unwrap_or_default().trim().to_lowercase();
        ids.entry(name).or_insert(item.id);
    }
    ids
}

/// What a variant product's write needs besides the connection.
pub struct Job<'a> {
    pub product_id: u64,
    pub variants: &'a [ProductVariant],
    pub fields: &'a Fields,
    pub surcharges: &'a Surcharges,
    /// A new product: every variant is created.
    pub new: bool,
}

/// Writes the variants of a product (see the module's steps).
pub fn write(ccv: &Ccv, job: &Job, attributes: &mut Attributes) -> VariantResults {
    let (valid, mut results) = check(job.variants);
    if valid.is_empty() {
        return results;
    }
    match write_valid(ccv, job, &valid, attributes) {
        Ok(done) => results.extend(done),
        Err(error) => {
            let error: PluginError = error.into();
            results.extend(valid.iter().map(|v| (v.sku.clone(), Err(error.clone()))));
        }
    }
    // In the order the variants came.
    let order: HashMap<&str, usize> = job
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| (v.sku.as_str(), i))
        .collect();
    results.sort_by_key(|(sku, _)| order.get(sku.as_str()).copied());
    results
}

/// Variants CCV can make: with options, each set of options once.
fn check(variants: &[ProductVariant]) -> (Vec<&ProductVariant>, VariantResults) {
    let mut valid = Vec::new();
    let mut refused = Vec::new();
    let mut seen: HashMap<OptionSet, &str> = HashMap::new();
    for variant in variants {
        let options = options_of(variant);
        let problem = if options.is_empty() {
            Some(
                "it has no options; CCV makes variants from attribute values (Size = M)"
                    .to_string(),
            )
        } else {
            seen.get(&options)
                .map(|other| format!("it has the same options as variant {other}"))
        };
        match problem {
            Some(why) => refused.push((
                variant.sku.clone(),
                Err(PluginError::invalid_field(
                    format!("variant {}: {why}", variant.sku),
                    "options",
                )),
            )),
            None => {
                seen.insert(options, &variant.sku);
                valid.push(variant);
            }
        }
    }
    (valid, refused)
}

fn write_valid(
    ccv: &Ccv,
    job: &Job,
    variants: &[&ProductVariant],
    attributes: &mut Attributes,
) -> Result<VariantResults, Failure> {
    let mut combinations = if job.new {
        Vec::new()
    } else {
        combinations_of(ccv, job.product_id)?
    };
    let missing: Vec<&ProductVariant> = variants
        .iter()
        .copied()
        .filter(|v| matching(&combinations, v).is_none())
        .collect();
    let mut created: BTreeSet<u64> = BTreeSet::new();
    if !missing.is_empty() && (job.new || job.fields.variants) {
        let before: BTreeSet<u64> = combinations.iter().map(|c| c.id).collect();
        offer(ccv, job, &missing, &combinations, attributes)?;
        combinations = combinations_of(ccv, job.product_id)?;
        created = combinations
            .iter()
            .map(|c| c.id)
            .filter(|id| !before.contains(id))
            .collect();
    }
    let mut results = VariantResults::new();
    let mut used: BTreeSet<u64> = BTreeSet::new();
    for variant in variants {
        let Some(combination) = matching(&combinations, variant).filter(|c| !used.contains(&c.id))
        else {
            let why = if job.new || job.fields.variants {
                "CCV generated no combination with its options"
            } else {
                "it is not in CCV, and this flow's update-fields exclude \"variants\""
            };
            results.push((
                variant.sku.clone(),
                Err(PluginError::invalid_field(
                    format!("variant {}: {why}", variant.sku),
                    "variants",
                )),
            ));
            continue;
        };
        used.insert(combination.id);
        let is_new = created.contains(&combination.id) || job.new;
        let misfit =
            index_in(job.variants, variant).is_some_and(|i| job.surcharges.misfits.contains(&i));
        let outcome = match update_combination(ccv, combination, variant, job.fields, is_new) {
            Ok(_) if misfit => Err(PluginError::invalid_field(
                format!(
                    "variant {} is in CCV, but not at its own price: CCV prices a variant as its \
                     product's price plus a surcharge per option value, and this variant's price \
                     does not fit that; give the variants prices that differ by one option",
                    variant.sku
                ),
                "prices",
            )),
            Ok(action) => Ok(written(combination.id, action)),
            Err(failure) => Err(failure.into()),
        };
        results.push((variant.sku.clone(), outcome));
    }
    if job.new || job.fields.variants {
        // Combinations no variant asked for (a size not made in that colour) are switched off.
        for combination in combinations
            .iter()
            .filter(|c| !used.contains(&c.id) && c.active)
        {
            ccv.api.patch(
                &format!("attributecombinations/{}", combination.id),
                &json!({ "active": false }),
                true,
            )?;
        }
    }
    Ok(results)
}

fn index_in(variants: &[ProductVariant], variant: &ProductVariant) -> Option<usize> {
    variants.iter().position(|v| v.sku == variant.sku)
}

/// The combination of a variant: by SKU, else by options.
fn matching<'c>(
    combinations: &'c [Combination],
    variant: &ProductVariant,
) -> Option<&'c Combination> {
    combinations
        .iter()
        .find(|c| !c.sku_number.is_empty() && c.sku_number == variant.sku)
        .or_else(|| {
            let wanted = options_of(variant);
            combinations
                .iter()
                .find(|c| options_of_combination(c) == wanted)
        })
}

/// `GET /products/:id/attributecombinations`, every page.
fn combinations_of(ccv: &Ccv, product_id: u64) -> Result<Vec<Combination>, Failure> {
    ccv.api
        .all(&format!("products/{product_id}/attributecombinations"), &[])
}

/// Offers the product in the values its missing variants need, each with its surcharge.
fn offer(
    ccv: &Ccv,
    job: &Job,
    missing: &[&ProductVariant],
    combinations: &[Combination],
    attributes: &mut Attributes,
) -> Result<(), Failure> {
    let offered: BTreeSet<(String, String)> = combinations
        .iter()
        .flat_map(options_of_combination)
        .collect();
    // Attribute by attribute (in the order they first appear), each one's values in order.
    let mut groups: Vec<String> = Vec::new();
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    for option in missing.iter().flat_map(|v| &v.options) {
        let key = option_key(&option.group, &option.value);
        if !groups.contains(&key.0) {
            groups.push(key.0.clone());
        }
        if !offered.contains(&key) && !wanted.iter().any(|(g, v)| option_key(g, v) == key) {
            wanted.push((option.group.as_str(), option.value.as_str()));
        }
    }
    wanted.sort_by_key(|(group, _)| groups.iter().position(|g| *g == option_key(group, "").0));
    for (group, value) in wanted {
        let surcharge = job
            .surcharges
            .by_value
            .get(&option_key(group, value))
            .copied()
            .unwrap_or(Decimal::ZERO);
        let path = format!("products/{}/productattributevalues", job.product_id);
        let mut retried = false;
        loop {
            let value_id = attributes.value_id(ccv, group, value)?;
            let body = json!({ "optionvalue": value_id, "price": number(surcharge, 4) });
            match ccv.api.post::<Value>(&path, &body) {
                Ok(_) => break,
                // Already offered: nothing to do.
                Err(failure) if failure.already_exists() => break,
                // A remembered value that was deleted in CCV: forget, look up again, once.
                Err(failure) if failure.status == 400 && !retried => {
                    attributes.forget();
                    retried = true;
                }
                Err(failure) => return Err(failure),
            }
        }
    }
    Ok(())
}

/// Sets a combination's SKU and, as allowed, EAN, stock and active flag; only what differs.
fn update_combination(
    ccv: &Ccv,
    combination: &Combination,
    variant: &ProductVariant,
    fields: &Fields,
    new: bool,
) -> Result<WriteAction, Failure> {
    let mut patch = Map::new();
    if combination.sku_number != variant.sku {
        patch.insert("sku_number".into(), json!(variant.sku));
    }
    if let Some(ean) = &variant.ean
        && (new || fields.ean)
        && combination.ean_number != *ean
    {
        patch.insert("ean_number".into(), json!(ean));
    }
    if let Some(stock) = variant.stock
        && (new || fields.stock)
        && combination.stock != Decimal::from(stock)
    {
        patch.insert("stock".into(), json!(stock));
    }
    if (new || fields.active) && combination.active != variant.active {
        patch.insert("active".into(), json!(variant.active));
    }
    let changed = !patch.is_empty();
    if changed {
        ccv.api.patch(
            &format!("attributecombinations/{}", combination.id),
            &Value::Object(patch),
            true,
        )?;
    }
    Ok(match (new, changed) {
        (true, _) => WriteAction::Created,
        (false, false) => WriteAction::Unchanged,
        (false, true) => WriteAction::Updated,
    })
}
