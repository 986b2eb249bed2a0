//! The webshop itself: the connection check, and the two shop settings the connector needs (the
//! currency, and whether product prices include VAT), read once and remembered.

use serde::{Deserialize, Serialize};
use tillbridge_sdk::types::PluginError;

use crate::memory;
use crate::settings::Ccv;
use crate::wire::{Page, Webshop};

const KEY: &str = "webshop";

/// What the connector needs to know about the webshop.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shop {
    pub id: u64,
    pub name: String,
    pub is_salespos: bool,
    /// ISO 4217; CCV prices are in it.
    pub currency: String,
    /// Whether product prices include VAT (CCV's shop setting `prices_include_vat`).
    pub prices_include_vat: bool,
}

/// The webshop, from memory or with one `GET /webshops`.
pub fn shop(ccv: &Ccv) -> Result<Shop, PluginError> {
    match memory::get_json(KEY) {
        Some(shop) => Ok(shop),
        None => fetch(ccv),
    }
}

fn fetch(ccv: &Ccv) -> Result<Shop, PluginError> {
    let page: Page<Webshop> = ccv.api.get("webshops", &[])?;
    let webshop = page
        .items
        .into_iter()
        .next()
        .ok_or_else(|| PluginError::fatal("this CCV API key reaches no webshop"))?;
    let shop = Shop {
        id: webshop.id,
        name: webshop.name,
        is_salespos: webshop.is_salespos,
        currency: webshop.currency.unwrap_or_else(|| "EUR".into()),
        // CCV's default, and what its SalesPOS shops use.
        prices_include_vat: webshop.prices_include_vat.unwrap_or(true),
    };
    memory::set_json(KEY, &shop);
    Ok(shop)
}

/// Checks the connection with one signed request and says what answered.
pub fn check(ccv: &Ccv) -> Result<String, PluginError> {
    let shop = fetch(ccv)?;
    let kind = if shop.is_salespos {
        "CCV SalesPOS"
    } else {
        "CCV Shop (not a SalesPOS account)"
    };
    let vat = if shop.prices_include_vat {
        "prices include VAT"
    } else {
        "prices exclude VAT"
    };
    Ok(format!(
        "{kind} {:?} (webshop {}), {}, {vat}",
        shop.name, shop.id, shop.currency
    ))
}
