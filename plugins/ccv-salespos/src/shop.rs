//! The webshop itself: the connection check, and the two shop settings the connector needs (the
//! currency, and whether product prices include VAT), read once and remembered.
//!
//! `GET /webshops` names the webshop (SDK `src/Resources/Webshop.php`: no currency, no VAT
//! convention); its settings say the rest (`GET /webshops/:id/settings`, JDK
//! `Entity/Settings/Settings.php`: `currency`, `prices_include_vat` "Do prices include VAT").
//! That a product's `price` follows `prices_include_vat` is not written anywhere (unverified), so
//! the connection's `prices_include_vat` setting overrules the shop's; when neither says,
//! product prices are neither written nor read (a guess would be 21% off).

use serde::{Deserialize, Serialize};
use tillbridge_sdk::types::PluginError;

use crate::memory;
use crate::settings::Ccv;
use crate::wire::{Page, Webshop, WebshopSettings};

/// The webshop and its settings as CCV gave them. (Not `webshop`: that key held values read
/// from `GET /webshops`, which has no such fields.)
const KEY: &str = "webshop/settings";

/// The webshop as CCV describes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Described {
    id: u64,
    name: String,
    is_salespos: bool,
    currency: Option<String>,
    prices_include_vat: Option<bool>,
}

/// What the connector needs to know about the webshop to write and read prices.
#[derive(Debug, Clone)]
pub struct Shop {
    /// ISO 4217; CCV prices are in it.
    pub currency: String,
    /// Whether product prices include VAT.
    pub prices_include_vat: bool,
}

/// The webshop, from memory or with `GET /webshops` and its settings; an error naming the setting
/// to add when its VAT convention is unknown.
pub fn shop(ccv: &Ccv) -> Result<Shop, PluginError> {
    let described = match memory::get_json(KEY) {
        Some(described) => described,
        None => fetch(ccv)?,
    };
    let prices_include_vat = vat_convention(ccv, &described).ok_or_else(|| {
        PluginError::fatal(format!(
            "CCV's settings of webshop {} do not say whether prices include VAT: set \
             `prices_include_vat` (true or false) in the connection's settings",
            described.id
        ))
    })?;
    Ok(Shop {
        currency: described.currency.unwrap_or_else(|| "EUR".into()),
        prices_include_vat,
    })
}

/// The connection's setting, else the shop's.
fn vat_convention(ccv: &Ccv, described: &Described) -> Option<bool> {
    ccv.settings
        .prices_include_vat
        .or(described.prices_include_vat)
}

fn fetch(ccv: &Ccv) -> Result<Described, PluginError> {
    let page: Page<Webshop> = ccv.api.get("webshops", &[])?;
    let webshop = page
        .items
        .into_iter()
        .next()
        .ok_or_else(|| PluginError::fatal("this CCV API key reaches no webshop"))?;
    let settings: WebshopSettings = ccv
        .api
        .get(&format!("webshops/{}/settings", webshop.id), &[])?;
    let described = Described {
        id: webshop.id,
        name: webshop.name.unwrap_or_default(),
        is_salespos: webshop.is_salespos,
        currency: settings.currency,
        prices_include_vat: settings.prices_include_vat,
    };
    memory::set_json(KEY, &described);
    Ok(described)
}

/// Checks the connection with two signed requests and says what answered.
pub fn check(ccv: &Ccv) -> Result<String, PluginError> {
    let shop = fetch(ccv)?;
    let kind = if shop.is_salespos {
        "CCV SalesPOS"
    } else {
        "CCV Shop (not a SalesPOS account)"
    };
    let vat = match (vat_convention(ccv, &shop), ccv.settings.prices_include_vat) {
        (Some(true), None) => "prices include VAT",
        (Some(false), None) => "prices exclude VAT",
        (Some(true), Some(_)) => "prices include VAT (set on the connection)",
        (Some(false), Some(_)) => "prices exclude VAT (set on the connection)",
        (None, _) => "VAT convention unknown: set `prices_include_vat` on the connection",
    };
    Ok(format!(
        "{kind} {:?} (webshop {}), {}, {vat}",
        shop.name,
        shop.id,
        shop.currency.as_deref().unwrap_or("EUR")
    ))
}
