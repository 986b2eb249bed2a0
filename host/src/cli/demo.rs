//! `tillbridge demo`: the main job, against the simulators. Both simulators start in-process with
//! the demo shop, every flow of the default flows.toml runs once, and each run is summarised.
//!
//! The orders flow runs first, so that the order with an article the point of sale lacks is seen
//! to wait; the products flow then creates the article, and a second orders run sends the waiting
//! order (FLOWS.md §1.5.5).
//!
//! With `--serve` the simulators stay up afterwards with the dashboard on the demo's state; the
//! story then goes to stderr, and stdout has one JSON line with the dashboard's address and token.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde_json::Value;
use tillbridge_sim::ccv::{self, CcvOptions, CcvSim};
use tillbridge_sim::dataset::{self, Dataset};
use tillbridge_sim::shopware::{self, ApiVersion, ShopwareOptions, ShopwareSim};
use tokio_util::sync::CancellationToken;

use super::Incomplete;
use super::flows::{stop_on_signal, write_report};
use super::progress::Progress;
use crate::builtin;
use crate::config::{Config, FlowKind, ProcessEnv, Vars};
use crate::dashboard;
use crate::flows::{self, Events, Options};
use crate::integration::Integration;
use crate::scheduler::FlowLocks;
use crate::state::{Outcome, State};

/// The default configuration, for when the demo runs outside the repository.
const DEFAULT_CONFIG: &str = include_str!("../../../flows.toml");

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The configuration to run; the built-in default when the file does not exist.
    #[arg(long, short = 'c', default_value = "flows.toml")]
    config: PathBuf,
    /// The Shopware version the webshop simulator behaves as: 6.4, 6.6 or 6.7.
    #[arg(long, default_value = "6.6")]
    api_version: String,
    /// Also list records that are unchanged.
    #[arg(long)]
    all: bool,
    /// Afterwards keep both simulators and the dashboard up (until Ctrl-C), and print
    /// {"dashboard_url": …, "token": …} on stdout (the story goes to stderr).
    #[arg(long)]
    serve: bool,
}

/// The environment the demo's configuration sees: the simulators' addresses and credentials,
/// then the process environment.
struct DemoVars(BTreeMap<&'static str, String>);

impl Vars for DemoVars {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned().or_else(|| ProcessEnv.get(name))
    }
}

pub async fn run(args: &Args) -> Result<()> {
    let mut out: Box<dyn Write + Send> = if args.serve {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let api_version: ApiVersion = args
        .api_version
        .parse()
        .map_err(|e| anyhow::anyhow!("--api-version: {e}"))?;
    let shop = ShopwareSim::start(ShopwareOptions {
        api_version,
        seed: shopware::Seed::Dataset(Dataset::demo()),
        ..ShopwareOptions::default()
    })
    .await?;
    let pos = CcvSim::start(CcvOptions {
        seed: ccv::Seed::Dataset(Dataset::demo()),
        ..CcvOptions::default()
    })
    .await?;
    writeln!(
        out,
        "tillbridge demo: a Shopware {api_version} webshop and a CCV SalesPOS point of sale, both simulated"
    )?;
    writeln!(
        out,
        "  webshop:        {} (integration {})",
        shop.base_url(),
        dataset::SHOPWARE_CLIENT_ID
    )?;
    writeln!(
        out,
        "  point of sale:  {} (API key {})",
        pos.base_url(),
        dataset::CCV_PUBLIC_KEY
    )?;

    let vars = DemoVars(BTreeMap::from([
        ("SHOPWARE_URL", shop.base_url().to_string()),
        (
            "SHOPWARE_CLIENT_ID",
            dataset::SHOPWARE_CLIENT_ID.to_string(),
        ),
        (
            "SHOPWARE_CLIENT_SECRET",
            dataset::SHOPWARE_CLIENT_SECRET.to_string(),
        ),
        ("CCV_URL", pos.base_url().to_string()),
        ("CCV_PUBLIC_KEY", dataset::CCV_PUBLIC_KEY.to_string()),
        ("CCV_SECRET", dataset::CCV_SECRET.to_string()),
    ]));
    let (path, text) = match std::fs::read_to_string(&args.config) {
        Ok(text) => (args.config.clone(), text),
        Err(_) => (PathBuf::from("flows.toml"), DEFAULT_CONFIG.to_string()),
    };
    let mut config = Config::parse(&path, &text, &vars, &builtin::names())?;
    // A fresh state for every demo: the simulators start fresh too.
    let state_dir = tempfile::tempdir().context("cannot make a folder for the demo's state")?;
    config.host.state = state_dir.path().join("demo.redb");
    let integration = Integration::open(config)?;
    let state = State::open(&integration.config.host.state)?;
    let flows = integration.config.flows.keys().cloned();
    integration.metrics.watch(state.clone(), flows);
    writeln!(
        out,
        "  configuration:  {}, {} flows",
        path.display(),
        integration.config.flows.len()
    )?;

    let order_flows = flows_of(&integration, FlowKind::Orders);
    let mut plan: Vec<(String, &str)> = order_flows
        .iter()
        .map(|f| {
            (
                f.clone(),
                "before the products flow: an order whose article the point of sale lacks waits",
            )
        })
        .collect();
    for kind in [FlowKind::Categories, FlowKind::Products, FlowKind::Stock] {
        plan.extend(flows_of(&integration, kind).into_iter().map(|f| (f, "")));
    }
    plan.extend(
        order_flows
            .into_iter()
            .map(|f| (f, "again: waiting orders go once their articles exist")),
    );

    let options = Options {
        events: Events::default().with(Progress::for_stderr()),
        ..Options::default()
    };
    let mut failed = Vec::new();
    let mut booked = 0;
    for (step, (name, why)) in plan.iter().enumerate() {
        let flow = &integration.config.flows[name];
        writeln!(out)?;
        writeln!(
            out,
            "{}. {name}: {} {} → {}{}",
            step + 1,
            flow.kind,
            flow.source,
            flow.target,
            if why.is_empty() {
                String::new()
            } else {
                format!(" ({why})")
            }
        )?;
        let report = flows::run_flow(&integration, &state, name, &options).await?;
        write_report(&mut out, &report, args.all)?;
        if flow.kind == FlowKind::Orders {
            booked += report
                .entries
                .iter()
                .filter(|e| e.kind == "order" && e.outcome == Outcome::Created)
                .count();
        }
        if report.run.error.is_some() || report.run.counts.contains_key(&Outcome::Failed) {
            failed.push(name.clone());
        }
    }

    writeln!(out)?;
    writeln!(
        out,
        "the point of sale now has: {} ({booked} orders booked from the webshop by this demo; the others are its own till sales)",
        pos_summary(&pos.dump())
    )?;
    if args.serve {
        serve(&mut out, integration, state).await?;
    } else {
        writeln!(
            out,
            "explore a run with `tillbridge activity RUN` against your own flows.toml, or this one in the dashboard with `tillbridge demo --serve`; this demo's state was temporary"
        )?;
    }
    shop.stop().await;
    pos.stop().await;
    if !failed.is_empty() {
        return Err(Incomplete(format!(
            "records failed in: {} (see above)",
            failed.join(", ")
        ))
        .into());
    }
    Ok(())
}

/// Serves the dashboard on the demo's state until Ctrl-C or SIGTERM; its address and token go to
/// stdout as one JSON line.
async fn serve(out: &mut (dyn Write + Send), integration: Integration, state: State) -> Result<()> {
    let shutdown = CancellationToken::new();
    stop_on_signal(shutdown.clone())?;
    let served = dashboard::serve(
        Arc::new(integration),
        state,
        FlowLocks::default(),
        shutdown,
        Events::default().with(Progress::log_lines()),
        dashboard::Place::Own,
    )
    .await?;
    writeln!(
        out,
        "the dashboard shows this demo at {} — Ctrl-C stops it and both simulators",
        served.sign_in_url()
    )?;
    let line = serde_json::json!({ "dashboard_url": served.url, "token": served.token });
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    served.stopped().await;
    Ok(())
}

fn flows_of(integration: &Integration, kind: FlowKind) -> Vec<String> {
    integration
        .config
        .flows
        .iter()
        .filter(|(_, f)| f.kind == kind)
        .map(|(n, _)| n.clone())
        .collect()
}

/// "8 orders, 5 customers, 7 products (14 variants), 10 categories".
fn pos_summary(dump: &Value) -> String {
    let count = |key: &str| {
        dump.get(key)
            .and_then(Value::as_object)
            .map_or(0, |m| m.len())
    };
    format!(
        "{} orders, {} customers, {} products ({} variants), {} categories",
        count("orders"),
        count("users"),
        count("products"),
        count("combinations"),
        count("categories")
    )
}
