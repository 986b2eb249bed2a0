//! The settings and secrets flows.toml gives each plugin, checked against what the plugin
//! declares (`setting-spec`, `secret-spec`): an unknown key (with the nearest known one), a value
//! of the wrong kind, a required setting missing, a required secret not granted.

use std::collections::BTreeSet;

use crate::config::{Config, Problem};
use crate::integration::Declared;
use crate::runtime::bindings::tillbridge::plugin::types::{SettingKind, SettingSpec};

/// The problems with the `settings` table at `at` (a plugin's or a connection's): keys the
/// plugin does not read, and values of the wrong kind.
pub fn table(at: &[&str], settings: &toml::Table, declared: &Declared) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (key, value) in settings {
        let path: Vec<&str> = at.iter().copied().chain([key.as_str()]).collect();
        let Some(spec) = declared.settings.iter().find(|s| &s.name == key) else {
            problems.push(unknown(&path, key, &declared.settings));
            continue;
        };
        if !fits(spec.kind, value) {
            problems.push(
                Problem::at(
                    &path,
                    format!("must be {}, not {}", kind_name(spec.kind), describe(value)),
                )
                .hint(format!(
                    "write it as {}: {}",
                    example(key, spec.kind),
                    spec.description
                )),
            );
        }
    }
    problems
}

/// The problems of connection `name`: required settings that neither it nor its plugin sets
/// (`url` always comes from the connection), and required secrets neither grants.
pub fn connection(config: &Config, name: &str, declared: &Declared) -> Vec<Problem> {
    let connection = &config.connections[name];
    let plugin = &config.plugins[&connection.plugin];
    let set: BTreeSet<&str> = plugin
        .settings
        .keys()
        .chain(connection.settings.keys())
        .map(String::as_str)
        .chain(["url"])
        .collect();
    let mut problems = missing_settings(
        &["connections", name, "settings"],
        &format!("[connections.{name}]"),
        &set,
        declared,
    );
    let granted: BTreeSet<&str> = plugin
        .secrets
        .keys()
        .chain(connection.secrets.keys())
        .map(String::as_str)
        .collect();
    for secret in &declared.secrets {
        if secret.required && !granted.contains(secret.name.as_str()) {
            let variable = format!("{}_{}", name, secret.name)
                .to_uppercase()
                .replace('-', "_");
            problems.push(
                Problem::at(
                    &["connections", name, "secrets"],
                    format!(
                        "plugin {:?} needs the secret {:?}, which is not granted",
                        connection.plugin, secret.name
                    ),
                )
                .hint(format!(
                    "add `{} = \"${{{variable}}}\"` to `secrets` of [connections.{name}] ({})",
                    secret.name, secret.description
                )),
            );
        }
    }
    problems
}

/// The required settings of transform plugin `name` that its `settings` lacks.
pub fn transform(config: &Config, name: &str, declared: &Declared) -> Vec<Problem> {
    let set = config.plugins[name]
        .settings
        .keys()
        .map(String::as_str)
        .collect();
    missing_settings(
        &["plugins", name, "settings"],
        &format!("[plugins.{name}]"),
        &set,
        declared,
    )
}

fn missing_settings(
    at: &[&str],
    table: &str,
    set: &BTreeSet<&str>,
    declared: &Declared,
) -> Vec<Problem> {
    declared
        .settings
        .iter()
        .filter(|s| s.required && !set.contains(s.name.as_str()))
        .map(|spec| {
            let path: Vec<&str> = at.iter().copied().chain([spec.name.as_str()]).collect();
            Problem::at(&path, "is required, but not set").hint(format!(
                "add {} to `settings` of {table}: {}",
                example(&spec.name, spec.kind),
                spec.description
            ))
        })
        .collect()
}

/// An unknown key, with the known key it most resembles.
fn unknown(path: &[&str], key: &str, known: &[SettingSpec]) -> Problem {
    let problem = Problem::at(path, "is not a setting of this plugin");
    let nearest = known
        .iter()
        .map(|s| (strsim::jaro_winkler(key, &s.name), &s.name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let names: Vec<&str> = known.iter().map(|s| s.name.as_str()).collect();
    match nearest {
        Some((_, name)) => problem.hint(format!("did you mean `{name}`? (rename the key)")),
        None if names.is_empty() => problem.hint("remove it: the plugin reads no settings"),
        None => problem.hint(format!(
            "remove it, or use one of the plugin's settings: {}",
            names.join(", ")
        )),
    }
}

/// Whether `value` is of `kind`.
fn fits(kind: SettingKind, value: &toml::Value) -> bool {
    use toml::Value::*;
    match (kind, value) {
        (SettingKind::Json, _) => true,
        (SettingKind::Text, String(_)) => true,
        (SettingKind::Integer, Integer(_)) => true,
        (SettingKind::Decimal, Integer(_)) => true,
        (SettingKind::Decimal, String(s)) => s.trim().parse::<rust_decimal::Decimal>().is_ok(),
        (SettingKind::Boolean, Boolean(_)) => true,
        (SettingKind::TextList, Array(items)) => items.iter().all(toml::Value::is_str),
        (SettingKind::TextMap, Table(table)) => table.values().all(toml::Value::is_str),
        _ => false,
    }
}

/// The kind as the contract names it, with an article.
fn kind_name(kind: SettingKind) -> &'static str {
    match kind {
        SettingKind::Text => "text",
        SettingKind::Integer => "an integer",
        SettingKind::Decimal => "a decimal",
        SettingKind::Boolean => "a boolean",
        SettingKind::TextList => "a list of text",
        SettingKind::TextMap => "a table of text",
        SettingKind::Json => "any value",
    }
}

/// What `value` is, for the message.
fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("the text {s:?}"),
        toml::Value::Integer(n) => format!("the integer {n}"),
        toml::Value::Float(x) => format!("the number {x}"),
        toml::Value::Boolean(b) => format!("{b}"),
        toml::Value::Datetime(d) => format!("the date {d}"),
        toml::Value::Array(_) => "a list".into(),
        toml::Value::Table(_) => "a table".into(),
    }
}

/// The key with a value of `kind`, as flows.toml writes it.
fn example(key: &str, kind: SettingKind) -> String {
    let value = match kind {
        SettingKind::Text => "\"…\"",
        SettingKind::Integer => "100",
        SettingKind::Decimal => "\"19.95\"",
        SettingKind::Boolean => "true",
        SettingKind::TextList => "[\"…\"]",
        SettingKind::TextMap => "{ name = \"…\" }",
        SettingKind::Json => "…",
    };
    format!("`{key} = {value}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Declared {
        Declared {
            settings: vec![
                SettingSpec {
                    name: "page_size".into(),
                    kind: SettingKind::Integer,
                    required: false,
                    default: Some("500".into()),
                    description: "Rows per request.".into(),
                },
                SettingSpec {
                    name: "rate".into(),
                    kind: SettingKind::Decimal,
                    required: false,
                    default: None,
                    description: "A rate.".into(),
                },
                SettingSpec {
                    name: "map".into(),
                    kind: SettingKind::TextMap,
                    required: true,
                    default: None,
                    description: "Names.".into(),
                },
            ],
            secrets: Vec::new(),
        }
    }

    fn problems(toml: &str) -> Vec<String> {
        let settings: toml::Table = toml.parse().unwrap();
        table(&["plugins", "p", "settings"], &settings, &declared())
            .iter()
            .map(|p| {
                format!(
                    "{}: {} / {}",
                    p.key(),
                    p.message,
                    p.hint.as_deref().unwrap_or("")
                )
            })
            .collect()
    }

    #[test]
    fn a_typo_is_named_with_the_setting_it_resembles() {
        let found = problems("pagesize = 10\nzzz = 1");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("plugins.p.settings.pagesize: is not a setting"));
        assert!(found[0].contains("did you mean `page_size`"), "{found:?}");
        assert!(found[1].contains("page_size, rate, map"), "{found:?}");
    }

    #[test]
    fn values_of_the_wrong_kind_are_named_and_right_ones_pass() {
        assert!(problems("page_size = 10\nrate = \"0.21\"\nmap = { a = \"b\" }").is_empty());
        let found = problems("page_size = \"10\"\nrate = 0.21\nmap = { a = 1 }");
        assert_eq!(found.len(), 3, "{found:?}");
        for expected in [
            "page_size: must be an integer, not the text \"10\"",
            "rate: must be a decimal, not the number 0.21",
            "map: must be a table of text",
        ] {
            assert!(found.iter().any(|f| f.contains(expected)), "{found:?}");
        }
    }
}
