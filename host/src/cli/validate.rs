//! `tillbridge validate`: the whole configuration, plugins included, checked before anything runs.

use chrono::Utc;

use super::ConfigArg;
use crate::integration::Integration;

pub fn run(args: &ConfigArg) -> anyhow::Result<()> {
    let integration = Integration::open(args.load()?)?;
    let config = &integration.config;
    println!(
        "{} is valid: {} connection(s), {} plugin(s), {} flow(s)",
        config.path.display(),
        config.connections.len(),
        config.plugins.len(),
        config.flows.len()
    );
    for (name, flow) in &config.flows {
        let next = flow
            .schedule
            .next_after(Utc::now())
            .map_or("never".to_string(), |t| {
                t.format("%Y-%m-%d %H:%M UTC").to_string()
            });
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
    Ok(())
}
