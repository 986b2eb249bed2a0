//! The command line's view of runs as they go, one consumer of the flows' [`Event`]s: on a
//! terminal a spinner per run with what it is doing and its counts so far; elsewhere (a pipe, a
//! log file, the daemon) a log line every [`LOG_EVERY`] records, so that a long run shows it is
//! alive without flooding the log.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::flows::events::Counts;
use crate::flows::{Event, EventSink, summary};

/// Records between two log lines when no spinner is shown.
pub const LOG_EVERY: u64 = 500;

/// Every spinner of the process: log lines are written above them (see [`above_bars`]).
static BARS: LazyLock<MultiProgress> = LazyLock::new(MultiProgress::new);

/// Writes `buf` to stderr above the spinners, so that a log line never tears one.
pub fn above_bars(buf: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    BARS.suspend(|| std::io::stderr().write_all(buf))
}

/// Shows runs as they go.
pub struct Progress {
    spinners: bool,
    runs: Mutex<BTreeMap<(String, u64), Shown>>,
}

/// One run on show.
struct Shown {
    bar: Option<ProgressBar>,
    doing: String,
    counts: Counts,
}

impl Progress {
    /// Spinners when stderr is a terminal, log lines otherwise.
    pub fn for_stderr() -> Self {
        Self::new(std::io::stderr().is_terminal())
    }

    /// Log lines only (the daemon, where runs of several flows overlap).
    pub fn log_lines() -> Self {
        Self::new(false)
    }

    fn new(spinners: bool) -> Self {
        Progress {
            spinners,
            runs: Mutex::new(BTreeMap::new()),
        }
    }

    fn spinner(flow: &str) -> ProgressBar {
        let bar = BARS.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]")
                .expect("a valid template"),
        );
        bar.set_prefix(flow.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }
}

impl EventSink for Progress {
    fn event(&self, event: &Arc<Event>) {
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let id = (event.flow().to_string(), event.run());
        match &**event {
            Event::RunStarted { flow, .. } => {
                let shown = Shown {
                    bar: self.spinners.then(|| Self::spinner(flow)),
                    doing: "starting".into(),
                    counts: Counts::new(),
                };
                shown.show();
                runs.insert(id, shown);
            }
            Event::Progress { doing, .. } => {
                if let Some(shown) = runs.get_mut(&id) {
                    shown.doing = doing.clone();
                    shown.show();
                }
            }
            Event::Record(activity) => {
                if let Some(shown) = runs.get_mut(&id) {
                    *shown.counts.entry(activity.outcome).or_default() += 1;
                    let total: u64 = shown.counts.values().sum();
                    match &shown.bar {
                        Some(_) => shown.show(),
                        None if total.is_multiple_of(LOG_EVERY) => {
                            tracing::info!("{}", summary(&shown.counts))
                        }
                        None => {}
                    }
                }
            }
            Event::RunFinished(_) => {
                if let Some(bar) = runs.remove(&id).and_then(|s| s.bar) {
                    bar.finish_and_clear();
                    BARS.remove(&bar);
                }
            }
        }
    }
}

impl Shown {
    fn show(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} ({})", self.doing, summary(&self.counts)));
        }
    }
}
