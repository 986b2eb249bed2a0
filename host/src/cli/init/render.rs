//! The files the wizard writes: a commented flows.toml (from `flows.toml.j2`, secrets as
//! `${VAR}` references) and the env file that holds the secrets.

use anyhow::{Context, Result};
use minijinja::value::Serde;
use minijinja::{Value, context};

use super::setup::Setup;

const TEMPLATE: &str = include_str!("flows.toml.j2");

/// flows.toml for `setup`; `env_file` is the env file's name, for the comments.
pub fn flows_toml(setup: &Setup, env_file: &str) -> Result<String> {
    let mut env = crate::cli::files::templates()?;
    env.add_filter("toml", toml_value);
    env.add_template("flows.toml", TEMPLATE)?;
    let text = env.get_template("flows.toml")?.render(context! {
        today => chrono::Utc::now().format("%Y-%m-%d").to_string(),
        env_file => env_file,
        ..Value::from(Serde(setup))
    })?;
    Ok(text)
}

/// A value as TOML writes it: `"text"` (escaped), `["a", "b"]`, `{ a = "b" }`.
fn toml_value(value: Value) -> Result<String, minijinja::Error> {
    let fail = |e: &dyn std::fmt::Display| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    };
    let json = serde_json::to_value(&value).map_err(|e| fail(&e))?;
    let toml = toml::Value::try_from(json).map_err(|e| fail(&e))?;
    Ok(toml.to_string())
}

/// The env file `name`: one `NAME=value` line per secret, quoted for a POSIX shell where needed.
pub fn env_file(setup: &Setup, name: &str) -> String {
    let mut text = format!(
        "# The secrets of flows.toml, made by `tillbridge init`. Readable by you only: keep it so.\n\
         # Load it before starting tillbridge: set -a; . ./{name}; set +a\n"
    );
    for (name, value) in setup.env() {
        text.push_str(&format!("{name}={}\n", shell_quoted(&value)));
    }
    text
}

/// A value a POSIX shell (and systemd's EnvironmentFile) reads back as it is.
fn shell_quoted(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.,:/@+=%".contains(c));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// Writes `text` to a new file only its owner can read (mode 0600), replacing an old one.
pub fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot replace {}", path.display())),
    }
    let mut file = crate::privacy::private_file(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::init::setup::Endpoint;

    #[test]
    fn values_are_quoted_for_toml_and_for_the_shell() {
        let mut setup = Setup {
            flows: vec!["orders".into()],
            ..Setup::default()
        };
        setup.shop = Some(Endpoint {
            url: "https://shop.example.com".into(),
            key: "SWIA1".into(),
            secret: "it's \"secret\"".into(),
        });
        setup
            .payment_methods
            .insert("Credit \"card\"".into(), "4".into());
        setup.payment_labels.insert("4".into(), "Creditcard".into());
        let text = flows_toml(&setup, "tillbridge.env").unwrap();
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["flows"]["orders"]["settings"]["payment_methods"]["Credit \"card\""].as_str(),
            Some("4")
        );
        assert!(text.contains("# Creditcard"), "{text}");
        assert!(!text.contains("secret\\\""), "no secret in flows.toml");
        let env = env_file(&setup, "tillbridge.env");
        assert!(env.contains("SHOPWARE_CLIENT_ID=SWIA1\n"), "{env}");
        assert!(
            env.contains("SHOPWARE_CLIENT_SECRET='it'\\''s \"secret\"'\n"),
            "{env}"
        );
    }
}
