//! The CCV SalesPOS REST API connector (scaffold: being written).

use tillbridge_sdk::types::{PluginError, ProductRef, RecordResult};

tillbridge_sdk::connector_bindings!(paths: ["../../wit", "wit"], world: "tillbridge:ccv-salespos/ccv-salespos");

use exports::tillbridge::plugin::connector::{ConnectorInfo, Guest};
use exports::tillbridge::plugin::{categories_sink, customers, orders_sink, products_sink, products_source, stock_source};

struct Ccv;

fn unwritten() -> PluginError {
    PluginError::fatal("the CCV SalesPOS connector is not written yet")
}

impl Guest for Ccv {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "ccv-salespos".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            system: "CCV SalesPOS REST API v1".into(),
            description: "Books orders and customers in CCV SalesPOS; reads and writes products; reads stock; writes categories".into(),
        }
    }

    fn check() -> Result<String, PluginError> {
        Err(unwritten())
    }
}

impl orders_sink::Guest for Ccv {
    fn find_orders(_numbers: Vec<String>) -> Result<Vec<orders_sink::OrderRef>, PluginError> {
        Err(unwritten())
    }

    fn create_orders(_orders: Vec<orders_sink::OrderSubmission>) -> Result<Vec<RecordResult>, PluginError> {
        Err(unwritten())
    }
}

impl customers::Guest for Ccv {
    fn find_customers(_emails: Vec<String>) -> Result<Vec<customers::CustomerRef>, PluginError> {
        Err(unwritten())
    }

    fn write_customers(_customers: Vec<customers::CustomerWrite>) -> Result<Vec<RecordResult>, PluginError> {
        Err(unwritten())
    }
}

impl products_source::Guest for Ccv {
    fn read_products(_query: products_source::ProductQuery) -> Result<products_source::ProductPage, PluginError> {
        Err(unwritten())
    }
}

impl products_sink::Guest for Ccv {
    fn find_products(_skus: Vec<String>) -> Result<Vec<ProductRef>, PluginError> {
        Err(unwritten())
    }

    fn write_products(_products: Vec<products_sink::ProductWrite>) -> Result<Vec<RecordResult>, PluginError> {
        Err(unwritten())
    }
}

impl stock_source::Guest for Ccv {
    fn read_stock(_query: stock_source::StockQuery) -> Result<stock_source::StockPage, PluginError> {
        Err(unwritten())
    }
}

impl categories_sink::Guest for Ccv {
    fn write_categories(_categories: Vec<categories_sink::CategoryWrite>) -> Result<Vec<RecordResult>, PluginError> {
        Err(unwritten())
    }

    fn link_products(_links: Vec<categories_sink::CategoryLink>) -> Result<Vec<RecordResult>, PluginError> {
        Err(unwritten())
    }
}

#[cfg(target_family = "wasm")]
export!(Ccv);
