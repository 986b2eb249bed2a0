//! Cold start of `tillbridge plugins`: with an empty compile cache (every plugin compiled) against
//! a warm one (every plugin read from the cache).
//!
//! Run: `cargo bench -p tillbridge --bench cold_start`

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 7;

fn plugins(dir: &Path) -> Duration {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_tillbridge"))
        .args(["plugins", "--config"])
        .arg(dir.join("flows.toml"))
        .env("RUST_LOG", "error")
        .output()
        .expect("run tillbridge");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    started.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from("[host]\ncache_dir = \"cache\"\n");
    for name in tillbridge::builtin::names() {
        config.push_str(&format!("\n[plugins.{name}]\nfile = \"builtin:{name}\"\n"));
    }
    std::fs::write(dir.path().join("flows.toml"), config).unwrap();

    let cold: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let _ = std::fs::remove_dir_all(dir.path().join("cache"));
            plugins(dir.path())
        })
        .collect();
    let warm: Vec<Duration> = (0..RUNS).map(|_| plugins(dir.path())).collect();
    println!(
        "tillbridge plugins ({} built-in plugins), median of {RUNS} runs: empty cache {:.1} ms, warm cache {:.1} ms",
        tillbridge::builtin::names().len(),
        median(cold).as_secs_f64() * 1e3,
        median(warm).as_secs_f64() * 1e3
    );
}
