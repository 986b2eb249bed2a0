//! `tillbridge check`: can every connection of flows.toml be reached, with its credentials
//! accepted? Each connector's own `check` says what answered (a version, a shop), or why nothing
//! did.

use anyhow::{Result, bail};

use super::ConfigArg;
use crate::integration::Integration;
use crate::runtime::{CallError, Kv, Session};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
}

/// Checks every connection; fails when one does not answer as it should.
pub async fn run(args: &Args) -> Result<()> {
    let integration = Integration::open(args.config.load()?)?;
    super::validate::declarations(&integration).await?;
    let mut failed = Vec::new();
    for name in integration.config.connections.keys() {
        match connection(&integration, name).await {
            Ok(found) => println!("ok      {name}: {found}"),
            Err(reason) => {
                println!("failed  {name}: {reason}");
                failed.push(name.as_str());
            }
        }
    }
    if !failed.is_empty() {
        bail!(
            "cannot use connection(s) {}: see above, correct the URL or credentials in {} (or the environment), and check again",
            failed.join(", "),
            integration.config.path.display()
        );
    }
    Ok(())
}

/// What the connector of `name` found on the other side, or why it found nothing.
async fn connection(integration: &Integration, name: &str) -> Result<String, CallError> {
    session(integration, name).await?.check().await
}

/// A session of the connector of connection `name` that remembers nothing: its storage lives
/// in memory, so that checking writes no state.
pub async fn session(integration: &Integration, name: &str) -> Result<Session, CallError> {
    let plugin = &integration.plugins[&integration.config.connections[name].plugin];
    plugin
        .session(integration.connection_grants(name, Kv::memory()))
        .await
}
