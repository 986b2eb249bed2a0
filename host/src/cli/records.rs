//! `tillbridge runs`, `activity`, `retry` and `skip`: what happened, and what to do about the
//! records that wait. They read the state file, or, while `tillbridge run` holds it, ask the
//! daemon (through its dashboard's API, with its token).

use anyhow::{Context, Result, bail};

use super::ConfigArg;
use crate::config::Config;
use crate::dashboard::client::Client;
use crate::flows::summary;
use crate::state::{Activity, Pending, Run, State};

/// Where the records are: the state file, or the running daemon that holds it.
enum Records {
    File(State),
    Daemon(Client),
}

impl Records {
    fn open(args: &ConfigArg) -> Result<(Config, Records)> {
        let config = args.load()?;
        let path = config.resolve_path(&config.host.state);
        let records = match State::open(&path) {
            Ok(state) => Records::File(state),
            Err(e) if State::held_elsewhere(&e) => Records::Daemon(Client::for_state(&path)?),
            Err(e) => return Err(e),
        };
        Ok((config, records))
    }

    async fn recent_runs(&self, limit: usize) -> Result<Vec<Run>> {
        match self {
            Records::File(state) => state.read()?.recent_runs(limit),
            Records::Daemon(client) => client.runs(limit).await,
        }
    }

    async fn run(&self, id: u64) -> Result<Option<(Run, Vec<Activity>)>> {
        match self {
            Records::File(state) => {
                let read = state.read()?;
                match read.run(id)? {
                    Some(run) => Ok(Some((run, read.activity(id)?))),
                    None => Ok(None),
                }
            }
            Records::Daemon(client) => Ok(client.run(id).await?.map(|r| (r.run, r.activity))),
        }
    }

    async fn search(&self, text: &str, limit: usize) -> Result<Vec<Activity>> {
        match self {
            Records::File(state) => state.read()?.search_activity(text, limit),
            Records::Daemon(client) => client.search(text, limit).await,
        }
    }

    async fn pending(&self) -> Result<Vec<Pending>> {
        match self {
            Records::File(state) => state.read()?.all_pending(),
            Records::Daemon(client) => client.pending().await,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct RunsArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// How many runs, newest first.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

/// Lists the latest runs.
pub async fn runs(args: &RunsArgs) -> Result<()> {
    let (_, records) = Records::open(&args.config)?;
    let runs = records.recent_runs(args.limit).await?;
    if runs.is_empty() {
        println!("no runs yet");
    }
    for run in runs {
        let took = run
            .finished_at
            .map(|end| {
                format!(
                    "{:.1} s",
                    (end - run.started_at).num_milliseconds() as f64 / 1000.0
                )
            })
            .unwrap_or_else(|| "…".into());
        println!(
            "{:>5}  {:<12} {}  {:<11} {:>8}  {}",
            run.id,
            run.flow,
            run.started_at.format("%Y-%m-%d %H:%M:%S"),
            format!("{:?}", run.status).to_lowercase(),
            took,
            summary(&run.counts)
        );
        if let Some(error) = run.error {
            println!("       stopped: {error}");
        }
    }
    Ok(())
}

#[derive(Debug, Clone, clap::Args)]
pub struct ActivityArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// A run's number.
    #[arg(required_unless_present = "search")]
    run: Option<u64>,
    /// Find records by order number, SKU, e-mail address or any text in them.
    #[arg(long, short)]
    search: Option<String>,
    /// How many records at most (for --search).
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

/// Prints the activity of a run, or the records that match a search; `verbose` (the global
/// `-v`) adds what came from the source, what was sent and the answer.
pub async fn activity(args: &ActivityArgs, verbose: bool) -> Result<()> {
    let (_, records) = Records::open(&args.config)?;
    let rows = match (&args.search, args.run) {
        (Some(text), _) => records.search(text, args.limit).await?,
        (None, Some(run)) => {
            let (run_record, activity) = records
                .run(run)
                .await?
                .with_context(|| format!("there is no run {run} (see `tillbridge runs`)"))?;
            println!(
                "run {run} of {}: {}",
                run_record.flow,
                summary(&run_record.counts)
            );
            activity
        }
        (None, None) => bail!("give a run number or --search TEXT"),
    };
    if rows.is_empty() {
        println!("nothing found");
    }
    for row in rows {
        print_activity(&row, verbose);
    }
    let waiting: Vec<_> = records
        .pending()
        .await?
        .into_iter()
        .filter(|p| args.search.as_deref().is_none_or(|s| p.key.contains(s)))
        .collect();
    if !waiting.is_empty() {
        println!("waiting:");
        for p in waiting {
            println!(
                "  {}/{}  {:?} since {} ({} attempts): {}",
                p.flow,
                p.key,
                p.state,
                p.since.format("%Y-%m-%d %H:%M"),
                p.attempts,
                p.reason
            );
        }
    }
    Ok(())
}

fn print_activity(row: &Activity, verbose: bool) {
    println!(
        "run {:>4}  {}  {} {:<22} {:<9} {} → {}: {}",
        row.run,
        row.at.format("%Y-%m-%d %H:%M:%S"),
        row.kind,
        row.key,
        row.outcome.as_str(),
        row.source,
        row.target,
        row.message
    );
    if !row.fields.is_empty() {
        println!("           fields: {}", row.fields.join(", "));
    }
    if verbose {
        for (label, value) in [("came", &row.came), ("sent", &row.sent)] {
            if let Some(value) = value {
                println!("           {label}: {value}");
            }
        }
        if let Some(answer) = &row.answer {
            println!("           answer: {answer}");
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The record: FLOW/KEY, e.g. orders/10006 (see `tillbridge activity --search`).
    record: String,
}

fn split(record: &str) -> Result<(&str, &str)> {
    record
        .split_once('/')
        .filter(|(f, k)| !f.is_empty() && !k.is_empty())
        .with_context(|| format!("{record:?} is not FLOW/KEY, e.g. orders/10006"))
}

/// Asks for a failed or parked record to be sent again on the flow's next run.
pub async fn retry(args: &RecordArgs) -> Result<()> {
    let (_, records) = Records::open(&args.config)?;
    let (flow, key) = split(&args.record)?;
    match records {
        Records::File(state) => {
            state.retry(flow, key)?;
            println!(
                "{flow}/{key} is sent again on the next run of {flow}; `tillbridge once {flow}` runs it now"
            );
        }
        Records::Daemon(client) => println!(
            "{}; Run now on the dashboard sends it now",
            client.retry(flow, key).await?
        ),
    }
    Ok(())
}

/// Gives up on a waiting record: it is never sent, also not when the source changes it again.
pub async fn skip(args: &RecordArgs) -> Result<()> {
    let (config, records) = Records::open(&args.config)?;
    let (flow, key) = split(&args.record)?;
    let f = config
        .flows
        .get(flow)
        .with_context(|| format!("there is no flow {flow:?}"))?;
    match records {
        Records::File(state) => {
            state.skip(flow, &f.source, &f.target, key)?;
            println!("{flow}/{key} is skipped: it will not be sent");
        }
        Records::Daemon(client) => println!("{}", client.skip(flow, key).await?),
    }
    Ok(())
}
