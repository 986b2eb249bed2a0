//! Variants the CCV way. A variant is not posted: CCV generates a product's attribute
//! combinations itself, one per way of picking a value of each of its option-menu attributes.
//! So a configurable product is written as (each a step of the product's job, see
//! [`crate::schedule`]):
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
use tillbridge_sdk::types::{PluginError, Product, ProductVariant, WriteAction, Written};

use crate::client::operation;
use crate::errors::Failure;
use crate::exports::tillbridge::plugin::products_sink::ProductFields;
use crate::memory;
use crate::pricing::{
    PricedVariant, Surcharges, in_shop_terms, main_price, option_key, surcharges,
};
use crate::products::{Ctx, ProductJob, ProductStep};
use crate::results::{Keyed, written};
use crate::schedule::Step;
use crate::settings::Ccv;
use crate::shop::Shop;
use crate::wire::{Combination, Created, Named, number};

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
            // CCV's input schema requires `default_price` as well as `name`; the product's own
            // surcharge goes on its product attribute value, so the value's default is none.
            None => {
                let body = json!({ "name": value.trim(), "default_price": 0 });
                ccv.api.post::<Created>(&path, &body)?.id
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

/// The variants part of a product's write, in progress.
pub struct VariantJob {
    /// Variants CCV can make (indexes into the product's variants); the others are refused.
    valid: Vec<usize>,
    surcharges: Surcharges,
    /// The product's combinations, as last read.
    combinations: Vec<Combination>,
    /// Combinations that existed before this job offered new values.
    before: BTreeSet<u64>,
    /// One result per variant SKU, as they come.
    done: HashMap<String, Result<Written, PluginError>>,
    /// Stops the variants' remaining steps (a failed offer or read).
    failure: Option<PluginError>,
}

impl VariantJob {
    /// Checks the variants and fits their prices, before anything is sent.
    pub fn new(
        product: &Product,
        shop: &Shop,
        fields: &ProductFields,
        create: bool,
    ) -> Result<VariantJob, PluginError> {
        let (valid, refused) = check(&product.variants);
        let priced = |prices: &[tillbridge_sdk::types::Price]| {
            main_price(prices, shop)
                .map(|p| in_shop_terms(p, shop.prices_include_vat))
                .transpose()
        };
        let fitted = match priced(&product.prices)? {
            Some(base)
                if !product.variants.is_empty()
                    && (create || fields.contains(ProductFields::PRICE)) =>
            {
                let variants = product
                    .variants
                    .iter()
                    .map(|v| {
                        let options = v
                            .options
                            .iter()
                            .map(|o| (o.group.clone(), o.value.clone()))
                            .collect();
                        Ok((options, priced(&v.prices)?))
                    })
                    .collect::<Result<Vec<PricedVariant>, PluginError>>()?;
                surcharges(base, &variants)
            }
            _ => Surcharges::default(),
        };
        Ok(VariantJob {
            valid,
            surcharges: fitted,
            combinations: Vec::new(),
            before: BTreeSet::new(),
            done: refused.into_iter().collect(),
            failure: None,
        })
    }

    /// One result per variant, in the product's order; a variant not reached gets `fallback`.
    pub fn results(mut self, product: &Product, fallback: PluginError) -> Keyed {
        let fallback = self.failure.take().unwrap_or(fallback);
        product
            .variants
            .iter()
            .map(|v| {
                let result = self
                    .done
                    .remove(&v.sku)
                    .unwrap_or_else(|| Err(fallback.clone()));
                (v.sku.clone(), result)
            })
            .collect()
    }
}

/// Variants CCV can make: with options, each set of options once.
fn check(variants: &[ProductVariant]) -> (Vec<usize>, Keyed) {
    let mut valid = Vec::new();
    let mut refused = Vec::new();
    let mut seen: HashMap<OptionSet, &str> = HashMap::new();
    for (i, variant) in variants.iter().enumerate() {
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
                valid.push(i);
            }
        }
    }
    (valid, refused)
}

/// The steps that write a product's variants, once the product exists: a new product's values
/// are offered at once; an existing product's combinations are read first.
pub fn steps<'a>(job: &ProductJob<'a>) -> Vec<ProductStep<'a>> {
    let product = &job.write.product;
    let id = job.id.expect("the product exists");
    if job.variants.valid.is_empty() {
        return Vec::new();
    }
    if job.new {
        let all: Vec<&ProductVariant> = job
            .variants
            .valid
            .iter()
            .map(|i| &product.variants[*i])
            .collect();
        let mut steps = offer_steps(id, &all, &[]);
        steps.push(read_step(id, true));
        steps
    } else {
        vec![read_step(id, false)]
    }
}

/// `GET /products/:id/attributecombinations`; then what follows from them.
fn read_step<'a>(id: u64, after_offers: bool) -> ProductStep<'a> {
    let path = format!("products/{id}/attributecombinations");
    Step::new(
        operation("GET", &path),
        move |ctx: &mut Ctx, job: &mut ProductJob<'a>| {
            if job.variants.failure.is_some() {
                return Vec::new();
            }
            let combinations: Vec<Combination> = match ctx.ccv.api.all(&path, &[]) {
                Ok(combinations) => combinations,
                Err(failure) => {
                    job.variants.failure = Some(ctx.failed(failure));
                    return Vec::new();
                }
            };
            let missing: Vec<&'a ProductVariant> = job
                .variants
                .valid
                .iter()
                .map(|i| &job.write.product.variants[*i])
                .filter(|v| matching(&combinations, v, &BTreeSet::new()).is_none())
                .collect();
            if !after_offers && !missing.is_empty() && job.fields.contains(ProductFields::VARIANTS)
            {
                job.variants.before = combinations.iter().map(|c| c.id).collect();
                let mut steps = offer_steps(id, &missing, &combinations);
                steps.push(read_step(id, true));
                return steps;
            }
            job.variants.combinations = combinations;
            apply_steps(job)
        },
    )
}

/// One `POST /products/:id/productattributevalues` per value the missing variants need (in
/// attribute order), each with its surcharge.
fn offer_steps<'a>(
    id: u64,
    missing: &[&ProductVariant],
    offered: &[Combination],
) -> Vec<ProductStep<'a>> {
    let offered: BTreeSet<(String, String)> =
        offered.iter().flat_map(options_of_combination).collect();
    let mut groups: Vec<String> = Vec::new();
    let mut wanted: Vec<(String, String)> = Vec::new();
    for option in missing.iter().flat_map(|v| &v.options) {
        let key = option_key(&option.group, &option.value);
        if !groups.contains(&key.0) {
            groups.push(key.0.clone());
        }
        if !offered.contains(&key) && !wanted.iter().any(|(g, v)| option_key(g, v) == key) {
            wanted.push((option.group.clone(), option.value.clone()));
        }
    }
    wanted.sort_by_key(|(group, _)| groups.iter().position(|g| *g == option_key(group, "").0));
    wanted
        .into_iter()
        .map(|(group, value)| offer_step(id, group, value))
        .collect()
}

fn offer_step<'a>(id: u64, group: String, value: String) -> ProductStep<'a> {
    let path = format!("products/{id}/productattributevalues");
    Step::new(
        operation("POST", &path),
        move |ctx: &mut Ctx, job: &mut ProductJob| {
            if job.variants.failure.is_some() {
                return Vec::new();
            }
            let surcharge = job
                .variants
                .surcharges
                .by_value
                .get(&option_key(&group, &value))
                .copied()
                .unwrap_or(Decimal::ZERO);
            if let Err(failure) = offer(ctx, &path, &group, &value, surcharge) {
                job.variants.failure = Some(ctx.failed(failure));
            }
            Vec::new()
        },
    )
}

/// Offers the product in one value; an offer that exists already is fine.
fn offer(
    ctx: &mut Ctx,
    path: &str,
    group: &str,
    value: &str,
    surcharge: Decimal,
) -> Result<(), Failure> {
    let mut retried = false;
    loop {
        let value_id = ctx.attributes.value_id(ctx.ccv, group, value)?;
        let body = json!({ "optionvalue": value_id, "price": number(surcharge, 4) });
        match ctx.ccv.api.post::<Value>(path, &body) {
            Ok(_) => return Ok(()),
            Err(failure) if failure.already_exists() => return Ok(()),
            // A remembered value that was deleted in CCV: forget, look up again, once.
            Err(failure) if failure.status == 400 && !retried => {
                ctx.attributes.forget();
                retried = true;
            }
            Err(failure) => return Err(failure),
        }
    }
}

/// Matches the variants to the combinations just read; a step per combination to change.
fn apply_steps<'a>(job: &mut ProductJob<'a>) -> Vec<ProductStep<'a>> {
    let variants = &job.write.product.variants;
    let state = &mut job.variants;
    let adding = job.new || job.fields.contains(ProductFields::VARIANTS);
    let mut used: BTreeSet<u64> = BTreeSet::new();
    let mut steps = Vec::new();
    for &i in &state.valid {
        let variant = &variants[i];
        let Some(combination) = matching(&state.combinations, variant, &used) else {
            let why = if adding {
                "CCV generated no combination with its options"
            } else {
                "it is not in CCV, and this flow's update-fields exclude \"variants\""
            };
            let problem =
                PluginError::invalid_field(format!("variant {}: {why}", variant.sku), "variants");
            state.done.insert(variant.sku.clone(), Err(problem));
            continue;
        };
        used.insert(combination.id);
        let is_new = job.new
            || (!state.before.is_empty() && !state.before.contains(&combination.id))
            || unclaimed(combination);
        let patch = combination_patch(combination, variant, &job.fields, is_new);
        let action = match (is_new, patch.is_empty()) {
            (true, _) => WriteAction::Created,
            (false, true) => WriteAction::Unchanged,
            (false, false) => WriteAction::Updated,
        };
        let misfit = state.surcharges.misfits.contains(&i);
        if patch.is_empty() {
            state.done.insert(
                variant.sku.clone(),
                outcome(variant, combination.id, action, misfit),
            );
        } else {
            steps.push(patch_step(combination.id, patch, i, action, misfit));
        }
    }
    if adding {
        // Combinations no variant asked for (a size not made in that colour) are switched off.
        for combination in state
            .combinations
            .iter()
            .filter(|c| !used.contains(&c.id) && c.active)
        {
            steps.push(switch_off_step(combination.id));
        }
    }
    steps
}

/// A combination no variant has been given yet (no SKU) that holds no stock: one CCV generated
/// for an offer whose answer was lost (the run failed before its patch), or one a merchant made
/// and never counted. It is patched as new, initial stock included: otherwise a variant whose
/// first write was cut short would never get its stock. Counted stock is never overwritten.
fn unclaimed(combination: &Combination) -> bool {
    combination.sku_number.is_empty() && combination.stock.is_zero()
}

/// A variant's result; one whose price CCV cannot give fails, saying so.
fn outcome(
    variant: &ProductVariant,
    id: u64,
    action: WriteAction,
    misfit: bool,
) -> Result<Written, PluginError> {
    if misfit {
        return Err(PluginError::invalid_field(
            format!(
                "variant {} is in CCV, but not at its own price: CCV prices a variant as its \
                 product's price plus a surcharge per option value, and this variant's price does \
                 not fit that; give the variants prices that differ by one option",
                variant.sku
            ),
            "prices",
        ));
    }
    Ok(written(id, action))
}

/// `PATCH /attributecombinations/:id`: absolute values, so the host may resend it.
fn patch_step<'a>(
    id: u64,
    patch: Map<String, Value>,
    variant: usize,
    action: WriteAction,
    misfit: bool,
) -> ProductStep<'a> {
    let path = format!("attributecombinations/{id}");
    Step::new(
        operation("PATCH", &path),
        move |ctx: &mut Ctx, job: &mut ProductJob| {
            let variant = &job.write.product.variants[variant];
            let result = match ctx.ccv.api.patch(&path, &Value::Object(patch), true) {
                Ok(()) => outcome(variant, id, action, misfit),
                Err(failure) => Err(ctx.failed(failure)),
            };
            job.variants.done.insert(variant.sku.clone(), result);
            Vec::new()
        },
    )
}

fn switch_off_step<'a>(id: u64) -> ProductStep<'a> {
    let path = format!("attributecombinations/{id}");
    Step::new(
        operation("PATCH", &path),
        move |ctx: &mut Ctx, job: &mut ProductJob| {
            if let Err(failure) = ctx.ccv.api.patch(&path, &json!({ "active": false }), true) {
                let error = ctx.failed(failure);
                job.failure.get_or_insert(error);
            }
            Vec::new()
        },
    )
}

/// The combination of a variant, not yet used by another: by SKU, else by options.
fn matching<'c>(
    combinations: &'c [Combination],
    variant: &ProductVariant,
    used: &BTreeSet<u64>,
) -> Option<&'c Combination> {
    let free = || combinations.iter().filter(|c| !used.contains(&c.id));
    free()
        .find(|c| !c.sku_number.is_empty() && c.sku_number == variant.sku)
        .or_else(|| {
            let wanted = options_of(variant);
            free().find(|c| options_of_combination(c) == wanted)
        })
}

/// What to set on a combination: its SKU, and as allowed its EAN, stock and active flag; only
/// what differs.
fn combination_patch(
    combination: &Combination,
    variant: &ProductVariant,
    fields: &ProductFields,
    new: bool,
) -> Map<String, Value> {
    let mut patch = Map::new();
    if combination.sku_number != variant.sku {
        patch.insert("sku_number".into(), json!(variant.sku));
    }
    if let Some(ean) = &variant.ean
        && (new || fields.contains(ProductFields::EAN))
        && combination.ean_number != *ean
    {
        patch.insert("ean_number".into(), json!(ean));
    }
    if let Some(stock) = variant.stock
        && (new || fields.contains(ProductFields::STOCK))
        && combination.stock != Decimal::from(stock)
    {
        patch.insert("stock".into(), json!(stock));
    }
    if (new || fields.contains(ProductFields::ACTIVE)) && combination.active != variant.active {
        patch.insert("active".into(), json!(variant.active));
    }
    patch
}
