//! Compiled components are cached: the second load of the same plugin compiles nothing.

use tillbridge::runtime::{Origin, Runtime, World};

use crate::support::{component, runtime};

#[test]
fn the_second_load_comes_from_the_cache() {
    let (first, dir) = runtime();
    let bytes = component("payment_map");
    assert_eq!(
        first.load("payment-map", &bytes).unwrap().origin(),
        Origin::Compiled
    );
    assert_eq!(
        entries(&dir.path().join("cache")),
        1,
        "one compiled file in the cache"
    );

    // A new runtime (a new process, in effect) with the same cache folder.
    let second = Runtime::new(&dir.path().join("cache")).unwrap();
    assert_eq!(
        second.load("payment-map", &bytes).unwrap().origin(),
        Origin::Cached
    );
    assert_eq!(entries(&dir.path().join("cache")), 1, "nothing new written");

    // Another component is compiled, not confused with the first.
    assert_eq!(
        second
            .load("sku-rewrite", &component("sku_rewrite"))
            .unwrap()
            .origin(),
        Origin::Compiled
    );
}

/// How many compiled components are cached in `dir`.
fn entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "cwasm")
        })
        .count()
}

#[test]
fn a_damaged_cache_file_is_replaced_not_trusted() {
    let (runtime, dir) = runtime();
    let bytes = component("payment_map");
    runtime.load("payment-map", &bytes).unwrap();
    let file = entry_besides(&dir.path().join("cache"), &[]);
    std::fs::write(&file, b"not a compiled component").unwrap();
    let again = Runtime::new(&dir.path().join("cache")).unwrap();
    assert_eq!(
        again.load("payment-map", &bytes).unwrap().origin(),
        Origin::Compiled
    );
}

/// The entry file of the only component cached in `dir` whose name is not in `except`.
fn entry_besides(dir: &std::path::Path, except: &[std::path::PathBuf]) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "cwasm") && !except.contains(p))
        .unwrap()
}

#[test]
fn a_foreign_entry_planted_under_a_plugins_name_is_refused_and_rebuilt() {
    let (runtime, dir) = runtime();
    let cache = dir.path().join("cache");
    runtime
        .load("payment-map", &component("payment_map"))
        .unwrap();
    let planted_at = entry_besides(&cache, &[]);
    runtime
        .load("ledger", &component("fixture_ledger"))
        .unwrap();
    let connector = entry_besides(&cache, std::slice::from_ref(&planted_at));

    // Another user's code, as they would plant it: a whole entry of another component (a
    // connector), and a bare compiled file without the seal.
    let bare = wasmtime::Engine::default()
        .precompile_component(&component("fixture_ledger"))
        .unwrap();
    for planted in [std::fs::read(&connector).unwrap(), bare] {
        std::fs::write(&planted_at, &planted).unwrap();
        let (logs, _guard) = crate::support::LogCapture::start();
        let again = Runtime::new(&cache).unwrap();
        let loaded = again
            .load("payment-map", &component("payment_map"))
            .unwrap();
        assert_eq!(loaded.origin(), Origin::Compiled, "rebuilt, not loaded");
        assert_eq!(loaded.description().world, World::Transform);
        assert!(
            logs.text()
                .contains("refusing a compiled plugin not sealed"),
            "{}",
            logs.text()
        );
        assert_ne!(std::fs::read(&planted_at).unwrap(), planted, "replaced");
    }
}

#[cfg(unix)]
#[test]
fn a_cache_folder_others_can_write_to_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    Runtime::new(&cache).unwrap();
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "made private");

    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let error = Runtime::new(&cache).err().unwrap().to_string();
    assert!(error.contains("refusing the plugin cache"), "{error}");
    assert!(
        error.contains("mode 777") && error.contains("chmod 700"),
        "{error}"
    );

    // The same from the binary: one clear line, exit code 1, nothing loaded.
    std::fs::create_dir(dir.path().join("xdg")).unwrap();
    let shared = dir.path().join("xdg/tillbridge");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::write(dir.path().join("in.json"), "[]").unwrap();
    let output = crate::support::tillbridge(dir.path())
        .env("XDG_CACHE_HOME", dir.path().join("xdg"))
        .args([
            "transform",
            "payment-map",
            "--kind",
            "order",
            "--input",
            "in.json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refusing the plugin cache"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_cache_folder_of_another_user_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    // Only root can give a folder away; elsewhere the rule is proven by the unit test of
    // `ownership_problem` in runtime/cache.rs.
    if let Err(e) = std::os::unix::fs::chown(&cache, Some(65534), Some(65534)) {
        eprintln!("skipped: cannot chown without root ({e})");
        return;
    }
    let error = Runtime::new(&cache).err().unwrap().to_string();
    assert!(error.contains("belongs to user 65534"), "{error}");
}
