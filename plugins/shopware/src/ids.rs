//! Deterministic Shopware ids (32 lowercase hex characters), derived from what a record is
//! known by, so that a sync upsert sent twice writes the same row instead of a second one.

use sha2::{Digest, Sha256};

/// The id for `key` among records of `kind`: `product` + SKU, `property_group` + name, …
/// Distinct kinds never collide, and the same key always gives the same id.
pub fn derive(kind: &str, key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"tillbridge:shopware:")
        .chain_update(kind.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `id` has Shopware's id format.
pub fn is_valid(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_well_formed() {
        let id = derive("product", "TB-MUG-01");
        assert!(is_valid(&id));
        assert_eq!(id, derive("product", "TB-MUG-01"));
        assert_ne!(id, derive("product", "TB-MUG-02"));
        assert_ne!(derive("a", "bc"), derive("ab", "c"));
    }
}
