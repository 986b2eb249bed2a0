//! Shopware ids: 32 lowercase hex characters, no dashes, plus the well-known ids every shop has.

use rand::RngExt;
use sha2::{Digest, Sha256};

/// The live version of versioned entities (orders and their rows, products, categories).
pub const LIVE_VERSION: &str = "0fa91ce3e96a4bc2be4bd9ce752c3425";
/// The system language (English).
pub const SYSTEM_LANGUAGE: &str = "2fbb5fe2e29a4d70aa5854ce7ce3e20b";
/// The default currency (EUR in the simulator): every product price must have it.
pub const DEFAULT_CURRENCY: &str = "b7d2554b0ce847cd82f3ac9bd1c0dfca";

/// Whether `id` has Shopware's id format (`^[0-9a-f]{32}$`).
pub fn is_valid(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A stable id for `key` in `namespace`, as integrations derive ids from external keys (the way
/// `md5(externalKey)` is used): the same key gives the same id in every run.
pub fn stable(namespace: &str, key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(namespace.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize();
    hex::encode(&digest[..16])
}

/// A new, time-ordered id like the ones Shopware 6.5+ generates (a UUIDv7 without dashes).
pub fn random() -> String {
    let millis = chrono::Utc::now().timestamp_millis().max(0) as u128;
    let random: u128 = rand::rng().random();
    let mut value = (millis << 80) | (random & ((1u128 << 80) - 1));
    value = (value & !(0xf << 76)) | (0x7 << 76);
    value = (value & !(0x3 << 62)) | (0x2 << 62);
    format!("{value:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_route_format() {
        assert!(is_valid(LIVE_VERSION));
        assert!(is_valid(&random()));
        assert!(is_valid(&stable("product", "TB-MUG-01")));
        assert!(!is_valid("0FA91CE3E96A4BC2BE4BD9CE752C3425"));
        assert!(!is_valid("0fa91ce3-e96a-4bc2-be4b-d9ce752c3425"));
        assert_eq!(stable("a", "b"), stable("a", "b"));
        assert_ne!(stable("a", "b"), stable("b", "a"));
    }

    #[test]
    fn random_ids_are_time_ordered() {
        let first = random();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(random() > first);
    }
}
