//! What a products run reads: most runs only the products changed since the last one, and now
//! and then the whole catalogue, the safety net for changes a source's dates do not show.
//!
//! The flow's mark (its cursor in the state file) says when the last complete run began, when
//! the last complete full read began, the flow's configuration then, and which products failed.
//! A run reads:
//! - everything when there is no mark, the flow's configuration changed since (a new mapping must
//!   reach every product), the last full read began `full_sweep_hours` ago or more, or the run
//!   asks for it (`tillbridge once products --full`);
//! - else what changed since the last complete run began, less `overlap_minutes` (this host's and
//!   the source's clocks differ, and a change committed while the last run read may carry an
//!   earlier time), then the products that failed last time, by SKU, whether they changed or not.
//!
//! A run that is interrupted or fails leaves the mark as it was, so the next one reads at least
//! as much.

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::context::RunContext;
use super::fingerprint;
use crate::config::ProductsSettings;

/// What the last complete run left for the next.
#[derive(Debug, Serialize, Deserialize)]
struct Mark {
    /// When the last complete run began.
    since: DateTime<Utc>,
    /// When the last complete full read began.
    swept: DateTime<Utc>,
    /// The fingerprint of the flow's configuration then.
    config: String,
    /// The SKUs that failed in the last complete run, read again by the next.
    failed: Vec<String>,
}

/// What this run reads.
#[derive(Debug)]
pub struct Plan {
    /// Only products changed since this time; none: everything.
    pub changed_since: Option<DateTime<Utc>>,
    /// SKUs to read as well (those that failed last time).
    pub retry: Vec<String>,
    started: DateTime<Utc>,
    swept: Option<DateTime<Utc>>,
    config: String,
}

impl Plan {
    /// Plans the run of `ctx`'s flow that begins now; `full` reads everything regardless.
    pub fn new(ctx: &RunContext<'_>, settings: &ProductsSettings, full: bool) -> Result<Plan> {
        let started = Utc::now();
        let config = fingerprint::of(&format!("{:?}", ctx.flow));
        let mark = ctx
            .state
            .read()?
            .cursor(ctx.name)?
            .and_then(|text| serde_json::from_str::<Mark>(&text).ok());
        let period = Duration::hours(i64::from(settings.full_sweep_hours));
        let incremental = mark.filter(|mark| {
            !full
                && settings.full_sweep_hours > 0
                && mark.config == config
                && started - mark.swept < period
        });
        Ok(match incremental {
            Some(mark) => Plan {
                changed_since: Some(
                    mark.since - Duration::minutes(i64::from(settings.overlap_minutes)),
                ),
                retry: mark.failed,
                started,
                swept: Some(mark.swept),
                config,
            },
            None => Plan {
                changed_since: None,
                retry: Vec::new(),
                started,
                swept: None,
                config,
            },
        })
    }

    /// Says in the run's notes what it reads.
    pub fn describe(&self) -> String {
        match self.changed_since {
            Some(since) => format!(
                "read the products changed since {} (and {} that failed last time); the whole \
                 catalogue is read every full_sweep_hours",
                since.format("%Y-%m-%d %H:%M UTC"),
                self.retry.len()
            ),
            None => "read the whole catalogue".to_string(),
        }
    }

    /// Records that the run read everything it planned, with the SKUs that failed in it. Not
    /// called for a run that stopped early.
    pub fn complete(self, ctx: &RunContext<'_>, failed: Vec<String>) -> Result<()> {
        let mark = Mark {
            since: self.started,
            swept: self.swept.unwrap_or(self.started),
            config: self.config,
            failed,
        };
        let text = serde_json::to_string(&mark)?;
        ctx.commit(|w| w.put_cursor(ctx.name, &text))
    }
}
