//! Writing products: created with everything, updated with only the fields the flow allows.
//!
//! A create is `POST /products`, then one `POST /producttocategories` per category, then the
//! variants' requests ([`crate::variants`]) and the properties' ([`crate::properties`]). An
//! update is one `PATCH /products/:id` with the allowed fields (none sent when none are allowed),
//! one read of the product's categories when "categories" is allowed (then only missing links are
//! posted), the variants' requests, and the properties' when "properties" is allowed.
//! The records of a batch run as interleaved jobs ([`crate::schedule`]).
//!
//! Creates are guarded like bookings: an intent is remembered before `POST /products` and
//! settled once the product is complete, so that a create whose answer was lost (a timeout, a
//! crash) is looked up by SKU before it is sent again, and never makes a second product.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use tillbridge_sdk::clock;
use tillbridge_sdk::types::{PluginError, Product, RecordResult, WriteAction};

use crate::catalogue;
use crate::client::operation;
use crate::errors::{Failure, RATE_LIMIT_WAIT_MS};
use crate::exports::tillbridge::plugin::products_sink::{ProductFields, ProductWrite};
use crate::memory::Intents;
use crate::packages;
use crate::pricing::{ccv_price, main_price, option_key};
use crate::properties::{self, Planned, Properties};
use crate::results::{Keyed, written};
use crate::schedule::{self, Job, Step};
use crate::settings::Ccv;
use crate::shop::{Shop, shop};
use crate::variants::{self, Attributes, VariantJob};
use crate::wire::{CategoryLink, Created, number, parse_id};

const INTENTS: Intents = Intents::new("products/intent/");

/// The product fields of `POST` (`create`, in `package`) or `PATCH /products/:id` that `fields`
/// allows.
pub fn product_body(
    product: &Product,
    fields: &ProductFields,
    create: bool,
    package: &mut packages::Lazy,
    shop: &Shop,
    ccv: &Ccv,
) -> Result<Map<String, Value>, PluginError> {
    let mut body = Map::new();
    let mut set = |name: &str, value: Value| {
        body.insert(name.to_string(), value);
    };
    if create {
        if product.name.trim().is_empty() {
            return Err(PluginError::invalid_field(
                format!("product {} has no name; CCV requires one", product.sku),
                "name",
            ));
        }
        set("productnumber", json!(product.sku));
        set("package_id", json!(package.id()?));
        if !product.variants.is_empty() {
            set("stocktype", json!("attribute_combination"));
            let managed = product.variants.iter().any(|v| v.stock.is_some());
            set("stockenabled", json!(managed));
        }
    }
    if fields.contains(ProductFields::NAME) && !product.name.trim().is_empty() {
        set("name", json!(product.name));
    }
    if let Some(text) = product
        .description
        .as_ref()
        .filter(|_| fields.contains(ProductFields::DESCRIPTION))
    {
        set("description", json!(text));
    }
    if let Some(text) = product
        .short_description
        .as_ref()
        .filter(|_| fields.contains(ProductFields::SHORT_DESCRIPTION))
    {
        set("shortdescription", json!(text));
    }
    if let Some(ean) = product
        .ean
        .as_ref()
        .filter(|_| fields.contains(ProductFields::EAN))
    {
        set("eannumber", json!(ean));
    }
    if fields.contains(ProductFields::ACTIVE) {
        set("active", json!(product.active));
    }
    if fields.contains(ProductFields::STOCK) && product.variants.is_empty() {
        set("stockenabled", json!(product.stock.is_some()));
        if let Some(stock) = product.stock {
            set("stock", json!(stock));
        }
    }
    match main_price(&product.prices, shop) {
        Some(price) if fields.contains(ProductFields::PRICE) => {
            let ccv_price = ccv_price(price, shop, &ccv.settings)?;
            set("price", number(ccv_price.amount, 4));
            // `price` is the price before discount; the webshop's price is what is paid.
            set("discount", json!(0));
            set("taxtariff", json!(ccv_price.tariff));
        }
        None if create => {
            return Err(PluginError::invalid_field(
                format!("product {} has no price; CCV requires one", product.sku),
                "prices",
            ));
        }
        _ => {}
    }
    Ok(body)
}

/// What every job of a batch shares.
pub struct Ctx<'a> {
    pub ccv: &'a Ccv,
    pub attributes: Attributes,
    pub properties: Properties,
    /// Set by the first 429: the batch stops, and what is left is handed back rate limited.
    pub halted: Option<u64>,
}

impl Ctx<'_> {
    /// The error of a failed request, noting a rate limit.
    pub fn failed(&mut self, failure: Failure) -> PluginError {
        if let PluginError::RateLimited(ms) = failure.error {
            self.halted.get_or_insert(ms);
        }
        failure.error
    }
}

/// One product's write in progress.
pub struct ProductJob<'a> {
    pub write: &'a ProductWrite,
    pub fields: ProductFields,
    pub categories: Vec<u64>,
    /// Created by this job: everything it has is new.
    pub new: bool,
    pub id: Option<u64>,
    /// Whether an update changed the product or its categories.
    pub changed: bool,
    /// The product's own failure: the create or update, a category link, a combination that
    /// could not be switched off.
    pub failure: Option<PluginError>,
    /// A `POST /products` was sent: the product may exist, so its intent stays unless the whole
    /// write succeeds.
    pub sent_create: bool,
    pub variants: VariantJob,
    /// The CCV properties it gets (on create, or on update when "properties" is allowed).
    pub properties: Vec<Planned>,
}

pub type ProductStep<'a> = Step<'a, Ctx<'a>, ProductJob<'a>>;

/// `write-products`: one result per product and one per variant, keyed by SKU.
pub fn write(ccv: &Ccv, writes: Vec<ProductWrite>) -> Result<Vec<RecordResult>, PluginError> {
    let shop = shop(ccv)?;
    let creates: Vec<&str> = writes
        .iter()
        .filter(|w| w.target_id.is_none())
        .map(|w| w.product.sku.as_str())
        .collect();
    // Creates whose answer was lost last time: look them up before sending them again.
    let unsettled: Vec<&str> = creates
        .iter()
        .zip(INTENTS.sent_at(&creates))
        .filter_map(|(sku, at)| at.map(|_| *sku))
        .collect();
    let found = catalogue::lookup(ccv, &unsettled)?;
    let to_create: Vec<&str> = creates
        .iter()
        .copied()
        .filter(|s| !found.contains_key(*s))
        .collect();
    INTENTS.open(&to_create, clock::now_millis());
    catalogue::writing(writes.iter().flat_map(|w| {
        std::iter::once(w.product.sku.as_str())
            .chain(w.product.variants.iter().map(|v| v.sku.as_str()))
    }));
    let mut package = packages::Lazy::new(ccv);

    let mut ctx = Ctx {
        ccv,
        attributes: Attributes::new(&ccv.settings.attribute_type),
        properties: Properties::default(),
        halted: None,
    };
    let mut jobs: Vec<Job<Ctx, ProductJob>> = Vec::new();
    let mut refused: Vec<Option<Keyed>> = Vec::new();
    for w in &writes {
        let target = match (&w.target_id, found.get(&w.product.sku)) {
            (Some(id), _) => parse_id(id, "product").map(|id| Some((id, w.update_fields))),
            // Created last time after all: complete it as the create would have.
            (None, Some(hit)) => Ok(Some((hit.product.id, ProductFields::all()))),
            (None, None) => Ok(None),
        };
        match target.and_then(|target| job(&mut ctx, &mut package, &shop, w, target)) {
            Ok(job) => {
                jobs.push(job);
                refused.push(None);
            }
            Err(problem) => refused.push(Some(every_key(w, problem))),
        }
    }
    schedule::run(&mut ctx, &mut jobs, |ctx| ctx.halted.is_some());

    let wait = ctx.halted.unwrap_or(RATE_LIMIT_WAIT_MS);
    let mut jobs = jobs.into_iter();
    let mut results = Vec::new();
    let mut settled: Vec<&str> = Vec::new();
    for (w, refusal) in writes.iter().zip(refused) {
        let outcome = match refusal {
            // Refused before anything was sent: nothing to look up later.
            Some(outcome) => {
                settled.push(&w.product.sku);
                outcome
            }
            None => {
                let job = jobs.next().expect("one job per write not refused");
                let unfinished = !job.finished();
                let (outcome, keep_intent) = finish(job.state, unfinished, wait);
                if !keep_intent {
                    settled.push(&w.product.sku);
                }
                outcome
            }
        };
        results.extend(
            outcome
                .into_iter()
                .map(|(key, outcome)| RecordResult { key, outcome }),
        );
    }
    let settled: Vec<&str> = settled
        .into_iter()
        .filter(|s| creates.contains(s))
        .collect();
    INTENTS.settle(&settled);
    Ok(results)
}

/// The same failure for the product and each of its variants.
fn every_key(w: &ProductWrite, error: PluginError) -> Keyed {
    std::iter::once(&w.product.sku)
        .chain(w.product.variants.iter().map(|v| &v.sku))
        .map(|key| (key.clone(), Err(error.clone())))
        .collect()
}

/// The job that writes `w`: an update of `target`, or a create. What is wrong with the record
/// is found here, before anything is sent.
fn job<'a>(
    ctx: &mut Ctx<'a>,
    package: &mut packages::Lazy,
    shop: &'a Shop,
    w: &'a ProductWrite,
    target: Option<(u64, ProductFields)>,
) -> Result<Job<'a, Ctx<'a>, ProductJob<'a>>, PluginError> {
    let (id, fields) = match target {
        Some((id, fields)) => (Some(id), fields),
        None => (None, ProductFields::all()),
    };
    let body = product_body(&w.product, &fields, id.is_none(), package, shop, ctx.ccv)?;
    let planned = if fields.contains(ProductFields::PROPERTIES) {
        ctx.properties
            .plan(ctx.ccv, &w.product.sku, &w.product.properties)?
    } else {
        Vec::new()
    };
    let categories = w
        .categories
        .iter()
        .map(|c| parse_id(c, "category"))
        .collect::<Result<Vec<u64>, _>>()?;
    let variants = VariantJob::new(&w.product, shop, &fields, id.is_none())?;
    let state = ProductJob {
        write: w,
        fields,
        categories,
        new: false,
        id,
        changed: false,
        failure: None,
        sent_create: false,
        variants,
        properties: planned,
    };
    let steps = match id {
        None => vec![create_step(body)],
        Some(id) if !body.is_empty() => vec![update_step(id, body)],
        Some(_) => after_product(&state),
    };
    let expected = expected_requests(&state, id);
    Ok(Job::new(state, steps, expected))
}

/// The requests a product's write will probably send, per operation (for the scheduler).
fn expected_requests(job: &ProductJob, id: Option<u64>) -> Vec<(String, usize)> {
    let variants = job.write.product.variants.len();
    let values: BTreeSet<_> = job
        .write
        .product
        .variants
        .iter()
        .flat_map(|v| &v.options)
        .map(|o| option_key(&o.group, &o.value))
        .collect();
    let linking = if job.fields.contains(ProductFields::CATEGORIES) {
        job.categories.len()
    } else {
        0
    };
    let own = match id {
        None => operation("POST", "products"),
        Some(_) => operation("PATCH", "products/0"),
    };
    let mut expected = vec![
        (own, 1),
        (operation("POST", "producttocategories"), linking),
    ];
    expected.extend(properties::expected(&job.properties, id.is_none()));
    if variants > 0 {
        expected.push((operation("GET", "products/0/attributecombinations"), 1));
        expected.push((operation("PATCH", "attributecombinations/0"), variants));
        if id.is_none() {
            expected.push((
                operation("POST", "products/0/productattributevalues"),
                values.len(),
            ));
        }
    }
    expected
}

fn create_step<'a>(body: Map<String, Value>) -> ProductStep<'a> {
    Step::new(
        operation("POST", "products"),
        move |ctx: &mut Ctx, job: &mut ProductJob| {
            job.sent_create = true;
            match ctx
                .ccv
                .api
                .post::<Created>("products", &Value::Object(body))
            {
                Ok(created) => {
                    job.id = Some(created.id);
                    job.new = true;
                    after_product(job)
                }
                Err(failure) => {
                    // Refused: certainly not created. Otherwise it may have been: looked up next time.
                    job.sent_create = !failure.refused();
                    job.failure = Some(if failure.refused() {
                        ctx.failed(failure)
                    } else {
                        failure.maybe_done()
                    });
                    Vec::new()
                }
            }
        },
    )
}

fn update_step<'a>(id: u64, body: Map<String, Value>) -> ProductStep<'a> {
    let path = format!("products/{id}");
    Step::new(
        operation("PATCH", &path),
        move |ctx: &mut Ctx, job: &mut ProductJob| match ctx.ccv.api.patch(
            &path,
            &Value::Object(body),
            true,
        ) {
            Ok(()) => {
                job.changed = true;
                after_product(job)
            }
            Err(failure) if failure.no_such_id() => {
                job.failure = Some(PluginError::NotFound(format!(
                    "product {} (CCV id {id}) is no longer in CCV",
                    job.write.product.sku
                )));
                Vec::new()
            }
            Err(failure) => {
                job.failure = Some(ctx.failed(failure));
                Vec::new()
            }
        },
    )
}

/// What follows the product itself: its categories, then its variants.
fn after_product<'a>(job: &ProductJob<'a>) -> Vec<ProductStep<'a>> {
    let id = job.id.expect("the product exists");
    let mut steps = Vec::new();
    if job.fields.contains(ProductFields::CATEGORIES) && !job.categories.is_empty() {
        if job.new {
            // A new product is in no category yet: no need to read.
            steps.extend(job.categories.iter().map(|c| link_step(id, *c)));
        } else {
            steps.push(read_links_step(id));
        }
    }
    steps.extend(variants::steps(job));
    steps.extend(properties::steps(job));
    steps
}

fn read_links_step<'a>(id: u64) -> ProductStep<'a> {
    let path = format!("products/{id}/producttocategories");
    Step::new(
        operation("GET", &path),
        move |ctx: &mut Ctx, job: &mut ProductJob| match ctx.ccv.api.all::<CategoryLink>(&path, &[])
        {
            Ok(links) => job
                .categories
                .iter()
                .filter(|c| !links.iter().any(|l| l.category_id == **c))
                .map(|c| link_step(id, *c))
                .collect(),
            Err(failure) => {
                job.failure = Some(unlinked(job, ctx.failed(failure)));
                Vec::new()
            }
        },
    )
}

fn link_step<'a>(product_id: u64, category_id: u64) -> ProductStep<'a> {
    Step::new(
        operation("POST", "producttocategories"),
        move |ctx: &mut Ctx, job: &mut ProductJob| {
            let body = json!({ "product_id": product_id, "category_id": category_id });
            match ctx.ccv.api.post::<Value>("producttocategories", &body) {
                Ok(_) => job.changed = true,
                Err(failure) if failure.already_exists() => {}
                Err(failure) => job.failure = Some(unlinked(job, ctx.failed(failure))),
            }
            Vec::new()
        },
    )
}

/// A link's failure, saying that the product itself is written.
fn unlinked(job: &ProductJob, error: PluginError) -> PluginError {
    partly_written(job, "its categories are not all linked", error)
}

/// The failure of a part of a product's write (`what` is not done), saying that the product
/// itself is written. A rate limit or a missing record says enough as it is.
pub fn partly_written(job: &ProductJob, what: &str, error: PluginError) -> PluginError {
    let context = format!(
        "product {} is in CCV as product {}, but {what}",
        job.write.product.sku,
        job.id.unwrap_or_default()
    );
    match error {
        PluginError::Invalid(mut problem) => {
            problem.message = format!("{context}: {}", problem.message);
            PluginError::Invalid(problem)
        }
        PluginError::Transient(m) => PluginError::Transient(format!("{context}: {m}")),
        PluginError::Fatal(m) => PluginError::Fatal(format!("{context}: {m}")),
        other => other,
    }
}

/// The results of a job, product first, and whether its create's intent must stay.
fn finish(job: ProductJob, unfinished: bool, wait: u64) -> (Keyed, bool) {
    let halted = PluginError::RateLimited(wait);
    let own = match (&job.failure, job.id) {
        (Some(failure), _) => Err(failure.clone()),
        (None, _) if unfinished => Err(halted.clone()),
        (None, Some(id)) => {
            let action = if job.new {
                WriteAction::Created
            } else if job.changed {
                WriteAction::Updated
            } else {
                WriteAction::Unchanged
            };
            Ok(written(id, action))
        }
        (None, None) => Err(halted.clone()),
    };
    let keep_intent = job.sent_create && own.is_err();
    let fallback = job.failure.clone().unwrap_or(halted);
    let mut results = vec![(job.write.product.sku.clone(), own)];
    results.extend(job.variants.results(&job.write.product, fallback));
    (results, keep_intent)
}
