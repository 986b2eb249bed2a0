//! What the connector remembers between runs, in the host's `kv` store (one space per
//! connection). Keys, by owner:
//!
//! | key | value | module |
//! |---|---|---|
//! | `users/index` | `{"max_id": n, "key_check": …}` once the e-mail index is built | `customers` |
//! | `users/email/<personal-key of the e-mail>` | user id | `customers` |
//! | `orders/booked/<marker>` | `{"id", "created"}` of a marked CCV order, for `booked_memory_days` | `bookings` |
//! | `orders/scan` | `{"marker", "from", "to"}`: the reach of the passes over CCV's orders | `bookings` |
//! | `products/intent/<sku>` | ms when a create was sent; deleted when settled | `products` |
//! | `categories/intent/<source id>` | the same, for a category | `categories` |
//! | `catalogue/pages` | pages the last full product scan took | `catalogue` |
//! | `stock/reserved/<order id>` | a reserved order's rows and the total they were read at | `reservations` |
//! | `attributes` | `{"size": id}` | `variants` |
//! | `attributes/<id>/values` | `{"m": id}` | `variants` |
//! | `paymethods` | `{"2": "PayPal"}` | `orders` |
//! | `webshop/settings` | the webshop, its currency and VAT setting | `shop` |
//! | `packages` | the shop's packages `[{"id": n, "name": …}]` | `packages` |

use serde::Serialize;
use serde::de::DeserializeOwned;
use tillbridge_sdk::kv;

/// A value read as JSON; none when absent or unreadable (then it is rebuilt).
pub fn get_json<T: DeserializeOwned>(key: &str) -> Option<T> {
    kv::get(key).and_then(|text| serde_json::from_str(&text).ok())
}

/// Stores a value as JSON.
pub fn set_json<T: Serialize>(key: &str, value: &T) {
    if let Ok(text) = serde_json::to_string(value) {
        kv::set_many(&[(key.to_string(), text)]);
    }
}

/// Writes that were sent but whose outcome is not settled: set before sending, cleared once the
/// answer is known. One left set means the connector stopped in between (a crash, a timeout), so
/// the record may exist in CCV and must be looked up before it is sent again.
pub struct Intents {
    prefix: &'static str,
}

impl Intents {
    pub const fn new(prefix: &'static str) -> Self {
        Intents { prefix }
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// When each of these was sent, if still unsettled.
    pub fn sent_at(&self, names: &[&str]) -> Vec<Option<u64>> {
        let keys: Vec<String> = names.iter().map(|n| self.key(n)).collect();
        kv::get_many(&keys)
            .into_iter()
            .map(|value| value.and_then(|v| v.parse().ok()))
            .collect()
    }

    /// Marks these as sent now (one write to the store for all).
    pub fn open(&self, names: &[&str], now_ms: u64) {
        let entries: Vec<(String, String)> = names
            .iter()
            .map(|n| (self.key(n), now_ms.to_string()))
            .collect();
        if !entries.is_empty() {
            kv::set_many(&entries);
        }
    }

    /// Settles these: their intents are deleted, so that a settled intent takes no room.
    pub fn settle(&self, names: &[&str]) {
        for name in names {
            kv::delete(&self.key(name));
        }
    }
}
