//! The daemon (`tillbridge run`): each flow on its cron schedule, never overlapping itself, fire
//! times missed during a long run not piled up, a SIGTERM that stops it after the record in
//! flight, and no work while it waits.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Timelike;
use tillbridge::state::{RunStatus, State};
use tillbridge_sim::common::Fault;

use super::harness::{Pair, finished};

/// Every two seconds, to the second.
pub(crate) const EVERY_TWO_SECONDS: &str = r#"
[flows.stock]
kind = "stock"
source = "pos"
target = "shop"
schedule = "*/2 * * * * *"
"#;

/// `tillbridge run` with this configuration, its log piped.
fn daemon(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tillbridge"))
        .args(["run", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_keeps_to_the_schedule_never_overlaps_and_stops_cleanly_on_sigterm() {
    let pair = Pair::demo(EVERY_TWO_SECONDS).await;
    // Once in-process first: the plugins are compiled (and cached) and the stock is in step.
    finished(&pair.run("stock").await);
    // From now on every run lasts about three seconds (its one read of the products is slow):
    // longer than the schedule's two, and ending away from a fire time.
    pair.pos
        .faults()
        .add(Fault::latency("/api/rest/v1/products", 2_800).method("GET"));

    let mut daemon = daemon(&pair.child_config("daemon.redb"));
    // The daemon's log, line by line, as it comes.
    let (log_lines, reader) = crate::support::stderr_lines(&mut daemon);
    // SIGTERM while the third run is reading.
    let mut started = 0;
    let mut log = String::new();
    while started < 3 {
        let line = log_lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the daemon did not start its third run: {log}"));
        started += usize::from(line.contains("run started"));
        log.push_str(&line);
        log.push('\n');
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let term = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let signalled = Instant::now();
    let output = loop {
        if let Some(status) = daemon.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(20),
            "the daemon did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    reader.join().unwrap();
    log.extend(log_lines.try_iter().map(|l| l + "\n"));
    assert!(output.success(), "the daemon failed: {log}");

    let state = State::open(&pair.dir.path().join("daemon.redb")).unwrap();
    let mut runs = state.read().unwrap().recent_runs(100).unwrap();
    runs.reverse();
    assert_eq!(runs.len(), 3, "{log}");
    assert!(
        runs.iter().any(|r| r
            .finished_at
            .is_some_and(|end| end - r.started_at > chrono::Duration::seconds(2))),
        "a run lasted longer than the schedule's interval (or this test shows nothing)"
    );
    for pair in runs.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        assert!(
            after.started_at >= before.finished_at.unwrap(),
            "run {} started before run {} ended",
            after.id,
            before.id
        );
    }
    for run in &runs {
        // A fire time is an even second; a missed one made up for at the end of a long run
        // would start at any moment.
        let at = run.started_at;
        assert!(
            at.second() % 2 == 0 && at.nanosecond() < 500_000_000,
            "run {} started at {at}, not at a fire time of its schedule",
            run.id
        );
        assert_ne!(
            run.status,
            RunStatus::Running,
            "run {} was left running: {log}",
            run.id
        );
    }
    assert_eq!(
        runs.last().unwrap().status,
        RunStatus::Interrupted,
        "the run in flight at SIGTERM is recorded as interrupted: {log}"
    );
}

/// How often the threads of process `pid` have been switched out so far (Linux's count, the
/// voluntary and the forced ones): every wake-up of an idle thread adds one.
fn context_switches(pid: u32) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("status")).ok())
        .map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_waiting_for_its_next_run_does_not_wake_up() {
    // The stock flow, once a year on New Year's night.
    let once_a_year = EVERY_TWO_SECONDS.replace("*/2 * * * * *", "0 0 0 1 1 *");
    let pair = Pair::demo(&once_a_year).await;
    let mut daemon = daemon(&pair.child_config("idle.redb"));
    let (log_lines, reader) = crate::support::stderr_lines(&mut daemon);
    let mut log = String::new();
    while !log.contains("next run at") {
        let line = log_lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the daemon did not schedule its flow: {log}"));
        log.push_str(&line);
        log.push('\n');
    }
    // Settled: the start's checks (plugins called, connections tried) are over, and the epoch
    // has stopped ticking a second after the last of them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = context_switches(daemon.id());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let woken = context_switches(daemon.id()) - before;
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    reader.join().unwrap();
    // Ticking the plugins' epoch every 10 ms whether or not a plugin ran cost about 300 here.
    assert!(
        woken < 30,
        "an idle daemon's threads woke {woken} times in 3 s; log: {log}"
    );
}
