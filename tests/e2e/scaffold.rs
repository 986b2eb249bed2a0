//! `tillbridge new`: a scaffolded connector and transform build outside the workspace, pass
//! their own tests against the SDK's mock host, and load in the host unchanged.
//!
//! The scaffolds build with one shared `CARGO_TARGET_DIR` (`target/tmp/scaffolds`), so that the
//! second crate and later runs reuse what the first compiled.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::support::{json_of, tillbridge};

/// Every capability the scaffold offers.
const CAPABILITIES: &str =
    "products-source,products-sink,stock-source,stock-sink,customers,orders-sink";

/// `cargo ARGS` in `dir`, with the shared target folder and none of the outer build's settings.
fn cargo(dir: &Path, args: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_INCREMENTAL", "0");
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_MANIFEST_DIR",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        command.env_remove(var);
    }
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {args:?} in {} failed:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffolds")
}

/// Scaffolds a crate into `dir`, runs its tests and builds its component; the .wasm file.
fn scaffold(dir: &Path, args: &[&str], stem: &str) -> PathBuf {
    let output = tillbridge(dir).arg("new").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "tillbridge new {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let name = args[1];
    let crate_dir = dir.join(name);
    cargo(&crate_dir, &["test"]);
    cargo(
        &crate_dir,
        &["build", "--target", "wasm32-wasip2", "--release"],
    );
    let wasm = target_dir().join(format!("wasm32-wasip2/release/{stem}.wasm"));
    assert!(wasm.is_file(), "{} was not built", wasm.display());
    wasm
}

#[test]
fn scaffolded_plugins_build_outside_the_workspace_and_load_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let connector = scaffold(
        dir.path(),
        &["connector", "ledger-demo", "--capabilities", CAPABILITIES],
        "ledger_demo",
    );
    let transform = scaffold(dir.path(), &["transform", "mail-clean"], "mail_clean");

    // The crates are in no workspace: each names an empty one of its own.
    let manifest = std::fs::read_to_string(dir.path().join("ledger-demo/Cargo.toml")).unwrap();
    assert!(manifest.contains("\n[workspace]\n"), "{manifest}");

    // As scaffolded, the connector passes the conformance suite against the ledger simulator.
    let suite = tillbridge(dir.path())
        .args(["conformance"])
        .arg(&connector)
        .args(["--against", "ledger-sim"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&suite.stdout);
    assert!(
        suite.status.success(),
        "the scaffolded connector fails the conformance suite:\n{table}\n{}",
        String::from_utf8_lossy(&suite.stderr)
    );
    assert!(table.contains(", 0 failed"), "{table}");

    std::fs::write(
        dir.path().join("flows.toml"),
        format!(
            "[plugins.ledger-demo]\nfile = {connector:?}\nsecrets = {{ token = \"${{LEDGER_TOKEN}}\" }}\n\n\
             [plugins.mail-clean]\nfile = {transform:?}\nsettings = {{ drop_domains = [\"example.com\"] }}\n\n\
             [connections.ledger]\nplugin = \"ledger-demo\"\nurl = \"http://127.0.0.1:8803\"\n"
        ),
    )
    .unwrap();
    let plugins = json_of(
        tillbridge(dir.path())
            .args(["plugins", "--json"])
            .env("LEDGER_TOKEN", "t"),
    );
    let by_name = |name: &str| {
        plugins
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not listed: {plugins}"))
    };
    let ledger = by_name("ledger-demo");
    assert_eq!(ledger["world"], "connector");
    let mut capabilities: Vec<String> = ledger["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    capabilities.sort();
    let mut expected: Vec<&str> = CAPABILITIES.split(',').collect();
    expected.sort();
    assert_eq!(capabilities, expected);
    assert_eq!(by_name("mail-clean")["world"], "transform");

    // The transform runs as flows.toml sets it up: addresses cleaned, a listed domain dropped.
    let mut orders = Vec::new();
    for (number, email) in [("1", " Ada@Shop.NL "), ("2", "test@example.com")] {
        let mut order = crate::transforms::order(number, "PayPal");
        order["customer"]["email"] = json!(email);
        orders.push(order);
    }
    std::fs::write(
        dir.path().join("orders.json"),
        Value::Array(orders).to_string(),
    )
    .unwrap();
    let verdicts = json_of(
        tillbridge(dir.path())
            .args([
                "transform",
                "mail-clean",
                "--input",
                "orders.json",
                "--kind",
                "order",
            ])
            .env("LEDGER_TOKEN", "t"),
    );
    assert_eq!(verdicts[0]["verdict"], "keep");
    assert_eq!(
        verdicts[0]["output"]["order"]["customer"]["email"],
        "ada@shop.nl"
    );
    assert_eq!(verdicts[1]["verdict"], "drop");
}

#[test]
fn a_bad_name_or_capability_is_refused_with_what_is_valid_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            vec!["connector", "Ledger_X", "--capabilities", "stock-sink"],
            "\"Ledger_X\" is not a plugin name: use lower case letters and digits",
        ),
        (
            vec!["connector", "ledger", "--capabilities", "stock-sink,orders"],
            "\"orders\" is not a capability the scaffold knows; choose from: products-source, products-sink, stock-source, stock-sink, customers, orders-sink",
        ),
        (
            vec!["transform", "clean", "--sdk", "crates.io"],
            "give path=PATH (a tillbridge-sdk folder) or git=URL",
        ),
    ] {
        let output = tillbridge(dir.path())
            .arg("new")
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_folder_in_use_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("clean")).unwrap();
    std::fs::write(dir.path().join("clean/notes.txt"), "mine").unwrap();
    let output = tillbridge(dir.path())
        .args(["new", "transform", "clean"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not empty"));
    assert_eq!(
        std::fs::read_dir(dir.path().join("clean")).unwrap().count(),
        1
    );
}
