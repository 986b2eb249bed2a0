//! `tillbridge runs`, `activity`, `retry` and `skip`: what happened, and what to do about the
//! records that wait.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use chrono::Utc;

use super::{ConfigArg, open_state};
use crate::flows::summary;
use crate::state::{Activity, Link, PendingState, link_key};

#[derive(Debug, Clone, clap::Args)]
pub struct RunsArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// How many runs, newest first.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

/// Lists the latest runs.
pub fn runs(args: &RunsArgs) -> Result<()> {
    let (_, state) = open_state(&args.config)?;
    let runs = state.read()?.recent_runs(args.limit)?;
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
    /// Find records by order number, SKU, e-mail address (also when the log keeps only its
    /// pseudonym) or any text in them.
    #[arg(long, short)]
    search: Option<String>,
    /// How many records at most (for --search).
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

/// Prints the activity of a run, or the records that match a search; `verbose` (the global
/// `-v`) adds what came from the source and what was sent.
pub fn activity(args: &ActivityArgs, verbose: bool) -> Result<()> {
    let (_, state) = open_state(&args.config)?;
    let read = state.read()?;
    let rows = match (&args.search, args.run) {
        (Some(text), _) => {
            let mut rows = read.search_activity(text, args.limit)?;
            if text.contains('@') {
                // With redaction on, a customer's records are keyed by its address's pseudonym.
                let pseudonym = state.pseudonym(&text.trim().to_lowercase());
                rows.extend(read.search_activity(&pseudonym, args.limit)?);
                rows.sort_by_key(|r| std::cmp::Reverse((r.run, r.seq)));
                rows.dedup_by_key(|r| (r.run, r.seq));
                rows.truncate(args.limit);
            }
            rows
        }
        (None, Some(run)) => {
            let run_record = read
                .run(run)?
                .with_context(|| format!("there is no run {run} (see `tillbridge runs`)"))?;
            println!(
                "run {run} of {}: {}",
                run_record.flow,
                summary(&run_record.counts)
            );
            read.activity(run)?
        }
        (None, None) => bail!("give a run number or --search TEXT"),
    };
    if rows.is_empty() {
        println!("nothing found");
    }
    for row in rows {
        print_activity(&row, verbose);
    }
    let waiting: Vec<_> = read
        .all_pending()?
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
pub fn retry(args: &RecordArgs) -> Result<()> {
    let (_, state) = open_state(&args.config)?;
    let (flow, key) = split(&args.record)?;
    let Some(mut pending) = state.read()?.pending_one(flow, key)? else {
        bail!("{flow}/{key} is not waiting (only failed and parked records can be retried)");
    };
    pending.state = PendingState::Retry;
    state.write(|w| w.put_pending(&pending))?;
    println!(
        "{flow}/{key} is sent again on the next run of {flow}; `tillbridge once {flow}` runs it now"
    );
    Ok(())
}

/// Gives up on a waiting record: it is never sent, also not when the source changes it again.
pub fn skip(args: &RecordArgs) -> Result<()> {
    let (config, state) = open_state(&args.config)?;
    let (flow, key) = split(&args.record)?;
    let f = config
        .flows
        .get(flow)
        .with_context(|| format!("there is no flow {flow:?}"))?;
    if state.read()?.pending_one(flow, key)?.is_none() {
        bail!("{flow}/{key} is not waiting (only failed and parked records can be skipped)");
    }
    let link = Link {
        ids: BTreeMap::from([(f.target.clone(), "(skipped by hand)".to_string())]),
        variant_ids: BTreeMap::new(),
        fingerprint: None,
        synced_at: Utc::now(),
        flow: flow.to_string(),
    };
    state.write(|w| {
        w.delete_pending(flow, key)?;
        w.put_link(&link_key("order", &f.source, &f.target, key), &link)
    })?;
    println!("{flow}/{key} is skipped: it will not be sent");
    Ok(())
}
