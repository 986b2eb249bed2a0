//! `tillbridge validate`: the whole configuration, plugins included, checked before anything runs,
//! with the next times each flow's schedule fires. A products flow's mapped properties are checked
//! against the systems whose connectors can list theirs (`product-properties`); a system that
//! cannot be reached is said so, and the file's own checks still pass.

mod declared;

use std::collections::BTreeMap;

use chrono::Utc;

use super::ConfigArg;
use crate::config::{FlowSettings, Problem};
use crate::integration::Integration;
use crate::runtime::{Capability, Kv, World};

/// How many fire times of each flow's schedule are shown.
const NEXT: usize = 3;

pub async fn run(args: &ConfigArg) -> anyhow::Result<()> {
    let integration = Integration::open(args.load()?)?;
    declarations(&integration).await?;
    let config = &integration.config;
    println!(
        "{} is valid: {} connection(s), {} plugin(s), {} flow(s)",
        config.path.display(),
        config.connections.len(),
        config.plugins.len(),
        config.flows.len()
    );
    for (name, flow) in &config.flows {
        let next: Vec<String> = flow
            .schedule
            .next_times(Utc::now(), NEXT)
            .iter()
            .map(|t| t.format("%a %Y-%m-%d %H:%M:%S").to_string())
            .collect();
        let next = if next.is_empty() {
            "never again".to_string()
        } else {
            format!("{} UTC", next.join(", "))
        };
        let when = if flow.enabled {
            format!("\"{}\", next {next}", flow.schedule.expression)
        } else {
            "disabled".into()
        };
        let transforms = if flow.transforms.is_empty() {
            String::new()
        } else {
            format!(", transforms: {}", flow.transforms.join(" → "))
        };
        println!(
            "  {name}: {} {} → {} ({when}{transforms})",
            flow.kind, flow.source, flow.target
        );
    }
    let problems = mapped_properties(&integration).await;
    if !problems.is_empty() {
        return Err(integration.config_error(problems).into());
    }
    Ok(())
}

/// Refuses a configuration whose settings or secrets do not fit what its plugins declare: every
/// command that runs flows checks this before it starts, as `validate` does.
pub(super) async fn declarations(integration: &Integration) -> anyhow::Result<()> {
    let problems = settings_and_secrets(integration).await;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(integration.config_error(problems).into())
    }
}

/// Each plugin's and connection's settings and secrets, against what its plugin declares.
async fn settings_and_secrets(integration: &Integration) -> Vec<Problem> {
    let config = &integration.config;
    let mut problems = Vec::new();
    let mut declarations = BTreeMap::new();
    for (name, plugin) in &config.plugins {
        let declared = match integration.declared(name).await {
            Ok(declared) => declared,
            Err(e) => {
                problems.push(
                    Problem::at(
                        &["plugins", name, "file"],
                        format!("the plugin did not say what settings it reads: {e:#}"),
                    )
                    .hint("its `info` must answer without failing; ask its author"),
                );
                continue;
            }
        };
        problems.extend(declared::table(
            &["plugins", name, "settings"],
            &plugin.settings,
            &declared,
        ));
        if integration.plugins[name].description().world == World::Transform {
            problems.extend(declared::transform(config, name, &declared));
        }
        declarations.insert(name.as_str(), declared);
    }
    for (name, connection) in &config.connections {
        let Some(declared) = declarations.get(connection.plugin.as_str()) else {
            continue;
        };
        problems.extend(declared::table(
            &["connections", name, "settings"],
            &connection.settings,
            declared,
        ));
        problems.extend(declared::connection(config, name, declared));
    }
    problems
}

/// The mapped properties (a products flow's `properties`: source name → target name) that a
/// system does not have, asked of every connector that can list its properties.
async fn mapped_properties(integration: &Integration) -> Vec<Problem> {
    let config = &integration.config;
    let mut listed: BTreeMap<&str, Option<Vec<String>>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, flow) in &config.flows {
        let FlowSettings::Products(settings) = &flow.settings else {
            continue;
        };
        if settings.properties.is_empty() {
            continue;
        }
        for (connection, source_side) in [(&flow.source, true), (&flow.target, false)] {
            if !listed.contains_key(connection.as_str()) {
                let names = list(integration, connection).await;
                listed.insert(connection.as_str(), names);
            }
            let Some(Some(known)) = listed.get(connection.as_str()) else {
                continue;
            };
            for (from, to) in &settings.properties {
                let wanted = if source_side { from } else { to };
                if known
                    .iter()
                    .any(|k| k.trim().eq_ignore_ascii_case(wanted.trim()))
                {
                    continue;
                }
                problems.push(
                    Problem::at(
                        &["flows", name, "settings", "properties", from],
                        format!("{connection} has no product property {wanted:?}"),
                    )
                    .hint(format!(
                        "create it in {connection}, or map to one it has: {}",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )),
                );
            }
        }
    }
    problems
}

/// The product properties of `connection`, when its connector can list them; said when the
/// system cannot be asked.
async fn list(integration: &Integration, connection: &str) -> Option<Vec<String>> {
    let plugin = &integration.plugins[&integration.config.connections[connection].plugin];
    if !plugin
        .description()
        .capabilities
        .contains(&Capability::ProductProperties)
    {
        return None;
    }
    let grants = integration.connection_grants(connection, Kv::memory());
    let answer = match plugin.session(grants).await {
        Ok(mut session) => session.list_properties().await.map_err(|e| e.to_string()),
        Err(e) => Err(format!("{e:#}")),
    };
    match answer {
        Ok(names) => Some(names),
        Err(e) => {
            println!(
                "  note: the product properties of {connection} were not checked: it cannot be \
                 reached ({e}); the file itself is valid"
            );
            None
        }
    }
}
