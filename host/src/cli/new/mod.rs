//! `tillbridge new connector|transform NAME`: writes a plugin crate of its own, outside any
//! workspace, that builds with `cargo build --target wasm32-wasip2 --release` as it is and loads
//! in the host unchanged. The connector speaks the ledger example API (the simulator's `ledger`
//! service), so that it works before its author changes a line; its tests run against the SDK's
//! mock host under plain `cargo test`.

mod templates;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use self::templates::{Capability, Crate};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    kind: Kind,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum Kind {
    /// A connector for the ledger example API, with one file per capability.
    Connector(ConnectorArgs),
    /// A transform that cleans e-mail addresses and drops orders from chosen domains.
    Transform(Common),
}

#[derive(Debug, Clone, clap::Args)]
struct Common {
    /// The plugin's name: lower case letters, digits and single hyphens, starting with a letter
    /// (it names the crate, the WIT world and the .wasm file).
    name: String,
    /// Where to write the crate; by default a new folder NAME in the current one.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Where the crate gets tillbridge-sdk from: `path=PATH` or `git=URL`; by default the SDK of
    /// the tillbridge checkout this binary was built from.
    #[arg(long, value_name = "path=PATH|git=URL")]
    sdk: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
struct ConnectorArgs {
    #[command(flatten)]
    common: Common,
    /// The capabilities it exports, comma-separated (e.g. products-source,stock-sink).
    #[arg(long, value_delimiter = ',', required = true)]
    capabilities: Vec<String>,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let common = match &args.kind {
        Kind::Connector(connector) => &connector.common,
        Kind::Transform(common) => common,
    };
    check_name(&common.name)?;
    let plugin = match &args.kind {
        Kind::Connector(connector) => {
            let capabilities = connector
                .capabilities
                .iter()
                .map(|name| Capability::parse(name.trim()))
                .collect::<anyhow::Result<Vec<_>>>()?;
            Crate::connector(&capabilities)
        }
        Kind::Transform(_) => Crate::transform(),
    };
    let dir = common
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&common.name));
    if dir.exists() && dir.read_dir()?.next().is_some() {
        bail!(
            "{} exists and is not empty: choose another --dir",
            dir.display()
        );
    }
    let sdk = sdk_dependency(common.sdk.as_deref())?;
    let files = plugin.render(&common.name, &sdk)?;
    for (path, text) in &files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a file in the crate"))?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "wrote {} {} in {} ({} files). Next:\n  cd {}\n  cargo test                                      # against the SDK's mock host\n  cargo build --target wasm32-wasip2 --release    # target/wasm32-wasip2/release/{}.wasm",
        plugin.kind(),
        common.name,
        dir.display(),
        files.len(),
        dir.display(),
        common.name.replace('-', "_"),
    );
    Ok(())
}

/// A name that is at once a crate name, a WIT identifier and a file name.
fn check_name(name: &str) -> anyhow::Result<()> {
    let good = name.split('-').all(|part| {
        part.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    if !good {
        bail!(
            "{name:?} is not a plugin name: use lower case letters and digits in words joined by single hyphens, each word starting with a letter (e.g. `ledger`, `acme-erp`)"
        );
    }
    Ok(())
}

/// The `tillbridge-sdk = …` line of the crate's Cargo.toml.
fn sdk_dependency(given: Option<&str>) -> anyhow::Result<String> {
    let quoted = |text: &str| toml::Value::String(text.to_string()).to_string();
    match given {
        None => {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk");
            let path = path.canonicalize().with_context(|| {
                format!(
                    "the SDK of the checkout this tillbridge was built from ({}) is gone: give --sdk path=PATH or --sdk git=URL",
                    path.display()
                )
            })?;
            Ok(format!("{{ path = {} }}", quoted(&path.to_string_lossy())))
        }
        Some(given) => match given.split_once('=') {
            Some(("path", path)) if !path.is_empty() => {
                let path = std::path::absolute(path)?;
                Ok(format!("{{ path = {} }}", quoted(&path.to_string_lossy())))
            }
            Some(("git", url)) if !url.is_empty() => Ok(format!("{{ git = {} }}", quoted(url))),
            _ => bail!("--sdk {given:?}: give path=PATH (a tillbridge-sdk folder) or git=URL"),
        },
    }
}
