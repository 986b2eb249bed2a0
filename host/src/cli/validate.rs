//! `tillbridge validate`: the whole configuration, plugins included, checked before anything runs,
//! with the next times each flow's schedule fires.

use chrono::Utc;

use super::ConfigArg;
use crate::integration::Integration;

/// How many fire times of each flow's schedule are shown.
const NEXT: usize = 3;

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
    Ok(())
}
