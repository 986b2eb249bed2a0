//! The Shopware 6 Admin API connector (6.4 – 6.7): reads orders, products and categories, and
//! writes products and stock, through the host's `http` import. See README.md for settings,
//! privileges, request costs and the cursor format.
//!
//! One module per concern: `auth` (tokens), `client` (requests, errors, version), `criteria`
//! and `cursor` (reading orders page by page), `orders` and `order_model`, `products` (source),
//! `product_write` and `variants` (sink), `lookup` (SKU → id), `stock`, `categories`, `sync`
//! (the sync API across versions), `addresses` (street and house number), `timestamps`,
//! `choices` (what the set-up wizard offers).

mod addresses;
mod auth;
mod catalog;
mod categories;
mod choices;
mod client;
mod criteria;
mod cursor;
mod errors;
mod ids;
mod lookup;
mod order_model;
mod orders;
mod prices;
mod product_write;
mod products;
mod settings;
mod stock;
mod sync;
mod timestamps;
mod variants;
mod version;

use std::cell::RefCell;

use tillbridge_sdk::types::{Category, PluginError, ProductRef, RecordResult};

use crate::catalog::Catalog;
use crate::client::Client;

tillbridge_sdk::connector_bindings!(path: "wit", world: "tillbridge:shopware/shopware");

use exports::tillbridge::plugin::connector::{
    Choice, ChoiceList, ConnectorInfo, Guest, OperationLimit,
};
use exports::tillbridge::plugin::{
    categories_source, orders_source, products_sink, products_source, stock_sink,
};

/// What a session (one instance) keeps between calls: the client with its token and version,
/// and what it learnt about the shop's catalogue.
pub(crate) struct Shop {
    pub client: Client,
    pub catalog: Catalog,
}

thread_local! {
    static SHOP: RefCell<Option<Shop>> = const { RefCell::new(None) };
}

/// Runs `f` with the session's shop, connecting it on first use.
fn with_shop<R>(f: impl FnOnce(&mut Shop) -> Result<R, PluginError>) -> Result<R, PluginError> {
    SHOP.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let settings = settings::Settings::load()?;
            let credentials = auth::Credentials::load()?;
            *slot = Some(Shop {
                client: Client::new(settings, credentials),
                catalog: Catalog::default(),
            });
        }
        f(slot.as_mut().expect("connected above"))
    })
}

struct Shopware;

impl Guest for Shopware {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "shopware".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            system: "Shopware 6 Admin API (6.4 – 6.7)".into(),
            description:
                "Reads orders, products and categories from Shopware 6; writes products and stock"
                    .into(),
            // Shopware documents a limit on the Admin API only for the token: 10 per minute per
            // IP address in its cloud ("Rate Limits", docs.shopware.com, SaaS), a back-off after
            // failed logins when self-hosted (developer.shopware.com, "Rate Limiter", `oauth`).
            rate_limits: vec![OperationLimit {
                operation: "POST /api/oauth/token".into(),
                requests: 10,
                per_seconds: 60,
            }],
            settings: settings::declared(),
            secrets: settings::secrets(),
        }
    }

    fn check() -> Result<String, PluginError> {
        with_shop(|shop| {
            let version = shop.client.version()?;
            let channels = shop.client.search(
                "sales_channel",
                &serde_json::json!({"limit": 1, "total-count-mode": "exact", "includes": {"sales_channel": ["id"]}}),
            )?;
            let stock = match shop.client.stock_mode()? {
                version::StockMode::Legacy => "stock is physical, availableStock sellable",
                version::StockMode::Sellable => "stock is sellable",
            };
            Ok(format!(
                "Shopware {}, {} sales channel(s), {stock}",
                version.text, channels.total
            ))
        })
    }

    fn choices(which: ChoiceList) -> Result<Vec<Choice>, PluginError> {
        with_shop(|shop| choices::list(&mut shop.client, which))
    }
}

impl orders_source::Guest for Shopware {
    fn read_orders(
        query: orders_source::OrderQuery,
    ) -> Result<orders_source::OrderPage, PluginError> {
        with_shop(|shop| orders::read(&mut shop.client, query))
    }
}

impl products_source::Guest for Shopware {
    fn read_products(
        query: products_source::ProductQuery,
    ) -> Result<products_source::ProductPage, PluginError> {
        with_shop(|shop| products::read(shop, query))
    }
}

impl products_sink::Guest for Shopware {
    fn find_products(skus: Vec<String>) -> Result<Vec<ProductRef>, PluginError> {
        with_shop(|shop| lookup::find_products(&mut shop.client, &skus))
    }

    fn write_products(
        products: Vec<products_sink::ProductWrite>,
    ) -> Result<Vec<RecordResult>, PluginError> {
        with_shop(|shop| product_write::write(shop, products))
    }
}

impl stock_sink::Guest for Shopware {
    fn write_stock(
        updates: Vec<stock_sink::StockUpdate>,
    ) -> Result<Vec<RecordResult>, PluginError> {
        with_shop(|shop| stock::write(&mut shop.client, updates))
    }
}

impl categories_source::Guest for Shopware {
    fn read_categories() -> Result<Vec<Category>, PluginError> {
        with_shop(|shop| categories::read(&mut shop.client))
    }
}

// Only a WASM build exports the component; natively the crate is built for its unit tests.
#[cfg(target_family = "wasm")]
export!(Shopware);
