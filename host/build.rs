//! Builds the plugins that ship inside tillbridge (and the hostile test fixtures) as WASM
//! components, so that `cargo build`, `cargo run` and `cargo test` need nothing else.
//!
//! It runs a nested `cargo build --target wasm32-wasip2` in its own target folder
//! (`target/plugins`), as wasmtime's own test programs do. The built files are embedded with
//! `include_bytes!` (see `src/builtin.rs`).

use std::path::PathBuf;
use std::process::Command;

/// (package, file stem) of every component built here.
const COMPONENTS: &[(&str, &str)] = &[
    ("shopware", "shopware"),
    ("ccv-salespos", "ccv_salespos"),
    ("payment-map", "payment_map"),
    ("sku-rewrite", "sku_rewrite"),
    ("fixture-hostile", "fixture_hostile"),
    ("fixture-wrong-version", "fixture_wrong_version"),
    ("fixture-wrong-world", "fixture_wrong_world"),
    ("fixture-ledger", "fixture_ledger"),
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root")
        .to_path_buf();
    for watched in ["plugins", "tests/fixtures", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target_root = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target_dir = target_root.join("plugins");

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args([
            "build",
            "--profile",
            "plugin",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    for (package, _) in COMPONENTS {
        command.args(["-p", package]);
    }
    // The outer build's flags and wrappers are for the host, not for WASM.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        command.env_remove(var);
    }
    let output = command
        .output()
        .expect("cannot run cargo to build the plugins");
    if !output.status.success() {
        panic!(
            "building the plugins for wasm32-wasip2 failed.\n\
             If the target is missing, install it with `rustup target add wasm32-wasip2`.\n\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let plugin_dir = target_dir.join("wasm32-wasip2").join("plugin");
    for (package, stem) in COMPONENTS {
        let file = plugin_dir.join(format!("{stem}.wasm"));
        assert!(
            file.is_file(),
            "{package} did not produce {}",
            file.display()
        );
    }
    println!(
        "cargo:rustc-env=TILLBRIDGE_PLUGIN_DIR={}",
        plugin_dir.display()
    );
}
