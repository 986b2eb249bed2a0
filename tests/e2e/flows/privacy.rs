//! FLOWS.md §4.4: with `redact_personal_data` on, neither the state file nor any command keeps a
//! person's data, and the flows still do their work.

use std::path::Path;

use tillbridge_sim::dataset::Dataset;

use super::harness::{EVERY_FLOW, Pair};
use crate::support::tillbridge;

/// The demo seed's personal data: every customer's e-mail address, names, street, city and
/// company, and the older street the point of sale has for the customers it knows.
fn personal_data() -> Vec<String> {
    let mut data = vec!["Oude Gracht".to_string()];
    for c in Dataset::demo().customers {
        data.extend([c.email, c.first_name, c.last_name, c.street, c.city]);
        data.extend(c.company.map(|(name, _, _)| name));
    }
    data
}

/// Whether `needle` occurs in `haystack` as a word of its own (not inside a longer word: "Bos"
/// in "Bosch" would be another name, and a random byte run is no leak).
fn holds(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    let word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    haystack
        .windows(needle.len())
        .enumerate()
        .any(|(at, window)| {
            window == needle
                && !word(at.checked_sub(1).and_then(|i| haystack.get(i)))
                && !word(haystack.get(at + needle.len()))
        })
}

/// Runs a command of the binary against `config`; returns everything it printed.
fn run(dir: &Path, config: &Path, args: &[&str]) -> String {
    let output = tillbridge(dir)
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{args:?} failed:\n{printed}");
    printed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redaction_no_personal_data_is_in_the_state_file_or_any_output() {
    let mut pair = Pair::demo(EVERY_FLOW).await;
    pair.reconfigure(|text| text.replacen("[host]\n", "[host]\nredact_personal_data = true\n", 1));
    let config = pair.child_config("private.redb");
    let dir = pair.dir.path().to_path_buf();
    let mut printed = String::new();
    // Orders first, so that one waits (kept in the state file) for a product the next flows make.
    for flow in ["orders", "categories", "products", "stock", "orders"] {
        printed += &run(&dir, &config, &["once", flow, "--all"]);
    }
    printed += &run(&dir, &config, &["once", "orders", "--dry-run", "--all"]);
    printed += &run(&dir, &config, &["runs"]);
    for id in 1..=5 {
        printed += &run(&dir, &config, &["activity", &id.to_string(), "--verbose"]);
    }
    printed += &run(
        &dir,
        &config,
        &["activity", "--search", "10006", "--verbose"],
    );
    let by_address = run(
        &dir,
        &config,
        &["activity", "--search", "Sanne.Bos@example.nl", "--verbose"],
    );
    assert!(
        by_address.contains("customer") && by_address.contains("updated"),
        "a customer's records are still found by the address:\n{by_address}"
    );
    printed += &by_address;

    assert!(
        pair.pos_order("10006").is_some(),
        "the waiting order went once its product existed"
    );
    let state = std::fs::read(dir.join("private.redb")).unwrap();
    for needle in personal_data() {
        assert!(!holds(&state, &needle), "the state file holds {needle:?}");
        assert!(
            !holds(printed.as_bytes(), &needle),
            "a command printed {needle:?}:\n{printed}"
        );
    }
}
