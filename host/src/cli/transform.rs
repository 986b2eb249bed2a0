//! `tillbridge transform`: a transform plugin's quickest loop. Records from a JSON file go
//! through the plugin; what it did to each is printed as JSON, with a summary on stderr.

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::builtin;
use crate::config::{Config, ProcessEnv};
use crate::integration::Integration;
use crate::runtime::bindings::exports::tillbridge::plugin::transformer::{
    Entity, FlowContext, FlowKind, Verdict,
};
use crate::runtime::{Grants, Limits, Plugin, Runtime, World};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The transform: a plugin name from flows.toml, a built-in name, or a path to a .wasm file.
    plugin: String,
    /// A JSON file with the records: an array (or one record). Records are tagged by kind
    /// (`{"order": {…}}`), or plain when `--kind` says what they are.
    #[arg(long, short)]
    input: PathBuf,
    /// The kind of plain records: order, customer, product, category or stock-level.
    #[arg(long, short)]
    kind: Option<String>,
    /// Settings for the plugin as JSON, instead of those in flows.toml.
    #[arg(long, short)]
    settings: Option<String>,
    /// The configuration file that names the plugin and its settings.
    #[arg(
        long,
        short = 'c',
        default_value = "flows.toml",
        env = "TILLBRIDGE_CONFIG"
    )]
    config: PathBuf,
}

const KINDS: [&str; 5] = ["order", "customer", "product", "category", "stock-level"];

pub async fn run(args: &Args) -> anyhow::Result<()> {
    let (plugin, mut grants) = load(args)?;
    if plugin.description().world != World::Transform {
        bail!(
            "{} is a {}, not a transform",
            args.plugin,
            plugin.description().world
        );
    }
    if let Some(settings) = &args.settings {
        grants.settings = serde_json::from_str(settings).context("--settings is not JSON")?;
    }
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let input: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.input.display()))?;
    let items = match input {
        Value::Array(items) => items,
        one => vec![one],
    };
    let batch = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            to_entity(item, args.kind.as_deref())
                .with_context(|| format!("record {i} of {}", args.input.display()))
        })
        .collect::<anyhow::Result<Vec<Entity>>>()?;

    let mut session = plugin.session(grants).await?;
    let context = FlowContext {
        flow: "cli".into(),
        kind: batch.first().map_or(FlowKind::Orders, flow_kind),
        source: args.input.display().to_string(),
        target: "stdout".into(),
        run: format!("cli-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S")),
        dry_run: true,
    };
    let verdicts = session.transform(&context, &batch).await?;
    if verdicts.len() != batch.len() {
        bail!(
            "{} returned {} verdicts for {} records; a transform answers once per record",
            args.plugin,
            verdicts.len(),
            batch.len()
        );
    }
    let (mut kept, mut changed, mut dropped, mut failed) = (0, 0, 0, 0);
    let outcomes: Vec<Value> = verdicts
        .into_iter()
        .zip(&batch)
        .enumerate()
        .map(|(i, (verdict, before))| match verdict {
            Verdict::Keep(after) => {
                kept += 1;
                let is_changed = &after != before;
                changed += usize::from(is_changed);
                json!({ "record": i, "verdict": "keep", "changed": is_changed, "output": entity_json(&after) })
            }
            Verdict::Drop(reason) => {
                dropped += 1;
                json!({ "record": i, "verdict": "drop", "reason": reason })
            }
            Verdict::Fail(problem) => {
                failed += 1;
                json!({ "record": i, "verdict": "fail", "message": problem.message, "field": problem.field })
            }
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&outcomes)?);
    eprintln!(
        "{} record(s): {kept} kept ({changed} changed), {dropped} dropped, {failed} failed",
        batch.len()
    );
    Ok(())
}

/// The plugin and its grants: from flows.toml when it names the plugin, else a built-in or a
/// file with no settings.
fn load(args: &Args) -> anyhow::Result<(Plugin, Grants)> {
    if args.config.is_file() {
        let config = Config::load(&args.config, &ProcessEnv, &builtin::names())?;
        if config.plugins.contains_key(&args.plugin) {
            let integration = Integration::open(config)?;
            let grants = integration.transform_grants(&args.plugin);
            return Ok((integration.plugins[&args.plugin].clone(), grants));
        }
    }
    let runtime = Runtime::new(&crate::runtime::user_cache_dir()?)?;
    let bytes = if let Some(b) = builtin::get(&args.plugin) {
        b.bytes.to_vec()
    } else if std::path::Path::new(&args.plugin).is_file() {
        std::fs::read(&args.plugin)?
    } else {
        bail!(
            "{:?} is neither a plugin in {}, nor a built-in ({}), nor a .wasm file",
            args.plugin,
            args.config.display(),
            builtin::names().join(", ")
        );
    };
    let plugin = runtime.load(&args.plugin, &bytes)?;
    Ok((plugin, Grants::minimal(&args.plugin, Limits::TRANSFORM)))
}

fn to_entity(item: &Value, kind: Option<&str>) -> anyhow::Result<Entity> {
    let (kind, record) = match kind {
        Some(kind) => (kind, item.clone()),
        None => match item
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        {
            Some((kind, record)) if KINDS.contains(&kind.as_str()) => {
                (kind.as_str(), record.clone())
            }
            _ => bail!(
                "a record is tagged with its kind, like {{\"order\": {{…}}}}, or give --kind ({})",
                KINDS.join(", ")
            ),
        },
    };
    Ok(match kind {
        "order" => Entity::Order(serde_json::from_value(record)?),
        "customer" => Entity::Customer(serde_json::from_value(record)?),
        "product" => Entity::Product(serde_json::from_value(record)?),
        "category" => Entity::Category(serde_json::from_value(record)?),
        "stock-level" => Entity::StockLevel(serde_json::from_value(record)?),
        other => bail!("unknown kind {other:?}; kinds are {}", KINDS.join(", ")),
    })
}

fn entity_json(entity: &Entity) -> Value {
    let (kind, record) = match entity {
        Entity::Order(r) => ("order", serde_json::to_value(r)),
        Entity::Customer(r) => ("customer", serde_json::to_value(r)),
        Entity::Product(r) => ("product", serde_json::to_value(r)),
        Entity::Category(r) => ("category", serde_json::to_value(r)),
        Entity::StockLevel(r) => ("stock-level", serde_json::to_value(r)),
    };
    json!({ kind: record.unwrap_or(Value::Null) })
}

fn flow_kind(entity: &Entity) -> FlowKind {
    match entity {
        Entity::Order(_) | Entity::Customer(_) => FlowKind::Orders,
        Entity::Product(_) => FlowKind::Products,
        Entity::Category(_) => FlowKind::Categories,
        Entity::StockLevel(_) => FlowKind::Stock,
    }
}
