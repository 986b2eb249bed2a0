//! `tillbridge sim shopware|ccv|ledger`: a simulator started by hand, for scripts and for trying a
//! connector. It prints one JSON line with its base URL and credentials, then serves until
//! Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use tillbridge_sim::ccv::{self, CcvOptions, CcvSim};
use tillbridge_sim::dataset::Dataset;
use tillbridge_sim::ledger::{LedgerOptions, LedgerSim};
use tillbridge_sim::shopware::{self, ApiVersion, ShopwareOptions, ShopwareSim};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Which system to simulate.
    #[arg(value_enum)]
    system: System,
    /// The port to listen on (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// `demo` (a small realistic shop), `empty`, `generated` (10,000 products, 1,000 orders), or a
    /// JSON file with a state the simulator dumped (GET /__sim/state).
    #[arg(long, default_value = "demo")]
    seed: String,
    /// The Shopware version to behave as: 6.4, 6.6 or 6.7.
    #[arg(long, default_value = "6.6")]
    api_version: String,
    /// CCV: no rate limits (CCV's are 150 reads and 100 writes per operation a minute), to
    /// measure tillbridge's own speed; a real account never allows it. The Shopware simulator
    /// has none to lift (self-hosted Shopware limits only failed logins) and the ledger's is
    /// off unless a test sets it.
    #[arg(long)]
    no_limits: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum System {
    /// The Shopware 6 Admin API.
    Shopware,
    /// The CCV SalesPOS REST API.
    Ccv,
    /// The ledger: a fictional example API for writing a connector of your own (seeds `demo`
    /// and `empty` only).
    Ledger,
}

/// The ledger's demo: a few articles with stock, and one customer.
fn ledger_demo(sim: &LedgerSim) -> Result<()> {
    sim.add_product("LG-MUG", "Stoneware mug", "12.95", 24)?;
    sim.add_product("LG-TEE", "Organic cotton T-shirt", "24.95", 10)?;
    sim.add_product("LG-CAP", "Canvas cap", "17.50", 0)?;
    sim.add_customer("ada@example.nl", "Ada Jansen")?;
    Ok(())
}

fn dataset(seed: &str) -> Option<Dataset> {
    match seed {
        "demo" => Some(Dataset::demo()),
        "generated" => Some(Dataset::generated(10_000, 1_000, 0.9, 1)),
        _ => None,
    }
}

pub async fn run(args: &Args) -> Result<()> {
    let addr = SocketAddr::new(args.host, args.port);
    let stop = super::stop_signal()?;
    match args.system {
        System::Shopware => {
            let seed = match (args.seed.as_str(), dataset(&args.seed)) {
                ("empty", _) => shopware::Seed::Empty,
                (_, Some(d)) => shopware::Seed::Dataset(d),
                (file, None) => shopware::Seed::File(PathBuf::from(file)),
            };
            let api_version: ApiVersion = args
                .api_version
                .parse()
                .map_err(|e| anyhow::anyhow!("--api-version: {e}"))?;
            let sim = ShopwareSim::start(ShopwareOptions {
                addr,
                api_version,
                seed,
                ..ShopwareOptions::default()
            })
            .await?;
            println!("{}", sim.startup_line());
            stop.await;
            sim.stop().await;
        }
        System::Ccv => {
            let seed = match (args.seed.as_str(), dataset(&args.seed)) {
                ("empty", _) => ccv::Seed::Empty,
                (_, Some(d)) => ccv::Seed::Dataset(d),
                (file, None) => ccv::Seed::File(PathBuf::from(file)),
            };
            let mut options = CcvOptions {
                addr,
                seed,
                ..CcvOptions::default()
            };
            if args.no_limits {
                options.rate_limits = ccv::RateLimits::none();
            }
            let sim = CcvSim::start(options).await?;
            println!("{}", sim.startup_line());
            stop.await;
            sim.stop().await;
        }
        System::Ledger => {
            let sim = LedgerSim::start(LedgerOptions {
                addr,
                ..LedgerOptions::default()
            })
            .await?;
            match args.seed.as_str() {
                "demo" => ledger_demo(&sim)?,
                "empty" => {}
                other => anyhow::bail!("--seed {other:?}: the ledger takes demo or empty"),
            }
            println!("{}", sim.startup_line());
            stop.await;
            sim.stop().await;
        }
    }
    Ok(())
}
