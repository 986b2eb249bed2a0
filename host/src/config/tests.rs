//! Every kind of mistake a merchant makes in flows.toml is named with its line, key and fix.

use std::path::Path;

use super::*;

pub(super) const GOOD: &str = r#"
[plugins.shopware]
file = "builtin:shopware"

[plugins.ccv]
file = "builtin:ccv-salespos"

[plugins.payment-map]
file = "builtin:payment-map"
settings = { map = { PayPal = "2" } }

[connections.shop]
plugin = "shopware"
url = "${SHOP_URL:-http://127.0.0.1:8801}"
secrets = { client_id = "${SHOP_ID}", client_secret = "${SHOP_SECRET}" }

[connections.pos]
plugin = "ccv"
url = "http://127.0.0.1:8802"

[flows.orders]
kind = "orders"
source = "shop"
target = "pos"
schedule = "*/5 * * * *"
transforms = ["payment-map"]
settings = { payment_states = ["paid"], start_date = "2026-01-01", batch_size = 50 }

[flows.stock]
kind = "stock"
source = "pos"
target = "shop"
settings = { calculation = "physical", buffer = 2 }
"#;

const BUILTINS: &[&str] = &["shopware", "ccv-salespos", "payment-map", "sku-rewrite"];

fn vars(name: &str) -> Option<String> {
    match name {
        "SHOP_ID" => Some("SWIA123".into()),
        "SHOP_SECRET" => Some("s3cret".into()),
        "BOARD_TOKEN" => Some("a-long-random-dashboard-token".into()),
        "SHORT_TOKEN" => Some("abc".into()),
        _ => None,
    }
}

pub(super) fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("flows.toml"), text, &vars, BUILTINS)
}

/// The only problem of a config that must fail.
fn problem(text: &str) -> Problem {
    let err = parse(text).expect_err("this configuration must be refused");
    assert_eq!(err.problems.len(), 1, "{err}");
    err.problems[0].clone()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle in text")
        + 1
}

#[test]
fn a_good_file_reads_with_defaults_and_secrets_resolved() {
    let config = parse(GOOD).unwrap();
    assert_eq!(config.connections["shop"].url, "http://127.0.0.1:8801");
    assert_eq!(
        config.connections["shop"].secrets["client_secret"],
        "s3cret"
    );
    let orders = &config.flows["orders"];
    let FlowSettings::Orders(settings) = &orders.settings else {
        panic!("orders settings")
    };
    assert_eq!(settings.batch_size, 50);
    assert_eq!(
        settings.start().unwrap().to_rfc3339(),
        "2026-01-01T00:00:00+00:00"
    );
    let FlowSettings::Stock(stock) = &config.flows["stock"].settings else {
        panic!("stock settings")
    };
    assert_eq!(stock.calculation, StockCalculation::Physical);
    assert!(stock.floor_at_zero, "floor at zero by default");
    assert_eq!(
        config.flows["stock"].schedule.expression, "*/5 * * * *",
        "every five minutes by default"
    );
}

#[test]
fn a_bad_cron_expression_names_its_line() {
    let text = GOOD.replace("schedule = \"*/5 * * * *\"", "schedule = \"*/5 * *\"");
    let p = problem(&text);
    assert_eq!(p.key(), "flows.orders.schedule");
    assert_eq!(p.position.unwrap().0, line_of(&text, "schedule ="));
    assert!(p.message.contains("3 fields"), "{}", p.message);
    assert!(p.hint.unwrap().contains("*/5 * * * *"));

    let text = GOOD.replace("schedule = \"*/5 * * * *\"", "schedule = \"61 * * * *\"");
    let p = problem(&text);
    assert_eq!(p.key(), "flows.orders.schedule");
    assert!(
        p.message.contains("not a valid cron expression"),
        "{}",
        p.message
    );
}

#[test]
fn a_rate_limit_override_names_its_operation_line_and_fix() {
    let limits = "url = \"http://127.0.0.1:8802\"\n\n[connections.pos.rate_limits.operations]\n\"GET /productqueries\" = { requests = 20, per_seconds = 60 }\n";
    let text = GOOD.replace("url = \"http://127.0.0.1:8802\"\n", limits);
    let config = parse(&text).unwrap();
    let operations = &config.connections["pos"]
        .rate_limits
        .as_ref()
        .unwrap()
        .operations;
    assert_eq!(operations["GET /productqueries"].requests, 20);

    let text = text.replace("\"GET /productqueries\"", "\"GET productqueries\"");
    let p = problem(&text);
    assert_eq!(
        p.key(),
        "connections.pos.rate_limits.operations.\"GET productqueries\""
    );
    assert_eq!(p.position.unwrap().0, line_of(&text, "GET productqueries"));
    assert!(p.message.contains("must start with /"), "{}", p.message);
    assert!(p.hint.unwrap().contains("\"GET /productqueries\""));

    let text = text
        .replace("\"GET productqueries\"", "\"GET /productqueries\"")
        .replace("requests = 20", "requests = 0");
    let p = problem(&text);
    assert_eq!(
        p.key(),
        "connections.pos.rate_limits.operations.\"GET /productqueries\".requests"
    );
    assert_eq!(p.position.unwrap().0, line_of(&text, "requests = 0"));
}

#[test]
fn an_allowed_host_that_is_no_origin_names_its_line_and_fix() {
    let grant = "url = \"http://127.0.0.1:8802\"\nprivate_network = true\nallowed_hosts = [\"https://api.example.com\", \"ftp://files.example.com\"]\n";
    let text = GOOD.replace("url = \"http://127.0.0.1:8802\"\n", grant);
    let p = problem(&text);
    assert_eq!(p.key(), "connections.pos.allowed_hosts");
    assert_eq!(p.position.unwrap().0, line_of(&text, "ftp://"));
    assert!(
        p.message.contains("neither http nor https"),
        "{}",
        p.message
    );
    assert!(p.hint.unwrap().contains("`https://shop.example.com`"));
    let config = parse(&text.replace(", \"ftp://files.example.com\"", "")).unwrap();
    assert!(config.connections["pos"].private_network);
    assert!(
        !config.connections["shop"].private_network,
        "off unless set"
    );
}

#[test]
fn cron_weekdays_are_read_as_crontab_reads_them() {
    use chrono::{Datelike, TimeZone, Utc, Weekday};
    // A Wednesday.
    let wednesday = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
    let days = |expression: &str| -> Vec<Weekday> {
        let schedule = Schedule::parse(expression).unwrap_or_else(|p| panic!("{}", p.message));
        schedule
            .next_times(wednesday, 7)
            .iter()
            .map(|t| t.weekday())
            .collect()
    };
    assert_eq!(days("0 9 * * 0"), vec![Weekday::Sun; 7], "0 is Sunday");
    assert_eq!(days("0 9 * * 7"), vec![Weekday::Sun; 7], "and so is 7");
    assert_eq!(days("0 9 * * 1"), vec![Weekday::Mon; 7], "1 is Monday");
    use Weekday::*;
    assert_eq!(
        days("0 9 * * 1-5"),
        vec![Thu, Fri, Mon, Tue, Wed, Thu, Fri],
        "1-5 is Monday to Friday"
    );
    assert_eq!(
        days("0 9 * * SAT,SUN"),
        vec![Sat, Sun, Sat, Sun, Sat, Sun, Sat]
    );
    // A day of the month and a weekday both given: either matches (Vixie cron).
    let either = Schedule::parse("0 9 13 * 5")
        .unwrap()
        .next_times(wednesday, 3);
    assert_eq!(
        either
            .iter()
            .map(|t| (t.day(), t.weekday()))
            .collect::<Vec<_>>(),
        vec![(3, Fri), (10, Fri), (13, Mon)]
    );
    let seconds = Schedule::parse("*/2 * * * * *").unwrap();
    assert_eq!(
        seconds.next_after(wednesday),
        Some(wednesday + chrono::Duration::seconds(2)),
        "six fields: seconds first"
    );
}

#[test]
fn an_unknown_flow_kind_lists_the_kinds() {
    let text = GOOD.replace("kind = \"stock\"", "kind = \"invoices\"");
    let p = problem(&text);
    assert_eq!(p.key(), "flows.stock.kind");
    assert_eq!(p.position.unwrap().0, line_of(&text, "kind = \"invoices\""));
    let hint = p.hint.unwrap();
    assert!(
        hint.contains("orders") && hint.contains("categories"),
        "{hint}"
    );
}

#[test]
fn a_missing_plugin_file_is_named() {
    let text = GOOD.replace(
        "file = \"builtin:payment-map\"",
        "file = \"plugins/nowhere.wasm\"",
    );
    let p = problem(&text);
    assert_eq!(p.key(), "plugins.payment-map.file");
    assert_eq!(p.position.unwrap().0, line_of(&text, "nowhere.wasm"));
    assert!(p.message.contains("nowhere.wasm"));

    let text = GOOD.replace("builtin:payment-map", "builtin:payment-mapper");
    let p = problem(&text);
    assert!(
        p.hint.unwrap().contains("payment-map"),
        "lists the built-ins"
    );
}

#[test]
fn a_secret_from_an_unset_variable_is_named() {
    let text = GOOD.replace("${SHOP_SECRET}", "${SHOP_SECRET_TYPO}");
    let p = problem(&text);
    assert_eq!(p.key(), "connections.shop.secrets.client_secret");
    assert_eq!(p.position.unwrap().0, line_of(&text, "SHOP_SECRET_TYPO"));
    assert!(p.message.contains("SHOP_SECRET_TYPO"));
    assert!(p.hint.unwrap().contains("export SHOP_SECRET_TYPO"));
}

#[test]
fn unknown_keys_are_refused_everywhere() {
    let text = GOOD.replace("schedule = \"*/5 * * * *\"", "schedul = \"*/5 * * * *\"");
    let p = problem(&text);
    assert_eq!(p.key(), "flows.orders.schedul");
    assert_eq!(p.position.unwrap().0, line_of(&text, "schedul ="));
    assert!(
        p.hint.unwrap().contains("schedule"),
        "suggests the allowed keys"
    );

    let text = GOOD.replace("buffer = 2", "bufer = 2");
    let p = problem(&text);
    assert_eq!(p.key(), "flows.stock.settings.bufer");
    assert_eq!(p.position.unwrap().0, line_of(&text, "bufer"));

    let text = format!("{GOOD}\n[hosts]\nstate = \"x\"\n");
    assert_eq!(problem(&text).key(), "hosts");
}

#[test]
fn wrong_names_and_types_are_explained() {
    let text = GOOD.replace("target = \"pos\"", "target = \"till\"");
    let p = problem(&text);
    assert_eq!(p.key(), "flows.orders.target");
    assert!(p.hint.unwrap().contains("pos"), "lists the connections");

    let text = GOOD.replace("batch_size = 50", "batch_size = \"fifty\"");
    let p = problem(&text);
    assert_eq!(p.key(), "flows.orders.settings.batch_size");
    assert!(p.message.contains("invalid type"), "{}", p.message);
}

#[test]
fn several_problems_are_reported_together_in_file_order() {
    let text = GOOD
        .replace("${SHOP_SECRET}", "${NOPE}")
        .replace("${SHOP_ID}", "${NADA}");
    let err = parse(&text).unwrap_err();
    assert_eq!(err.problems.len(), 2);
    let shown = err.to_string();
    assert!(shown.starts_with("flows.toml:"), "{shown}");
    assert!(shown.contains("NADA") && shown.contains("NOPE"));
}

#[test]
fn syntax_errors_have_a_position() {
    let err = parse("[flows.orders\nkind = 1").unwrap_err();
    assert!(err.problems[0].position.is_some(), "{err}");
}

#[test]
fn the_dashboard_listens_on_this_machine_only_by_default() {
    let config = parse(GOOD).unwrap();
    assert!(config.dashboard.enabled);
    assert_eq!(config.dashboard.address().to_string(), DEFAULT_LISTEN);
    assert!(config.dashboard.address().ip().is_loopback());
    assert_eq!(config.dashboard.token, None, "generated at start");

    let text =
        format!("{GOOD}\n[dashboard]\nlisten = \"0.0.0.0:9000\"\ntoken = \"${{BOARD_TOKEN}}\"\n");
    let config = parse(&text).unwrap();
    assert_eq!(
        config.dashboard.token.as_deref(),
        Some("a-long-random-dashboard-token")
    );
    assert!(config.dashboard.listen_given);
}

#[test]
fn a_dashboard_token_must_come_from_the_environment_and_be_long() {
    let text = format!("{GOOD}\n[dashboard]\ntoken = \"hunter2hunter2hunter2\"\n");
    let p = problem(&text);
    assert_eq!(p.key(), "dashboard.token");
    assert_eq!(p.position.unwrap().0, line_of(&text, "hunter2"));
    assert!(p.hint.unwrap().contains("${TILLBRIDGE_DASHBOARD_TOKEN}"));

    let text = format!("{GOOD}\n[dashboard]\ntoken = \"${{SHORT_TOKEN}}\"\n");
    let p = problem(&text);
    assert_eq!(p.key(), "dashboard.token");
    assert!(p.message.contains("shorter"), "{}", p.message);
}

#[test]
fn a_bad_dashboard_address_is_named_with_the_fix() {
    let text = format!("{GOOD}\n[dashboard]\nlisten = \"localhost\"\n");
    let p = problem(&text);
    assert_eq!(p.key(), "dashboard.listen");
    assert_eq!(p.position.unwrap().0, line_of(&text, "listen ="));
    assert!(p.hint.unwrap().contains("127.0.0.1:8780"));

    // Reachable from other machines only with a token the merchant chose.
    let text = format!("{GOOD}\n[dashboard]\nlisten = \"0.0.0.0:8780\"\n");
    let p = problem(&text);
    assert_eq!(p.key(), "dashboard.listen");
    assert!(p.hint.unwrap().contains("token"));

    let text = format!("{GOOD}\n[dashboard]\nport = 8780\n");
    assert_eq!(problem(&text).key(), "dashboard.port");
}

#[test]
fn notify_reads_its_channels_and_times() {
    let text = format!(
        "{GOOD}\n[notify]\nwebhook = \"${{HOOK}}\"\nparked_after = \"90m\"\n\n[notify.email]\nhost = \"smtp.example.com\"\nuser = \"tillbridge\"\npassword = \"${{SHOP_SECRET}}\"\nfrom = \"tillbridge <tb@example.com>\"\nto = [\"shop@example.com\"]\n"
    );
    let vars = |name: &str| match name {
        "HOOK" => Some("https://hooks.slack.com/services/T0/B0/x".to_string()),
        _ => vars(name),
    };
    let config = Config::parse(Path::new("flows.toml"), &text, &vars, BUILTINS).unwrap();
    let notify = &config.notify;
    assert!(notify.enabled());
    assert_eq!(
        notify.webhook.as_deref(),
        Some("https://hooks.slack.com/services/T0/B0/x")
    );
    assert_eq!(
        notify.parked_after(),
        std::time::Duration::from_secs(90 * 60)
    );
    let email = notify.email.as_ref().unwrap();
    assert_eq!((email.security, email.port()), (Security::Starttls, 587));
    assert_eq!(email.password.as_deref(), Some("s3cret"));
    assert!(
        !parse(GOOD).unwrap().notify.enabled(),
        "off without [notify]"
    );
}

#[test]
fn notify_mistakes_are_named_with_the_fix() {
    // A secret written in the file.
    let text =
        format!("{GOOD}\n[notify]\nwebhook = \"https://hooks.slack.com/services/T0/B0/x\"\n");
    let p = problem(&text);
    assert_eq!(p.key(), "notify.webhook");
    assert_eq!(p.position.unwrap().0, line_of(&text, "webhook ="));
    assert!(p.hint.unwrap().contains("${TILLBRIDGE_WEBHOOK_URL}"));

    let text = format!("{GOOD}\n[notify]\nwebhook = \"${{SHOP_ID}}\"\nparked_after = \"soon\"\n");
    let err = parse(&text).expect_err("refused");
    let keys: Vec<String> = err.problems.iter().map(Problem::key).collect();
    assert_eq!(keys, ["notify.webhook", "notify.parked_after"], "{err}");
    assert!(err.problems[1].hint.as_ref().unwrap().contains("\"2h\""));
    assert_eq!(
        err.problems[1].position.unwrap().0,
        line_of(&text, "parked_after")
    );

    let email = "[notify.email]\nhost = \"smtp.example.com\"\nsecurity = \"plain\"\nfrom = \"tb@example.com\"\nto = [\"not an address\"]\n";
    let text = format!("{GOOD}\n{email}");
    let err = parse(&text).expect_err("refused");
    let keys: Vec<String> = err.problems.iter().map(Problem::key).collect();
    assert_eq!(
        keys,
        ["notify.email.security", "notify.email.to.0"],
        "{err}"
    );
    assert!(err.problems[0].hint.as_ref().unwrap().contains("starttls"));

    let text = format!(
        "{GOOD}\n[notify.email]\nhost = \"smtp.example.com\"\npassword = \"hunter2\"\nuser = \"u\"\nfrom = \"tb@example.com\"\nto = [\"a@example.com\"]\n"
    );
    let p = problem(&text);
    assert_eq!(p.key(), "notify.email.password");
    assert_eq!(p.position.unwrap().0, line_of(&text, "hunter2"));

    let text = format!("{GOOD}\n[notify]\nwebhok = \"${{SHOP_ID}}\"\n");
    assert_eq!(problem(&text).key(), "notify.webhok");
}

#[test]
fn every_number_has_a_range_named_with_its_line_and_fix() {
    let plugin = "file = \"builtin:payment-map\"";
    let window = "url = \"http://127.0.0.1:8802\"";
    for (from, to, key) in [
        (
            "[flows.orders]",
            "[host]\nretention_days = 4000000000\n\n[flows.orders]",
            "host.retention_days",
        ),
        (
            "[flows.orders]",
            "[host]\nretention_days = 0\n\n[flows.orders]",
            "host.retention_days",
        ),
        (
            "batch_size = 50",
            "batch_size = 0",
            "flows.orders.settings.batch_size",
        ),
        ("buffer = 2", "buffer = -3", "flows.stock.settings.buffer"),
        (
            "buffer = 2",
            "buffer = 9223372036854775807",
            "flows.stock.settings.buffer",
        ),
        (
            plugin,
            &format!("{plugin}\nmemory_mb = 1000000"),
            "plugins.payment-map.memory_mb",
        ),
        (
            plugin,
            &format!("{plugin}\ncpu_budget_ms = 0"),
            "plugins.payment-map.cpu_budget_ms",
        ),
        (
            plugin,
            &format!("{plugin}\ncall_timeout_secs = 100000000"),
            "plugins.payment-map.call_timeout_secs",
        ),
        (
            "[flows.orders]",
            "[notify]\nparked_after = \"500years\"\n\n[flows.orders]",
            "notify.parked_after",
        ),
        (
            "[flows.orders]",
            "[notify]\ndigest_window = \"3days\"\n\n[flows.orders]",
            "notify.digest_window",
        ),
    ] {
        let text = GOOD.replacen(from, to, 1);
        let p = problem(&text);
        assert_eq!(p.key(), key, "{text}");
        let last = key.rsplit('.').next().unwrap();
        assert_eq!(p.position.unwrap().0, line_of(&text, last), "{key}");
        assert!(p.hint.is_some(), "{key} says what to write");
    }
    for window_secs in ["1e300", "nan", "inf", "-inf", "-1", "0", "86401"] {
        let text = GOOD.replacen(
            window,
            &format!(
                "{window}\nrate_limits = {{ total_per_window = 10, window_secs = {window_secs} }}"
            ),
            1,
        );
        let p = problem(&text);
        assert_eq!(
            p.key(),
            "connections.pos.rate_limits.window_secs",
            "{window_secs}"
        );
        assert!(p.message.contains("86400"), "{}", p.message);
    }
}

#[test]
fn numbers_at_the_ends_of_their_ranges_are_taken() {
    let text = GOOD
        .replacen("[flows.orders]", "[host]\nretention_days = 3650\n\n[flows.orders]", 1)
        .replace("batch_size = 50", "batch_size = 1")
        .replace("buffer = 2", "buffer = 0")
        .replacen(
            "url = \"http://127.0.0.1:8802\"",
            "url = \"http://127.0.0.1:8802\"\nrate_limits = { total_per_window = 10, window_secs = 86400 }",
            1,
        );
    let config = parse(&text).unwrap();
    assert_eq!(config.host.retention_days, 3650);
}
