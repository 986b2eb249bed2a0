//! `tillbridge init`: the set-up wizard (FLOWS.md §4.5). It asks for both systems' addresses
//! and credentials and tests each connection (through the connector's `check`) until it works,
//! then lets the merchant choose the flows and answer their settings from the systems' own lists
//! (Shopware's payment methods and states, CCV's payment methods), and writes a commented
//! flows.toml with the secrets as `${VAR}` references, plus an env file (mode 0600) holding them.
//! With `--non-interactive` every answer comes from the options, for scripts.

mod flags;
mod prompts;
mod render;
mod setup;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::integration::Integration;
use setup::Setup;

/// The options of `tillbridge init`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Where to write the configuration.
    #[arg(
        long,
        short = 'c',
        default_value = "flows.toml",
        env = "TILLBRIDGE_CONFIG"
    )]
    config: PathBuf,
    /// Where to write the secrets (readable by you only); by default tillbridge.env beside the
    /// configuration.
    #[arg(long)]
    env_file: Option<PathBuf>,
    /// Replace the files if they exist.
    #[arg(long)]
    force: bool,
    /// Ask nothing: take every answer from the options (for scripts).
    #[arg(long)]
    non_interactive: bool,
    #[command(flatten)]
    answers: flags::Answers,
}

/// Runs the wizard, interactively on a terminal or from the options.
pub async fn run(args: &Args) -> Result<()> {
    let env_path = args
        .env_file
        .clone()
        .unwrap_or_else(|| beside(&args.config, "tillbridge.env"));
    let interactive = !args.non_interactive;
    if interactive && !std::io::stdin().is_terminal() {
        bail!(
            "`tillbridge init` asks its questions on a terminal; in a script, give --non-interactive and the answers as options (see `tillbridge init --help`)"
        );
    }
    for path in [&args.config, &env_path] {
        if path.exists() && !args.force && !(interactive && prompts::overwrite(path)?) {
            bail!(
                "{} exists; give --force to replace it, or --config / --env-file to write elsewhere",
                path.display()
            );
        }
    }
    let setup = if interactive {
        prompts::ask(&args.config, &args.answers).await?
    } else {
        flags::read(&args.config, &args.answers).await?
    };
    write(&setup, &args.config, &env_path)?;
    println!(
        "wrote {} and {} (readable by you only)",
        args.config.display(),
        env_path.display()
    );
    println!("next:");
    println!("  set -a; . {}; set +a", shell_path(&env_path));
    println!("  tillbridge once orders --dry-run    # says per order what would happen");
    println!("  tillbridge run                      # every flow on its schedule");
    Ok(())
}

/// Writes both files, then reads flows.toml back as `tillbridge validate` would (with the
/// secrets in the environment), plugins included.
fn write(setup: &Setup, config: &Path, env_path: &Path) -> Result<()> {
    let env_name = env_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = render::flows_toml(setup, &env_name)?;
    render::write_private(env_path, &render::env_file(setup, &env_name))?;
    std::fs::write(config, &text).with_context(|| format!("cannot write {}", config.display()))?;
    Integration::open(setup.load(config, &text)?)
        .with_context(|| format!("{} was written but does not load", config.display()))?;
    Ok(())
}

/// A file named `name` in the folder of `path`.
fn beside(path: &Path, name: &str) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from(name), |dir| dir.join(name))
}

/// How to name the env file in a shell command: `./tillbridge.env` when it is in the current
/// folder.
fn shell_path(env_path: &Path) -> String {
    if env_path.is_absolute() || env_path.starts_with(".") {
        env_path.display().to_string()
    } else {
        format!("./{}", env_path.display())
    }
}
