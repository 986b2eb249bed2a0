//! Fingerprints of content: equal fingerprints mean nothing to write. Computed over the canonical
//! JSON of what a flow would write (maps in sorted order, so the same content always gives the
//! same fingerprint).

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The fingerprint of a value: 128 bits of SHA-256 over its canonical JSON.
pub fn of(value: &impl Serialize) -> String {
    let json = serde_json::to_value(value)
        .and_then(|v| serde_json::to_vec(&v))
        .unwrap_or_default();
    hex::encode(&Sha256::digest(&json)[..16])
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn same_content_same_fingerprint_whatever_the_order() {
        let a: HashMap<&str, i32> = [("x", 1), ("y", 2), ("z", 3)].into();
        let b: HashMap<&str, i32> = [("z", 3), ("x", 1), ("y", 2)].into();
        assert_eq!(of(&a), of(&b));
        assert_ne!(of(&a), of(&HashMap::from([("x", 1)])));
        assert_eq!(of(&a).len(), 32);
    }
}
