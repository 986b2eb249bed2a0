//! A Shopware simulator with the built-in connector loaded in the host's runtime, and
//! helpers to read and write through it as the flows do.

use std::sync::OnceLock;

use serde_json::{Value, json};
use tillbridge::egress::AllowList;
pub use tillbridge::runtime::bindings::exports::tillbridge::plugin::connector::ChoiceList;
pub use tillbridge::runtime::bindings::exports::tillbridge::plugin::orders_source::{
    OrderPage, OrderQuery,
};
pub use tillbridge::runtime::bindings::exports::tillbridge::plugin::products_sink::{
    ProductFields, ProductWrite,
};
pub use tillbridge::runtime::bindings::exports::tillbridge::plugin::products_source::ProductQuery;
pub use tillbridge::runtime::bindings::exports::tillbridge::plugin::stock_sink::StockUpdate;
pub use tillbridge::runtime::bindings::tillbridge::plugin::types::{
    OptionValue, Order, PluginError, Price, Product, ProductVariant, RecordResult, WriteAction,
};
use tillbridge::runtime::{CallError, Grants, Kv, Limits, Plugin, Runtime, Session};
pub use tillbridge_sim::dataset::{self, Dataset};
pub use tillbridge_sim::shopware::{ApiVersion, Seed, ShopwareOptions, ShopwareSim, keys};

/// The rows of `entity` in a simulator dump.
pub fn rows<'a>(dump: &'a mut Value, entity: &str) -> &'a mut Vec<Value> {
    dump["entities"][entity]
        .as_array_mut()
        .expect("entity in the dump")
}

/// The two versions every behaviour is tested on.
pub const VERSIONS: [ApiVersion; 2] = [ApiVersion::V6_4, ApiVersion::V6_6];

/// One compile cache for the whole test binary: the component is compiled once.
fn cache_dir() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temporary folder"))
        .path()
}

/// A simulated shop and the connector, ready for sessions.
pub struct Shop {
    pub sim: ShopwareSim,
    pub kv: Kv,
    pub settings: Value,
    plugin: Plugin,
    _runtime: Runtime,
}

impl Shop {
    /// A shop of `version` seeded with `seed`.
    pub async fn start(version: ApiVersion, seed: Seed) -> Shop {
        Shop::start_with(ShopwareOptions {
            api_version: version,
            seed,
            ..ShopwareOptions::default()
        })
        .await
    }

    /// The demo shop.
    pub async fn demo(version: ApiVersion) -> Shop {
        Shop::start(version, Seed::Dataset(Dataset::demo())).await
    }

    /// A shop of `version` seeded with `data` and then changed by `edit` (on the simulator's
    /// dump), for states the shop-side helpers cannot make. Keep the folder while the shop runs.
    pub async fn edited(
        version: ApiVersion,
        data: Dataset,
        edit: impl FnOnce(&mut Value),
    ) -> (Shop, tempfile::TempDir) {
        let seeded = ShopwareSim::start(ShopwareOptions {
            api_version: version,
            seed: Seed::Dataset(data),
            ..ShopwareOptions::default()
        })
        .await
        .expect("simulator starts");
        let mut dump = seeded.dump();
        seeded.stop().await;
        edit(&mut dump);
        let dir = tempfile::tempdir().expect("temporary folder");
        let file = dir.path().join("shop.json");
        std::fs::write(&file, dump.to_string()).expect("dump written");
        (Shop::start(version, Seed::File(file)).await, dir)
    }

    /// A shop started with these options.
    pub async fn start_with(options: ShopwareOptions) -> Shop {
        let sim = ShopwareSim::start(options).await.expect("simulator starts");
        let runtime = Runtime::new(&cache_dir().join("cache")).expect("runtime");
        let builtin = tillbridge::builtin::get("shopware").expect("built in");
        // One load at a time: the first compiles into the shared cache, whose temporary file
        // name is per process, so two compiling at once could read each other's half file.
        static LOADING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let plugin = {
            let _one = LOADING.lock().unwrap_or_else(|e| e.into_inner());
            runtime
                .load("shopware", builtin.bytes)
                .expect("connector loads")
        };
        let settings = json!({"url": sim.base_url()});
        Shop {
            sim,
            kv: Kv::memory(),
            settings,
            plugin,
            _runtime: runtime,
        }
    }

    /// The grants a connection in flows.toml would give, with the shop's key-value store.
    pub fn grants(&self, settings: Value, secret: &str) -> Grants {
        let mut grants =
            Grants::minimal("shopware@shop", Limits::CONNECTOR).with_settings(settings);
        grants
            .secrets
            .insert("client_id".into(), dataset::SHOPWARE_CLIENT_ID.into());
        grants.secrets.insert("client_secret".into(), secret.into());
        grants.allowed_hosts =
            AllowList::new(&[AllowList::entry_for(self.sim.base_url()).unwrap()]);
        grants.kv = self.kv.clone();
        grants
    }

    /// A new session (a new instance, as a new run gets), sharing the key-value store.
    pub async fn session(&self) -> Session {
        self.session_with(self.settings.clone()).await
    }

    /// A new session with other settings.
    pub async fn session_with(&self, settings: Value) -> Session {
        self.plugin
            .session(self.grants(settings, dataset::SHOPWARE_CLIENT_SECRET))
            .await
            .expect("session starts")
    }

    /// A session with a wrong secret.
    pub async fn session_with_secret(&self, secret: &str) -> Session {
        self.plugin
            .session(self.grants(self.settings.clone(), secret))
            .await
            .expect("session starts")
    }

    /// Requests the shop answered so far.
    pub fn requests(&self) -> usize {
        self.sim.journal().len()
    }

    /// Requests to paths that start with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> usize {
        self.sim
            .journal()
            .entries()
            .iter()
            .filter(|e| e.path.starts_with(prefix))
            .count()
    }
}

/// An order query.
pub fn query(cursor: Option<String>, payment_states: &[&str], limit: u32) -> OrderQuery {
    OrderQuery {
        cursor,
        changed_since: None,
        order_states: vec![],
        payment_states: payment_states.iter().map(|s| s.to_string()).collect(),
        numbers: vec![],
        limit,
    }
}

/// Reads pages until the sweep ends; returns every order and the last cursor.
pub async fn read_all(
    session: &mut Session,
    mut query: OrderQuery,
) -> Result<(Vec<Order>, Option<String>), CallError> {
    let mut orders = Vec::new();
    loop {
        let page: OrderPage = session.read_orders(&query).await?;
        assert!(page.rejected.is_empty(), "{:?}", page.rejected);
        orders.extend(page.orders);
        query.cursor = page.cursor;
        if !page.more {
            return Ok((orders, query.cursor));
        }
    }
}

/// The order numbers, sorted.
pub fn numbers(orders: &[Order]) -> Vec<String> {
    let mut numbers: Vec<String> = orders.iter().map(|o| o.number.clone()).collect();
    numbers.sort();
    numbers
}

/// The plugin's own error of a failed call.
pub fn plugin_error(error: CallError) -> PluginError {
    match error {
        CallError::Plugin(e) => e,
        other => panic!("not a plugin error: {other}"),
    }
}

/// The demo customer Ada Jansen.
pub fn ada() -> dataset::Customer {
    Dataset::demo()
        .customers
        .into_iter()
        .find(|c| c.email == "ada.jansen@example.nl")
        .expect("demo customer")
}

/// A price in euro including tax.
pub fn eur(amount: &str, rate: &str) -> Price {
    Price {
        amount: amount.into(),
        includes_tax: true,
        tax_rate: rate.into(),
        currency: "EUR".into(),
    }
}

/// A simple product at € 9.95 with 21% tax and 3 in stock.
pub fn simple(sku: &str, name: &str) -> Product {
    Product {
        id: None,
        sku: sku.into(),
        name: name.into(),
        ean: None,
        description: None,
        short_description: None,
        prices: vec![eur("9.95", "21")],
        stock: Some(3),
        active: true,
        variants: vec![],
        properties: vec![],
        categories: vec![],
        updated_at: None,
        custom_fields: vec![],
    }
}

/// An option value.
pub fn option(group: &str, value: &str) -> OptionValue {
    OptionValue {
        group: group.into(),
        value: value.into(),
    }
}
