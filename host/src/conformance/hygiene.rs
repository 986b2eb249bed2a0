//! Over everything the other checks made the plugin do: no request went to a host it was not
//! granted, and no log line holds a secret.

use std::collections::BTreeSet;

use super::{Harness, Row};

const HOSTS: &str = "no request goes to an undeclared host";
const SECRETS: &str = "secrets never appear in the log";

/// Secrets shorter than this are too likely to appear by chance ("1", "abc") to be searched for.
const MIN_SECRET_LEN: usize = 6;

pub fn run(harness: &Harness) -> Vec<Row> {
    vec![hosts(harness), secrets(harness)]
}

fn hosts(harness: &Harness) -> Row {
    let allowed = harness.grants.allowed_hosts.clone();
    let requests = harness.tap.requests();
    let strays: BTreeSet<String> = requests
        .iter()
        .filter(|r| !url::Url::parse(&r.url).is_ok_and(|u| allowed.allows(&u)))
        .map(|r| format!("{} {}", r.method, r.url))
        .collect();
    if strays.is_empty() {
        Row::pass(
            HOSTS,
            "connector",
            format!(
                "{} requests, all to {}",
                requests.len(),
                allowed.describe().join(", ")
            ),
        )
    } else {
        Row::fail(
            HOSTS,
            "connector",
            format!(
                "requests outside {}: {}",
                allowed.describe().join(", "),
                strays.into_iter().collect::<Vec<_>>().join("; ")
            ),
        )
    }
}

fn secrets(harness: &Harness) -> Row {
    let logs = harness.tap.logs();
    let secrets: Vec<(&String, &String)> = harness
        .grants
        .secrets
        .iter()
        .filter(|(_, value)| value.len() >= MIN_SECRET_LEN)
        .collect();
    if secrets.is_empty() {
        return Row::skipped(SECRETS, "connector", "no secret long enough to search for");
    }
    for line in &logs {
        if let Some((name, value)) = secrets
            .iter()
            .find(|(_, value)| line.contains(value.as_str()))
        {
            return Row::fail(
                SECRETS,
                "connector",
                format!(
                    "the secret `{name}` is in the log line: {}",
                    line.replace(value.as_str(), "‹secret›")
                ),
            );
        }
    }
    let names: Vec<&str> = secrets.iter().map(|(name, _)| name.as_str()).collect();
    Row::pass(
        SECRETS,
        "connector",
        format!("{} log lines, none with {}", logs.len(), names.join(" or ")),
    )
}
