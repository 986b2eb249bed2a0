//! The CCV SalesPOS connector: CCV's REST API v1 behind tillbridge's WIT contract. README.md says
//! what it does, what each operation costs in requests, and where CCV's documentation left a
//! choice to make.

mod bookings;
mod catalogue;
mod categories;
mod choices;
mod client;
mod customers;
mod errors;
mod marker;
mod memory;
mod order_body;
mod orders;
mod packages;
mod personal;
mod pricing;
mod products;
mod properties;
mod reservations;
mod results;
mod schedule;
mod settings;
mod shop;
mod signing;
mod source;
mod stock;
mod surcharges;
mod time;
mod variants;
mod wire;

use tillbridge_sdk::types::{PluginError, ProductRef, RecordResult};

tillbridge_sdk::connector_bindings!(path: "wit", world: "tillbridge:ccv-salespos/ccv-salespos");

use exports::tillbridge::plugin::connector::{
    Choice, ChoiceList, ConnectorInfo, Guest, OperationLimit,
};
use exports::tillbridge::plugin::{
    categories_sink, customers as customers_api, orders_sink, product_properties, products_sink,
    products_source, stock_source,
};
use settings::Ccv;

struct Component;

impl Guest for Component {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "ccv-salespos".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            system: "CCV SalesPOS REST API v1".into(),
            description: "Books orders and customers in CCV SalesPOS; reads and writes products; reads stock; writes categories".into(),
            rate_limits: client::RATE_LIMITS
                .iter()
                .map(|(operation, requests)| OperationLimit {
                    operation: operation.to_string(),
                    requests: *requests,
                    per_seconds: 60,
                })
                .collect(),
            settings: settings::declared(),
            secrets: settings::secrets(),
        }
    }

    fn check() -> Result<String, PluginError> {
        let ccv = Ccv::open()?;
        Ok(format!(
            "{}; {}",
            shop::check(&ccv)?,
            packages::check(&ccv)?
        ))
    }

    fn choices(which: ChoiceList) -> Result<Vec<Choice>, PluginError> {
        choices::list(&Ccv::open()?, which)
    }
}

impl orders_sink::Guest for Component {
    fn find_orders(
        lookups: Vec<orders_sink::MarkerLookup>,
    ) -> Result<Vec<orders_sink::MarkerRef>, PluginError> {
        orders::find(&Ccv::open()?, lookups)
    }

    fn create_orders(
        submissions: Vec<orders_sink::OrderSubmission>,
    ) -> Result<Vec<RecordResult>, PluginError> {
        orders::create(&Ccv::open()?, submissions)
    }
}

impl customers_api::Guest for Component {
    fn find_customers(emails: Vec<String>) -> Result<Vec<customers_api::CustomerRef>, PluginError> {
        customers::find(&Ccv::open()?, emails)
    }

    fn write_customers(
        writes: Vec<customers_api::CustomerWrite>,
    ) -> Result<Vec<RecordResult>, PluginError> {
        customers::write(&Ccv::open()?, writes)
    }
}

impl products_source::Guest for Component {
    fn read_products(
        query: products_source::ProductQuery,
    ) -> Result<products_source::ProductPage, PluginError> {
        source::read(&Ccv::open()?, query)
    }
}

impl products_sink::Guest for Component {
    fn find_products(skus: Vec<String>) -> Result<Vec<ProductRef>, PluginError> {
        catalogue::find(&Ccv::open()?, skus)
    }

    fn write_products(
        writes: Vec<products_sink::ProductWrite>,
    ) -> Result<Vec<RecordResult>, PluginError> {
        products::write(&Ccv::open()?, writes)
    }
}

impl product_properties::Guest for Component {
    fn list_properties() -> Result<Vec<String>, PluginError> {
        let ccv = Ccv::open()?;
        let mut properties = properties::Properties::default();
        Ok(properties
            .all(&ccv)?
            .values()
            .map(|p| p.name.clone())
            .collect())
    }
}

impl stock_source::Guest for Component {
    fn read_stock(query: stock_source::StockQuery) -> Result<stock_source::StockPage, PluginError> {
        stock::read(&Ccv::open()?, query)
    }
}

impl categories_sink::Guest for Component {
    fn write_categories(
        writes: Vec<categories_sink::CategoryWrite>,
    ) -> Result<Vec<RecordResult>, PluginError> {
        categories::write(&Ccv::open()?, writes)
    }

    fn link_products(
        links: Vec<categories_sink::CategoryLink>,
    ) -> Result<Vec<RecordResult>, PluginError> {
        categories::link(&Ccv::open()?, links)
    }
}

// Only a WASM build exports the component; natively the crate is built for its unit tests.
#[cfg(target_family = "wasm")]
export!(Component);
