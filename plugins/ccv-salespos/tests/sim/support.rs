//! A simulator and the connector loaded in the host's runtime, with the grants a connection gets.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use tillbridge::egress::{AllowList, Pacer, RateLimits as PaceLimits};
use tillbridge::runtime::{Grants, Kv, Limits, Plugin, Runtime, Session};
use tillbridge_sim::ccv::{CcvOptions, CcvSim, RateLimits, Seed};
use tillbridge_sim::common::JournalEntry;
use tillbridge_sim::dataset::Dataset;

/// One compile cache for the whole test binary: the component is compiled once.
fn cache_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .join("cache")
}

/// A simulator and the connector, ready to open sessions.
pub struct Pos {
    pub sim: CcvSim,
    pub kv: Kv,
    pub settings: Value,
    pub pacer: Option<Arc<Pacer>>,
    pub http_timeout: Duration,
    plugin: Plugin,
    _runtime: Runtime,
}

impl Pos {
    pub async fn start(options: CcvOptions) -> Pos {
        let sim = CcvSim::start(options).await.expect("the simulator starts");
        let runtime = Runtime::new(&cache_dir()).unwrap();
        let bytes = tillbridge::builtin::get("ccv-salespos").unwrap().bytes;
        // One load at a time: the host's compile cache names its temporary file by process, so
        // two first compiles in one process collide (see the report).
        static LOADING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let plugin = {
            let _one = LOADING.lock().unwrap_or_else(|e| e.into_inner());
            runtime.load("ccv-salespos", bytes).unwrap()
        };
        let settings = json!({ "url": sim.base_url() });
        Pos {
            sim,
            kv: Kv::memory(),
            settings,
            pacer: None,
            http_timeout: Duration::from_secs(10),
            plugin,
            _runtime: runtime,
        }
    }

    /// An empty POS.
    pub async fn empty() -> Pos {
        Pos::start(CcvOptions::default()).await
    }

    /// The POS of the demo dataset.
    pub async fn demo() -> Pos {
        Pos::start(CcvOptions {
            seed: Seed::Dataset(Dataset::demo()),
            ..CcvOptions::default()
        })
        .await
    }

    /// What the connection grants the connector.
    pub fn grants(&self) -> Grants {
        let mut grants = Grants::minimal("ccv-salespos@pos", Limits::CONNECTOR)
            .with_settings(self.settings.clone());
        grants.secrets = BTreeMap::from([
            ("public_key".to_string(), self.sim.public_key().to_string()),
            ("secret".to_string(), self.sim.secret().to_string()),
        ]);
        grants.allowed_hosts =
            AllowList::new(&[AllowList::entry_for(self.sim.base_url()).unwrap()]);
        grants.kv = self.kv.clone();
        grants.pacer = self.pacer.clone();
        grants.http_timeout = self.http_timeout;
        grants
    }

    /// A fresh instance of the connector (a new run), sharing the remembered state.
    pub async fn session(&self) -> Session {
        self.plugin.session(self.grants()).await.unwrap()
    }

    /// An instance with other grants.
    pub async fn session_with(&self, grants: Grants) -> Session {
        self.plugin.session(grants).await.unwrap()
    }

    /// Paces requests under these limits, as the host does for a connection.
    pub fn pace(&mut self, limits: RateLimits) {
        let pacing = PaceLimits::from_toml(&limits.pacing_toml()).unwrap();
        self.pacer = Some(Pacer::new(&pacing));
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<JournalEntry> {
        self.sim.journal().entries()
    }

    /// How many requests were answered so far.
    pub fn count(&self) -> usize {
        self.sim.journal().len()
    }

    /// The requests since `from`, as "METHOD /path" (API prefix cut).
    pub fn since(&self, from: usize) -> Vec<String> {
        self.requests()[from..]
            .iter()
            .map(|e| format!("{} {}", e.method, e.path.trim_start_matches("/api/rest/v1")))
            .collect()
    }

    /// The simulator's state as JSON.
    pub fn dump(&self) -> Value {
        self.sim.dump()
    }
}

/// Asserts that no request was refused for its signature.
pub fn assert_all_signed(pos: &Pos) {
    for entry in pos.requests() {
        assert_ne!(
            entry.status, 401,
            "{} {} was refused: {entry:?}",
            entry.method, entry.path
        );
    }
}

pub mod records {
    //! Canonical records for the tests.

    use rust_decimal::Decimal;
    use tillbridge::runtime::bindings::exports::tillbridge::plugin::customers::CustomerWrite;
    use tillbridge::runtime::bindings::exports::tillbridge::plugin::orders_sink::OrderSubmission;
    use tillbridge::runtime::bindings::exports::tillbridge::plugin::products_sink::{
        ProductFields, ProductWrite,
    };
    use tillbridge::runtime::bindings::tillbridge::plugin::types::{
        Address, Company, Customer, OptionValue, Order, OrderLine, OrderTotals, Person, Price,
        Product, ProductRef, ProductVariant,
    };
    use tillbridge_sim::ccv::CcvSim;

    pub fn address(street: &str, number: &str) -> Address {
        Address {
            company: None,
            first_name: "Ada".into(),
            last_name: "Jansen".into(),
            street: street.into(),
            house_number: Some(number.into()),
            house_number_suffix: None,
            additional_line: None,
            postcode: "3512 AB".into(),
            city: "Utrecht".into(),
            country: "NL".into(),
            phone: None,
        }
    }

    pub fn private(email: &str) -> Customer {
        Customer {
            id: None,
            number: None,
            email: email.into(),
            person: Person {
                salutation: None,
                first_name: "Ada".into(),
                last_name: "Jansen".into(),
            },
            company: None,
            phone: Some("030 1234567".into()),
            billing_address: Some(address("Dorpsstraat", "12a")),
            shipping_address: None,
            custom_fields: vec![],
        }
    }

    pub fn business(email: &str) -> Customer {
        let mut customer = private(email);
        customer.person.first_name = "Piet".into();
        customer.person.last_name = "de Vries".into();
        customer.company = Some(Company {
            name: "Acme B.V.".into(),
            vat_number: Some("NL001234567B01".into()),
            coc_number: Some("12345678".into()),
        });
        customer
    }

    pub fn write(customer: Customer, target_id: Option<&str>) -> CustomerWrite {
        CustomerWrite {
            customer,
            target_id: target_id.map(String::from),
        }
    }

    /// A customer as the simulator's staff would add it.
    pub fn staff_customer(i: usize) -> tillbridge_sim::dataset::Customer {
        tillbridge_sim::dataset::Customer {
            email: format!("walk-in{i}@example.org"),
            first_name: format!("First{i}"),
            last_name: format!("Last{i}"),
            company: None,
            street: "Oude Gracht".into(),
            house_number: "1".into(),
            suffix: String::new(),
            postcode: "3511 AA".into(),
            city: "Utrecht".into(),
            country: "NL".into(),
            in_pos: true,
        }
    }

    /// A product line.
    pub fn line(sku: &str, quantity: u32, unit_price: &str) -> OrderLine {
        let total = unit_price.parse::<Decimal>().unwrap() * Decimal::from(quantity);
        OrderLine {
            kind: "product".into(),
            sku: Some(sku.into()),
            name: format!("Article {sku}"),
            quantity,
            unit_price: unit_price.into(),
            total_price: total.to_string(),
            tax_rate: "21".into(),
        }
    }

    /// An order by `customer` with these lines.
    pub fn order(number: &str, customer: Customer, lines: Vec<OrderLine>) -> Order {
        Order {
            id: format!("sw-{number}"),
            number: number.into(),
            ordered_at: "2026-11-01T10:00:00Z".into(),
            updated_at: "2026-11-01T10:00:00Z".into(),
            order_state: "open".into(),
            payment_state: "paid".into(),
            delivery_state: None,
            currency: "EUR".into(),
            prices_include_tax: true,
            sales_channel: Some("Storefront".into()),
            billing_address: customer.billing_address.clone().unwrap(),
            shipping_address: None,
            customer,
            lines,
            totals: OrderTotals {
                net: "0".into(),
                gross: "0".into(),
                tax: "0".into(),
                shipping: "4.95".into(),
            },
            payment_method: Some("2".into()),
            shipping_method: Some("PostNL".into()),
            comment: None,
            custom_fields: vec![],
        }
    }

    /// What the host hands the connector for an order: the customer, and the CCV article of
    /// every SKU (looked up in the simulator here).
    pub fn submission(sim: &CcvSim, order: Order, customer_id: &str) -> OrderSubmission {
        let products = order
            .lines
            .iter()
            .filter_map(|l| l.sku.clone())
            .filter_map(|sku| {
                let article = sim.article(&sku)?;
                Some(ProductRef {
                    sku,
                    id: article.product_id.to_string(),
                    variant_id: article.combination_id.map(|c| c.to_string()),
                })
            })
            .collect();
        OrderSubmission {
            marker: order.number.clone(),
            order,
            customer_id: customer_id.into(),
            products,
            payment_method: Some("2".into()),
            payment_condition: None,
            store: None,
            status: Some("7".into()),
            paid: true,
        }
    }

    /// A price including 21% VAT in EUR.
    pub fn price(amount: &str) -> Price {
        Price {
            amount: amount.into(),
            includes_tax: true,
            tax_rate: "21".into(),
            currency: "EUR".into(),
        }
    }

    /// A simple product.
    pub fn product(sku: &str, amount: &str, stock: i64) -> Product {
        Product {
            id: Some(format!("sw-{sku}")),
            sku: sku.into(),
            name: format!("Product {sku}"),
            ean: Some("8712345678906".into()),
            description: Some("<p>Long text</p>".into()),
            short_description: Some("Short text".into()),
            prices: vec![price(amount)],
            stock: Some(stock),
            active: true,
            variants: vec![],
            properties: vec![],
            categories: vec![],
            updated_at: None,
            custom_fields: vec![],
        }
    }

    /// A variant with a size and a colour.
    pub fn variant(sku: &str, ean: &str, size: &str, colour: &str, stock: i64) -> ProductVariant {
        ProductVariant {
            id: None,
            sku: sku.into(),
            ean: Some(ean.into()),
            options: vec![
                OptionValue {
                    group: "Size".into(),
                    value: size.into(),
                },
                OptionValue {
                    group: "Colour".into(),
                    value: colour.into(),
                },
            ],
            prices: vec![],
            stock: Some(stock),
            active: true,
        }
    }

    /// A T-shirt in sizes × colours; variant SKUs "<sku>-<size>-<colour>".
    pub fn configurable(sku: &str, sizes: &[&str], colours: &[&str]) -> Product {
        let mut parent = product(sku, "19.95", 0);
        parent.ean = None;
        parent.stock = None;
        let mut n = 0;
        for size in sizes {
            for colour in colours {
                n += 1;
                parent.variants.push(variant(
                    &format!("{sku}-{size}-{colour}"),
                    &format!("87100000000{n:02}"),
                    size,
                    colour,
                    n * 10,
                ));
            }
        }
        parent
    }

    /// A product write: create when `target_id` is none; `update_fields` by their WIT names.
    pub fn product_write(
        product: Product,
        target_id: Option<&str>,
        update_fields: &[&str],
    ) -> ProductWrite {
        ProductWrite {
            product,
            target_id: target_id.map(String::from),
            update_fields: ProductFields::NAMED
                .iter()
                .filter(|(name, _)| update_fields.contains(name))
                .fold(ProductFields::empty(), |all, (_, flag)| all | *flag),
            categories: vec![],
        }
    }
}
