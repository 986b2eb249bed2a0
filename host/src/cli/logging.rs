//! The log of a command, on stderr: plain text (coloured only on a terminal) or one JSON object
//! per line, tillbridge's own lines at the level `-v` asks for and the libraries' (wasmtime,
//! cranelift, hyper, redb) only when they warn. `RUST_LOG` overrides the levels.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use super::progress::above_bars;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for a person: time, level, the run (flow and run id), the message.
    #[default]
    Text,
    /// One JSON object per line, with the run's flow and id in `span` and every enclosing span
    /// (with --integrations, the integration's) in `spans`, for a log collector.
    Json,
}

/// The level of tillbridge's own log lines: `quiet` commands (the demo) show only warnings
/// unless asked for more.
fn level(verbose: u8, quiet: bool) -> &'static str {
    match verbose {
        0 if quiet => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    }
}

/// The filter: tillbridge, its simulators and its plugins at `level`; every other crate at warn.
fn filter(verbose: u8, quiet: bool) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let ours = level(verbose, quiet);
        EnvFilter::new(format!(
            "warn,tillbridge={ours},tillbridge_sim={ours},plugin={ours}"
        ))
    })
}

/// Starts the log for this process.
pub fn init(verbose: u8, quiet: bool, format: LogFormat) {
    let registry = tracing_subscriber::registry().with(filter(verbose, quiet));
    let layer = tracing_subscriber::fmt::layer().with_writer(Stderr);
    let started = match format {
        LogFormat::Text => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            registry.with(layer.with_ansi(colour)).try_init()
        }
        LogFormat::Json => registry
            .with(layer.json().with_current_span(true).with_span_list(true))
            .try_init(),
    };
    if let Err(e) = started {
        eprintln!("warning: cannot start the log: {e}");
    }
}

/// stderr, written above any progress spinner.
#[derive(Clone, Copy)]
struct Stderr;

impl std::io::Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        above_bars(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Stderr;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}
