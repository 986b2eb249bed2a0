//! `tillbridge conformance` through the binary: the ledger fixture passes against the ledger
//! simulator, each of its deliberate defects fails the one check that is about it with the
//! reason, and both built-in connectors pass against their simulators.

use std::path::PathBuf;

use crate::support::tillbridge;

/// The fixture's component file.
fn ledger_fixture() -> String {
    PathBuf::from(tillbridge::builtin::PLUGIN_DIR)
        .join("fixture_ledger.wasm")
        .display()
        .to_string()
}

/// Runs the suite; (exit code, the table's rows split into columns).
fn conformance(plugin: &str, against: &str, extra: &[&str]) -> (i32, Vec<Vec<String>>) {
    let dir = tempfile::tempdir().unwrap();
    let output = tillbridge(dir.path())
        .args(["conformance", plugin, "--against", against])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let rows: Vec<Vec<String>> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("check "))
        .skip(1)
        .take_while(|l| !l.contains(" passed, "))
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect();
    assert!(
        !rows.is_empty(),
        "no table: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap(), rows)
}

/// The rows that did not pass.
fn not_passed(rows: &[Vec<String>]) -> Vec<&Vec<String>> {
    rows.iter().filter(|r| r[2] != "pass").collect()
}

#[test]
fn the_ledger_fixture_passes_every_check_against_the_ledger_simulator() {
    let (code, rows) = conformance(&ledger_fixture(), "ledger-sim", &[]);
    assert_eq!(not_passed(&rows), Vec::<&Vec<String>>::new());
    assert_eq!(code, 0);
    let checks: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    for check in [
        "paging returns every record once",
        "a cursor resumes where it stopped",
        "a customer written is found by e-mail, once",
        "creating twice with one marker creates once",
        "find-by-marker finds what was written",
        "errors: 429 with Retry-After is rate-limited",
        "errors: a 5xx is transient",
        "errors: a 401 is auth",
        "errors: a validation error is invalid, naming the record",
        "batches keep their order and report per record",
        "no request goes to an undeclared host",
        "secrets never appear in the log",
    ] {
        assert!(checks.contains(&check), "{check} was not run: {checks:?}");
    }
    let capabilities: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    for capability in [
        "products-source",
        "stock-source",
        "customers",
        "orders-sink",
        "products-sink",
    ] {
        assert!(
            capabilities.contains(&capability),
            "{capability}: {capabilities:?}"
        );
    }
}

/// Runs the fixture with one defect: it fails, and only with the rows of `check`, each with a
/// reason that contains `reason`.
fn fails_only(defect: &str, check: &str, reason: &str) {
    let settings = format!(r#"{{"defect": "{defect}"}}"#);
    let (code, rows) = conformance(&ledger_fixture(), "ledger-sim", &["--settings", &settings]);
    assert_eq!(code, 1, "{defect}: {rows:?}");
    let failed: Vec<&Vec<String>> = rows.iter().filter(|r| r[2] == "FAIL").collect();
    assert!(!failed.is_empty(), "{defect}: nothing failed");
    for row in failed {
        assert!(
            row[0].starts_with(check),
            "{defect} failed another check: {row:?}"
        );
        assert!(row[3].contains(reason), "{defect}: {row:?}");
    }
}

#[test]
fn losing_a_record_at_a_page_border_fails_paging() {
    fails_only(
        "page-border",
        "paging returns every record once",
        "lost at page borders: CONF-0002",
    );
}

#[test]
fn creating_twice_on_a_repeated_write_fails_the_marker_check() {
    fails_only(
        "double-create",
        "creating twice with one marker creates once",
        "the target holds 2 records with it",
    );
}

#[test]
fn reporting_every_error_as_fatal_fails_classification() {
    fails_only("fatal-errors", "errors: ", "fatal: ");
}

#[test]
fn calling_an_undeclared_host_fails_the_host_check() {
    fails_only(
        "undeclared-host",
        "no request goes to an undeclared host",
        "GET https://telemetry.ledger-analytics.example/ping",
    );
}

#[test]
fn logging_a_secret_fails_the_secret_check_without_printing_it() {
    fails_only(
        "logs-secret",
        "secrets never appear in the log",
        "the secret `token` is in the log line: connecting to http://127.0.0.1:",
    );
    let settings = r#"{"defect": "logs-secret"}"#;
    let (_, rows) = conformance(&ledger_fixture(), "ledger-sim", &["--settings", settings]);
    let leak = rows.iter().find(|r| r[2] == "FAIL").unwrap();
    assert!(
        !leak[3].contains("ledger-conformance-token"),
        "the report masks the secret: {leak:?}"
    );
}

#[test]
fn the_shopware_connector_passes_against_its_simulator() {
    let (code, rows) = conformance("shopware", "shopware-sim", &[]);
    assert_eq!(not_passed(&rows), Vec::<&Vec<String>>::new());
    assert_eq!(code, 0);
}

#[test]
fn the_ccv_connector_passes_against_its_simulator() {
    let (code, rows) = conformance("ccv-salespos", "ccv-sim", &[]);
    assert_eq!(not_passed(&rows), Vec::<&Vec<String>>::new());
    assert_eq!(code, 0);
}

#[test]
fn a_wrong_secret_fails_the_connection_check_as_auth() {
    let (code, rows) = conformance(
        &ledger_fixture(),
        "ledger-sim",
        &["--secret", "token=not-the-token"],
    );
    assert_eq!(code, 1);
    assert_eq!(rows[0][2], "FAIL", "{rows:?}");
    assert!(rows[0][3].contains("authentication"), "{rows:?}");
}
