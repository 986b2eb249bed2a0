//! `tillbridge plugins`: what each plugin is, what settings and secrets it reads, and what it is
//! granted.

use serde::Serialize;

use super::ConfigArg;
use crate::integration::{Declared, Integration};
use crate::runtime::{Capability, Kv, Origin, World};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One use of a plugin and what it is granted there.
#[derive(Debug, Serialize)]
struct Use {
    /// "connection shop" or "transform".
    role: String,
    /// Hosts it may call.
    allowed_hosts: Vec<String>,
    /// Names of the secrets it may read (never their values).
    secrets: Vec<String>,
    memory_mb: usize,
    cpu_budget_ms: u128,
    call_timeout_secs: u64,
}

/// One setting the plugin declares.
#[derive(Debug, Serialize)]
struct Setting {
    name: String,
    /// As the contract names it: "text", "integer", "text-list", …
    kind: String,
    required: bool,
    /// JSON text, when declared.
    default: Option<String>,
    description: String,
}

/// One secret the plugin declares.
#[derive(Debug, Serialize)]
struct Secret {
    name: String,
    required: bool,
    description: String,
}

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    file: String,
    world: World,
    wit_version: String,
    capabilities: Vec<Capability>,
    host_imports: Vec<String>,
    origin: Origin,
    settings: Vec<Setting>,
    secrets: Vec<Secret>,
    uses: Vec<Use>,
}

pub async fn run(args: &Args) -> anyhow::Result<()> {
    let integration = Integration::open(args.config.load()?)?;
    let mut rows = Vec::new();
    for (name, plugin) in &integration.plugins {
        let declared = integration.declared(name).await?;
        rows.push(row(&integration, name, plugin, declared));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for row in &rows {
        let capabilities: Vec<String> = row.capabilities.iter().map(|c| c.to_string()).collect();
        println!("{} ({})", row.name, row.file);
        println!(
            "  world:        {} (tillbridge:plugin@{}), {}",
            row.world,
            row.wit_version,
            match row.origin {
                Origin::Cached => "loaded from the compile cache",
                Origin::Compiled => "compiled now",
            }
        );
        if row.world == World::Connector {
            println!(
                "  capabilities: {}",
                if capabilities.is_empty() {
                    "none".into()
                } else {
                    capabilities.join(", ")
                }
            );
        }
        println!(
            "  imports:      {}",
            if row.host_imports.is_empty() {
                "none".into()
            } else {
                row.host_imports.join(", ")
            }
        );
        print_declared(row);
        for used in &row.uses {
            println!("  as {}:", used.role);
            println!(
                "    hosts:   {}",
                if used.allowed_hosts.is_empty() {
                    "none".into()
                } else {
                    used.allowed_hosts.join(", ")
                }
            );
            println!(
                "    secrets: {}",
                if used.secrets.is_empty() {
                    "none".into()
                } else {
                    used.secrets.join(", ")
                }
            );
            println!(
                "    limits:  {} MiB, {} ms computation per call, {} s per call",
                used.memory_mb, used.cpu_budget_ms, used.call_timeout_secs
            );
        }
    }
    Ok(())
}

/// The settings and secrets a plugin reads, one line each.
fn print_declared(row: &Row) {
    if row.settings.is_empty() {
        println!("  settings:     none");
    } else {
        println!("  settings:");
    }
    for s in &row.settings {
        let default = match (&s.default, s.required) {
            (_, true) => ", required".to_string(),
            (Some(default), false) => format!(", default {default}"),
            (None, false) => String::new(),
        };
        println!("    {} ({}{default}): {}", s.name, s.kind, s.description);
    }
    if row.world == World::Connector {
        if row.secrets.is_empty() {
            println!("  secrets:      none");
        } else {
            println!("  secrets:");
        }
        for s in &row.secrets {
            let required = if s.required { ", required" } else { "" };
            println!("    {}{required}: {}", s.name, s.description);
        }
    }
}

fn row(
    integration: &Integration,
    name: &str,
    plugin: &crate::runtime::Plugin,
    declared: Declared,
) -> Row {
    let description = plugin.description();
    let mut uses = Vec::new();
    for (connection, conn) in &integration.config.connections {
        if conn.plugin == name {
            uses.push(describe_use(
                format!("connection {connection}"),
                &integration.connection_grants(connection, Kv::memory()),
            ));
        }
    }
    if description.world == World::Transform {
        uses.push(describe_use(
            "transform".into(),
            &integration.transform_grants(name),
        ));
    }
    Row {
        name: name.to_string(),
        file: integration.config.plugins[name].file.clone(),
        world: description.world,
        wit_version: description.wit_version.clone(),
        capabilities: description.capabilities.clone(),
        host_imports: description.host_imports.clone(),
        origin: plugin.origin(),
        settings: declared
            .settings
            .into_iter()
            .map(|s| Setting {
                name: s.name,
                kind: s.kind.to_string(),
                required: s.required,
                default: s.default,
                description: s.description,
            })
            .collect(),
        secrets: declared
            .secrets
            .into_iter()
            .map(|s| Secret {
                name: s.name,
                required: s.required,
                description: s.description,
            })
            .collect(),
        uses,
    }
}

fn describe_use(role: String, grants: &crate::runtime::Grants) -> Use {
    Use {
        role,
        allowed_hosts: grants.allowed_hosts.describe(),
        secrets: grants.secrets.keys().cloned().collect(),
        memory_mb: grants.limits.memory_bytes >> 20,
        cpu_budget_ms: grants.limits.cpu_budget.as_millis(),
        call_timeout_secs: grants.limits.call_timeout.as_secs(),
    }
}
