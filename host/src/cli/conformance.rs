//! `tillbridge conformance`: runs the standard checks on a connector against a system or a
//! simulator and prints a table; exits 0 only when no check failed.

use anyhow::{Result, bail};

use crate::builtin;
use crate::conformance::{Against, Harness, Status, Target, table};
use crate::runtime::{Runtime, World};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The connector: a .wasm file, or a built-in name (shopware, ccv-salespos).
    plugin: String,
    /// What to check it against: shopware-sim, ccv-sim or ledger-sim (started here, seeded, with
    /// their credentials given to the plugin), or the URL of a running system.
    #[arg(long)]
    against: Against,
    /// Settings for the plugin as a JSON object, merged over the target's (`url` among them).
    #[arg(long)]
    settings: Option<String>,
    /// A secret for the plugin, as NAME=VALUE (repeat it for more); replaces the simulator's.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    secrets: Vec<String>,
}

pub async fn run(args: &Args) -> Result<()> {
    let bytes = match builtin::get(&args.plugin) {
        Some(builtin) => builtin.bytes.to_vec(),
        None if std::path::Path::new(&args.plugin).is_file() => std::fs::read(&args.plugin)?,
        None => bail!(
            "{:?} is neither a .wasm file nor a built-in ({})",
            args.plugin,
            builtin::names().join(", ")
        ),
    };
    let runtime = Runtime::new(&crate::runtime::user_cache_dir()?)?;
    let name = std::path::Path::new(&args.plugin)
        .file_stem()
        .map_or(args.plugin.clone(), |s| s.to_string_lossy().into_owned());
    let plugin = runtime.load(&name, &bytes)?;
    if plugin.description().world != World::Connector {
        bail!(
            "{} is a {}, not a connector",
            args.plugin,
            plugin.description().world
        );
    }
    let target = Target::start(&args.against)
        .await?
        .with_overrides(args.settings.as_deref(), &args.secrets)?;
    println!(
        "conformance of {} against {}",
        args.plugin,
        target.describe()
    );
    let rows = Harness::new(plugin, target).run().await;
    print!("{}", table(&rows));
    let failed = rows.iter().filter(|r| r.status == Status::Fail).count();
    let passed = rows.iter().filter(|r| r.status == Status::Pass).count();
    let skipped = rows.len() - failed - passed;
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        bail!("{failed} conformance check(s) failed");
    }
    Ok(())
}
