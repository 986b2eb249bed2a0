//! `tillbridge validate` and `tillbridge plugins` on good and bad configurations.

use crate::support::{json_of, tillbridge};

const GOOD: &str = r#"
[plugins.payment-map]
file = "builtin:payment-map"
settings = { map = { PayPal = "2" } }

[plugins.hostile]
file = "HOSTILE"
secrets = { token = "${TB_TEST_TOKEN}" }

[connections.pos]
plugin = "hostile"
url = "http://127.0.0.1:8802"

[connections.other]
plugin = "hostile"
url = "http://127.0.0.1:8803"

[flows.stock]
kind = "stock"
source = "pos"
target = "other"
schedule = "0 * * * *"
"#;

fn setup(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let hostile = format!("{}/fixture_hostile.wasm", tillbridge::builtin::PLUGIN_DIR);
    std::fs::write(
        dir.path().join("flows.toml"),
        text.replace("HOSTILE", &hostile),
    )
    .unwrap();
    dir
}

/// Runs `validate` expecting failure; returns stderr.
fn refused(text: &str) -> String {
    let dir = setup(text);
    let output = tillbridge(dir.path())
        .arg("validate")
        .env("TB_TEST_TOKEN", "t")
        .output()
        .unwrap();
    assert!(!output.status.success(), "accepted:\n{text}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn a_good_configuration_is_summarised() {
    let dir = setup(GOOD);
    let output = tillbridge(dir.path())
        .arg("validate")
        .env("TB_TEST_TOKEN", "t")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("flows.toml is valid: 2 connection(s), 2 plugin(s), 1 flow(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("stock: stock pos → other (\"0 * * * *\", next "),
        "{stdout}"
    );
}

#[test]
fn each_mistake_names_its_line_and_key() {
    let cases = [
        (
            GOOD.replace("\"0 * * * *\"", "\"0 * * *\""),
            "0 * * *",
            "flows.stock.schedule",
        ),
        (
            GOOD.replace("kind = \"stock\"", "kind = \"stocks\""),
            "kind = \"stocks\"",
            "flows.stock.kind",
        ),
        (
            GOOD.replace("builtin:payment-map", "plugins/missing.wasm"),
            "missing.wasm",
            "plugins.payment-map.file",
        ),
        (
            GOOD.replace("${TB_TEST_TOKEN}", "${TB_TEST_UNSET}"),
            "TB_TEST_UNSET",
            "plugins.hostile.secrets.token",
        ),
        (
            GOOD.replace("schedule =", "scedule ="),
            "scedule",
            "flows.stock.scedule",
        ),
        // Numbers out of range used to pass here and panic later, at the end of every run.
        (
            format!("[host]\nretention_days = 4000000000\n{GOOD}"),
            "retention_days",
            "host.retention_days",
        ),
        (
            GOOD.replace(
                "url = \"http://127.0.0.1:8803\"",
                "url = \"http://127.0.0.1:8803\"\nrate_limits = { total_per_window = 5, window_secs = 1e300 }",
            ),
            "window_secs",
            "connections.other.rate_limits.window_secs",
        ),
    ];
    for (text, needle, key) in cases {
        let stderr = refused(&text);
        let expected = format!("flows.toml:{}:", line_of(&text, needle));
        assert!(
            stderr.contains(&expected),
            "expected {expected} in:\n{stderr}"
        );
        assert!(stderr.contains(key), "expected {key} in:\n{stderr}");
        assert!(
            stderr.contains("fix:"),
            "says what would be right:\n{stderr}"
        );
    }
}

#[test]
fn plugins_in_the_wrong_role_are_refused() {
    // The hostile fixture exports stock-source and stock-sink only: it cannot carry orders.
    let stderr = refused(&GOOD.replace("kind = \"stock\"", "kind = \"orders\""));
    assert!(
        stderr.contains("flows.stock.source") && stderr.contains("does not export orders-source"),
        "{stderr}"
    );
    assert!(
        stderr.contains("flows.stock.target")
            && stderr.contains("does not export orders-sink, products-sink, customers"),
        "{stderr}"
    );
}

#[test]
fn a_plugin_built_for_another_contract_version_is_refused_with_both_versions_and_the_rule() {
    let future = format!(
        "{}/fixture_wrong_version.wasm",
        tillbridge::builtin::PLUGIN_DIR
    );
    let text =
        format!("{GOOD}transforms = [\"future\"]\n\n[plugins.future]\nfile = \"{future}\"\n");
    let stderr = refused(&text);
    let line = stderr
        .lines()
        .find(|l| l.contains("tillbridge:plugin@0.9.0"))
        .unwrap_or_else(|| panic!("no line names the plugin's version:\n{stderr}"));
    assert!(line.contains("tillbridge:plugin@0.3.0"), "{line}");
    assert!(
        line.contains("same major.minor") || line.contains("its own major.minor"),
        "the rule, on the same line: {line}"
    );
}

#[test]
fn plugins_lists_worlds_capabilities_and_grants() {
    // Without the flow that puts the fixture in a role it cannot fill; the connection allows one
    // more origin, which adds to its own URL's.
    let text = GOOD.split("[flows.stock]").next().unwrap().replace(
        "url = \"http://127.0.0.1:8803\"\n",
        "url = \"http://127.0.0.1:8803\"\nallowed_hosts = [\"cdn.example.com\"]\n",
    );
    let dir = setup(&text);
    let rows = json_of(
        tillbridge(dir.path())
            .args(["plugins", "--json"])
            .env("TB_TEST_TOKEN", "t"),
    );
    let hostile = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "hostile")
        .unwrap();
    assert_eq!(hostile["world"], "connector");
    assert_eq!(hostile["wit_version"], "0.3.0");
    assert_eq!(
        hostile["capabilities"],
        serde_json::json!(["stock-source", "stock-sink"])
    );
    assert_eq!(hostile["uses"][0]["role"], "connection other");
    assert_eq!(
        hostile["uses"][0]["allowed_hosts"],
        serde_json::json!(["http://127.0.0.1:8803", "https://cdn.example.com"])
    );
    assert_eq!(
        hostile["uses"][0]["secrets"],
        serde_json::json!(["token"]),
        "names only, never values"
    );
    assert!(!rows.to_string().contains("\"t\""), "no secret value");
    let map = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "payment-map")
        .unwrap();
    assert_eq!(map["world"], "transform");
    assert_eq!(map["uses"][0]["allowed_hosts"], serde_json::json!([]));
    assert_eq!(
        map["settings"][0],
        serde_json::json!({
            "name": "map", "kind": "text-map", "required": true, "default": null,
            "description": "Payment method name (as the source's orders carry it) → the target's id."
        }),
        "what the plugin declares"
    );
    assert_eq!(hostile["settings"][0]["name"], "attack");
    assert_eq!(hostile["secrets"], serde_json::json!([]));
}

#[test]
fn the_shipped_flows_toml_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../flows.toml");
    std::fs::copy(shipped, dir.path().join("flows.toml")).unwrap();
    let output = tillbridge(dir.path()).arg("validate").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("4 flow(s)"));
}

/// A products flow from a webshop to the CCV point of sale, mapping `PROPERTIES`; the point of
/// sale at `POS_URL`.
const PROPERTY_MAPPING: &str = r#"
[plugins.shopware]
file = "builtin:shopware"

[plugins.ccv-salespos]
file = "builtin:ccv-salespos"

[connections.shop]
plugin = "shopware"
url = "http://127.0.0.1:9"
secrets = { client_id = "id", client_secret = "secret" }

[connections.pos]
plugin = "ccv-salespos"
url = "POS_URL"
secrets = { public_key = "PUBLIC", secret = "SECRET" }

[flows.products]
kind = "products"
source = "shop"
target = "pos"
schedule = "*/15 * * * *"
settings = { properties = PROPERTIES }
"#;

fn property_mapping(pos_url: &str, properties: &str) -> String {
    PROPERTY_MAPPING
        .replace("POS_URL", pos_url)
        .replace("PUBLIC", tillbridge_sim::dataset::CCV_PUBLIC_KEY)
        .replace("SECRET", tillbridge_sim::dataset::CCV_SECRET)
        .replace("PROPERTIES", properties)
}

/// `validate` asks the point of sale which product properties it has (FLOWS.md §3.4: properties
/// are mapped by the merchant onto CCV's product properties), names a mapped one it lacks at its
/// line, and says so, without failing, when the point of sale cannot be reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_checks_mapped_properties_against_the_point_of_sale() {
    let pos = tillbridge_sim::ccv::CcvSim::start(tillbridge_sim::ccv::CcvOptions {
        seed: tillbridge_sim::ccv::Seed::Dataset(tillbridge_sim::dataset::Dataset::demo()),
        ..Default::default()
    })
    .await
    .unwrap();
    let run = |text: String| async move {
        tokio::task::spawn_blocking(move || {
            let dir = setup(&text);
            let output = tillbridge(dir.path()).arg("validate").output().unwrap();
            (
                output.status.success(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
                text,
            )
        })
        .await
        .unwrap()
    };

    let (ok, stdout, stderr, _) = run(property_mapping(
        pos.base_url(),
        r#"{ "Material" = "Material", "Country of origin" = "Country of origin" }"#,
    ))
    .await;
    assert!(ok, "{stdout}\n{stderr}");

    let (ok, _, stderr, text) = run(property_mapping(
        pos.base_url(),
        r#"{ "Material" = "Materiaal" }"#,
    ))
    .await;
    assert!(!ok, "a property the point of sale lacks is refused");
    let at = format!(
        "flows.toml:{}:",
        line_of(&text, "\"Material\" = \"Materiaal\"")
    );
    assert!(
        stderr.contains(&at)
            && stderr.contains("flows.products.settings.properties.Material")
            && stderr.contains("pos has no product property \"Materiaal\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("fix:") && stderr.contains("Country of origin"),
        "names the properties it has: {stderr}"
    );

    let (ok, stdout, stderr, _) = run(property_mapping(
        "http://127.0.0.1:9",
        r#"{ "Material" = "Materiaal" }"#,
    ))
    .await;
    assert!(ok, "an unreachable system fails nothing: {stderr}");
    assert!(
        stdout.contains("product properties of pos were not checked"),
        "{stdout}"
    );
}

/// Connections and a transform whose settings and secrets do not match what their plugins
/// declare; `FIXED` is the same file put right.
const UNDECLARED: &str = r#"
[plugins.shopware]
file = "builtin:shopware"

[plugins.ccv-salespos]
file = "builtin:ccv-salespos"

[plugins.payment-map]
file = "builtin:payment-map"
settings = { map = { PayPal = "2" }, unmaped = "keep" }

[connections.shop]
plugin = "shopware"
url = "http://127.0.0.1:9"
secrets = { client_id = "id" }
settings = { page_sise = 100, remember_token = "yes" }

[connections.pos]
plugin = "ccv-salespos"
url = "http://127.0.0.1:9"
secrets = { public_key = "PUBLIC", secret = "SECRET" }

[flows.stock]
kind = "stock"
source = "pos"
target = "shop"
schedule = "*/15 * * * *"
"#;

#[test]
fn settings_and_secrets_are_checked_against_what_each_plugin_declares() {
    let stderr = refused(UNDECLARED);
    let line = |needle| format!("flows.toml:{}:", line_of(UNDECLARED, needle));
    for (at, key, says) in [
        (
            line("unmaped"),
            "plugins.payment-map.settings.unmaped: is not a setting of this plugin",
            "fix: did you mean `unmapped`?",
        ),
        (
            line("page_sise"),
            "connections.shop.settings.page_sise: is not a setting of this plugin",
            "fix: did you mean `page_size`?",
        ),
        (
            line("remember_token"),
            "connections.shop.settings.remember_token: must be a boolean, not the text \"yes\"",
            "fix: write it as `remember_token = true`",
        ),
        (
            line("client_id"),
            "connections.shop.secrets: plugin \"shopware\" needs the secret \"client_secret\", which is not granted",
            "fix: add `client_secret = \"${SHOP_CLIENT_SECRET}\"` to `secrets` of [connections.shop]",
        ),
    ] {
        let message = stderr
            .lines()
            .position(|l| l.contains(key))
            .unwrap_or_else(|| panic!("expected {key} in:\n{stderr}"));
        let lines: Vec<&str> = stderr.lines().collect();
        assert!(lines[message].contains(&at), "{key} is at {at}:\n{stderr}");
        assert!(
            lines[message + 1].contains(says),
            "{key}: expected {says}:\n{stderr}"
        );
    }
    assert_eq!(
        stderr.matches("fix:").count(),
        4,
        "nothing else is wrong:\n{stderr}"
    );

    let missing = UNDECLARED.replace("map = { PayPal = \"2\" }, ", "");
    let stderr = refused(&missing);
    assert!(
        stderr.contains(&format!(
            "flows.toml:{}:1: plugins.payment-map.settings.map: is required, but not set",
            line_of(&missing, "unmaped")
        )),
        "{stderr}"
    );

    let fixed = UNDECLARED
        .replace("unmaped", "unmapped")
        .replace("page_sise", "page_size")
        .replace("\"yes\"", "true")
        .replace(
            "client_id = \"id\"",
            "client_id = \"id\", client_secret = \"s\"",
        );
    let dir = setup(&fixed);
    let output = tillbridge(dir.path()).arg("validate").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn once_check_and_run_refuse_settings_their_plugins_do_not_declare_before_starting() {
    let text = UNDECLARED.replace("page_sise", "page_size").replace(
        "client_id = \"id\"",
        "client_id = \"id\", client_secret = \"s\"",
    );
    let text = text.replace("\"yes\"", "true");
    let dir = setup(&text);
    let at = format!("flows.toml:{}:", line_of(&text, "unmaped"));
    for args in [&["once", "stock"][..], &["check"], &["run"]] {
        let output = tillbridge(dir.path()).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} started:\n{stderr}");
        assert!(
            stderr.contains(&at) && stderr.contains("plugins.payment-map.settings.unmaped"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("did you mean `unmapped`?"), "{stderr}");
    }
    assert!(
        !dir.path().join("tillbridge.redb").exists(),
        "nothing ran, so no state was written"
    );
}
