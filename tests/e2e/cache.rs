//! Compiled components are cached: the second load of the same plugin compiles nothing.

use tillbridge::runtime::{Origin, Runtime};

use crate::support::{component, runtime};

#[test]
fn the_second_load_comes_from_the_cache() {
    let (first, dir) = runtime();
    let bytes = component("payment_map");
    assert_eq!(
        first.load("payment-map", &bytes).unwrap().origin(),
        Origin::Compiled
    );
    let cached: Vec<_> = std::fs::read_dir(dir.path().join("cache"))
        .unwrap()
        .collect();
    assert_eq!(cached.len(), 1, "one compiled file in the cache");

    // A new runtime (a new process, in effect) with the same cache folder.
    let second = Runtime::new(&dir.path().join("cache")).unwrap();
    assert_eq!(
        second.load("payment-map", &bytes).unwrap().origin(),
        Origin::Cached
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("cache")).unwrap().count(),
        1,
        "nothing new written"
    );

    // Another component is compiled, not confused with the first.
    assert_eq!(
        second
            .load("sku-rewrite", &component("sku_rewrite"))
            .unwrap()
            .origin(),
        Origin::Compiled
    );
}

#[test]
fn a_damaged_cache_file_is_replaced_not_trusted() {
    let (runtime, dir) = runtime();
    let bytes = component("payment_map");
    runtime.load("payment-map", &bytes).unwrap();
    let file = std::fs::read_dir(dir.path().join("cache"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&file, b"not a compiled component").unwrap();
    let again = Runtime::new(&dir.path().join("cache")).unwrap();
    assert_eq!(
        again.load("payment-map", &bytes).unwrap().origin(),
        Origin::Compiled
    );
}
