//! What opening the state file costs as it grows: every open first checks a copy of the file with
//! redb's integrity check (a damaged file is refused before it is written to), so the cost grows
//! with the file. Files are filled as a busy integration fills them: a link per product and
//! customer, and activity entries with what came and what was sent.
//!
//! Run: `cargo bench -p tillbridge --bench state_open`

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use tillbridge::state::{Activity, Link, Outcome, State};

const RUNS: usize = 5;

/// Fills a state file with `links` links and `entries` activity entries.
fn fill(path: &Path, links: usize, entries: usize) {
    let state = State::open(path).unwrap();
    for chunk in (0..links).collect::<Vec<_>>().chunks(5_000) {
        state
            .write(|w| {
                for i in chunk {
                    let link = Link {
                        ids: BTreeMap::from([
                            ("shop".into(), format!("{i:032x}")),
                            ("pos".into(), format!("{}", 100_000 + i)),
                        ]),
                        variant_ids: BTreeMap::new(),
                        fingerprint: Some(format!("{:064x}", i * 7919)),
                        synced_at: Utc::now(),
                        flow: "products".into(),
                    };
                    w.put_link(&format!("product/SKU-{i:06}"), &link)?;
                }
                Ok(())
            })
            .unwrap();
    }
    for chunk in (0..entries).collect::<Vec<_>>().chunks(5_000) {
        state
            .write(|w| {
                for i in chunk {
                    let came = serde_json::json!({ "sku": format!("SKU-{i:06}"), "stock": i % 40, "name": "T-shirt, organic cotton" });
                    w.put_activity(&Activity {
                        run: 1 + (*i as u64) / 1_000,
                        seq: (*i % 1_000) as u32 + 1,
                        at: Utc::now(),
                        flow: "stock".into(),
                        kind: "stock".into(),
                        key: format!("SKU-{i:06}"),
                        source: "pos".into(),
                        target: "shop".into(),
                        outcome: Outcome::Updated,
                        message: format!("stock {} → {}", i % 40, i % 40 + 1),
                        fields: vec!["stock".into()],
                        came: Some(came.clone()),
                        sent: Some(came),
                        answer: None,
                    })?;
                }
                Ok(())
            })
            .unwrap();
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    println!("| links | activity entries | file | open (median of {RUNS}) | per MB |");
    println!("|---:|---:|---:|---:|---:|");
    for (links, entries) in [(1_000, 10_000), (10_000, 100_000), (10_000, 1_000_000)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        fill(&path, links, entries);
        let bytes = std::fs::metadata(&path).unwrap().len();
        let times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                drop(State::open(&path).unwrap());
                started.elapsed()
            })
            .collect();
        let time = median(times);
        let mb = bytes as f64 / 1e6;
        println!(
            "| {links} | {entries} | {mb:.1} MB | {:.0} ms | {:.1} ms |",
            time.as_secs_f64() * 1e3,
            time.as_secs_f64() * 1e3 / mb
        );
    }
}
