//! The Shopware 6 Admin API connector (scaffold: being written).

use tillbridge_sdk::types::{Category, PluginError, ProductRef, RecordResult};

tillbridge_sdk::connector_bindings!(paths: ["../../wit", "wit"], world: "tillbridge:shopware/shopware");

use exports::tillbridge::plugin::connector::{ConnectorInfo, Guest};
use exports::tillbridge::plugin::{categories_source, orders_source, products_sink, products_source, stock_sink};

struct Shopware;

fn unwritten() -> PluginError {
    PluginError::fatal("the Shopware connector is not written yet")
}

impl Guest for Shopware {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "shopware".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            system: "Shopware 6 Admin API (6.4 – 6.7)".into(),
            description: "Reads orders, products and categories from Shopware 6; writes products and stock".into(),
        }
    }

    fn check() -> Result<String, PluginError> {
        Err(unwritten())
    }
}

impl orders_source::Guest for Shopware {
    fn read_orders(_query: orders_source::OrderQuery) -> Result<orders_source::OrderPage, PluginError> {
        Err(unwritten())
    }
}

impl products_source::Guest for Shopware {
    fn read_products(_query: products_source::ProductQuery) -> Result<products_source::ProductPage, PluginError> {
        Err(unwritten())
    }
}

impl products_sink::Guest for Shopware {
    fn find_products(_skus: Vec<String>) -> Result<Vec<ProductRef>, PluginError> {
        Err(unwritten())
    }

    fn write_products(_products: Vec<products_sink::ProductWrite>) -> Result<Vec<RecordResult>, PluginError> {
        Err(unwritten())
    }
}

impl stock_sink::Guest for Shopware {
    fn write_stock(_updates: Vec<stock_sink::StockUpdate>) -> Result<Vec<RecordResult>, PluginError> {
        Err(unwritten())
    }
}

impl categories_source::Guest for Shopware {
    fn read_categories() -> Result<Vec<Category>, PluginError> {
        Err(unwritten())
    }
}

#[cfg(target_family = "wasm")]
export!(Shopware);
