//! The command line as an operator meets it: every command runs (none panics), exit codes say
//! how a run ended, logs are fit for a terminal and for a collector, cron schedules read as
//! crontab reads them, and a run killed mid-way is shown as interrupted.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use clap::CommandFactory;
use serde_json::Value;
use tillbridge::state::State;
use tillbridge_sim::common::Fault;
use tillbridge_sim::dataset;

use crate::flows::harness::{EVERY_FLOW, Pair};

/// The binary, in `dir`, with `config` as its flows.toml.
fn tillbridge(dir: &Path, config: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tillbridge"));
    cmd.current_dir(dir)
        .env("TILLBRIDGE_CONFIG", config)
        .env_remove("RUST_LOG")
        .env_remove("TILLBRIDGE_LOG_FORMAT")
        .env_remove("NO_COLOR");
    cmd
}

/// The exit code (None when a signal ended it).
fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

/// Runs to the end; asserts it did not panic and ended with `expected`.
fn expect(mut cmd: Command, expected: i32) -> Output {
    let shown = format!("{cmd:?}");
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{shown} panicked:\n{stderr}");
    assert_eq!(
        code(&output),
        Some(expected),
        "{shown} ended unexpectedly\nstdout:\n{}\nstderr:\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Starts a long-running command and waits for a line of its stderr containing `needle`.
fn start_until(mut cmd: Command, needle: &str) -> (Child, Receiver<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, _) = crate::support::stderr_lines(&mut child);
    let mut log = String::new();
    loop {
        match lines.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                let found = line.contains(needle);
                log.push_str(&line);
                log.push('\n');
                if found {
                    return (child, lines);
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no {needle:?} in its log:\n{log}");
            }
        }
    }
}

/// Sends a signal (by its name: TERM, INT, KILL) and waits for the end.
fn signal(mut child: Child, name: &str) -> Output {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
    }
    let status = child.wait().unwrap();
    Output {
        status,
        stdout: out.into_bytes(),
        stderr: Vec::new(),
    }
}

/// `once stock` with the point of sale's product reads slowed down, once its run has begun (a
/// moment to stop it in).
fn slow_stock_run(pair: &Pair, config: &Path) -> Child {
    pair.pos
        .faults()
        .add(Fault::latency("/api/rest/v1/products", 2_500).method("GET"));
    let mut cmd = tillbridge(pair.dir.path(), config);
    cmd.args(["once", "stock"]);
    let (child, _) = start_until(cmd, "run started");
    std::thread::sleep(Duration::from_millis(300));
    child
}

/// The order run `run` booked, as the activity log keeps what was sent.
fn booked_order(state: &Path, run: u64, number: &str) -> Value {
    let state = State::open(state).unwrap();
    let activity = state.read().unwrap().activity(run).unwrap();
    activity
        .into_iter()
        .find(|a| a.kind == "order" && a.key == number)
        .and_then(|a| a.sent)
        .map(|sent| sent["order"].clone())
        .unwrap_or_else(|| panic!("order {number} is not in run {run}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_runs_against_the_demo_and_none_panics() {
    let pair = Pair::demo(EVERY_FLOW).await;
    let config = pair.child_config("cli.redb");
    let dir = pair.dir.path().to_path_buf();
    let cli = tillbridge::cli::Cli::command();
    let mut ran: BTreeSet<String> = BTreeSet::new();
    let mut run = |args: &[&str], expected: i32| -> Output {
        ran.insert(args[0].to_string());
        let mut cmd = tillbridge(&dir, &config);
        cmd.args(args);
        expect(cmd, expected)
    };

    let help = |args: &[&str]| {
        let mut cmd = tillbridge(&dir, &config);
        cmd.args(args).arg("--help");
        stdout(&expect(cmd, 0))
    };
    assert!(help(&[]).contains("Exit codes:"), "{}", help(&[]));
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let text = help(&[name]);
        assert!(text.contains("Usage: tillbridge"), "{name} --help: {text}");
        for nested in sub.get_subcommands() {
            let text = help(&[name, nested.get_name()]);
            assert!(text.contains("Usage: tillbridge"), "{name} --help: {text}");
        }
    }

    run(&["validate"], 0);
    run(&["plugins"], 0);
    run(&["plugins", "--json"], 0);
    let checked = stdout(&run(&["check"], 0));
    assert!(
        checked.contains("ok      shop: Shopware") && checked.contains("ok      pos: "),
        "{checked}"
    );
    // `init` never writes over the flows.toml in use, and asks its questions on a terminal only.
    let kept = run(&["init", "--non-interactive"], 1);
    assert!(
        String::from_utf8_lossy(&kept.stderr).contains("give --force"),
        "{kept:?}"
    );
    let no_terminal = run(&["init", "--config", "elsewhere.toml"], 1);
    assert!(
        String::from_utf8_lossy(&no_terminal.stderr).contains("--non-interactive"),
        "{no_terminal:?}"
    );
    let fresh = tempfile::tempdir().unwrap();
    let written = run_in(
        fresh.path(),
        &[
            "init",
            "--non-interactive",
            "--shopware-url",
            pair.shop.base_url(),
            "--shopware-client-id",
            dataset::SHOPWARE_CLIENT_ID,
            "--shopware-client-secret",
            dataset::SHOPWARE_CLIENT_SECRET,
            "--ccv-url",
            pair.pos.base_url(),
            "--ccv-public-key",
            dataset::CCV_PUBLIC_KEY,
            "--ccv-secret",
            dataset::CCV_SECRET,
        ],
        0,
    );
    assert!(stdout(&written).contains("wrote flows.toml"), "{written:?}");
    let plan = stdout(&run(&["once", "orders", "--dry-run"], 0));
    assert!(plan.contains("dry run of orders"), "{plan}");
    let first = stdout(&run(&["once", "orders"], 0));
    assert!(first.contains("run 1 of orders"), "{first}");
    assert!(first.contains("parked"), "10006 waits: {first}");
    let runs = stdout(&run(&["runs"], 0));
    assert!(runs.contains("finished"), "{runs}");
    let activity = stdout(&run(&["activity", "1"], 0));
    assert!(activity.contains("10001"), "{activity}");
    // The global -v and activity's own detail once shared one id: every call crashed.
    let detailed = stdout(&run(&["activity", "1", "-v"], 0));
    assert!(detailed.contains("sent: "), "{detailed}");
    let found = stdout(&run(&["-v", "activity", "--search", "10006"], 0));
    assert!(found.contains("parked"), "{found}");
    run(&["activity", "99"], 1);
    run(&["retry", "orders/10006"], 0);
    run(&["skip", "orders/10006"], 0);
    run(&["skip", "orders/10006"], 1);
    run(&["retry", "not-a-record"], 1);
    // The state file as a whole (with a daemon running: tests/e2e/dashboard/cli.rs).
    let checked = stdout(&run(&["state", "check"], 0));
    assert!(
        checked.contains("links") && checked.contains(" ok"),
        "{checked}"
    );
    run(&["state", "backup", "cli-backup.redb"], 0);
    run(&["state", "check", "cli-backup.redb"], 0);
    run(&["state", "restore", "cli-backup.redb"], 0);
    run(&["state", "restore", "no-such-backup.redb"], 1);
    for flow in ["categories", "products", "stock"] {
        run(&["once", flow, "--all"], 0);
    }
    // The next products run reads only what changed since the last; --full, every product.
    let changed = stdout(&run(&["once", "products"], 0));
    assert!(
        changed.contains("read the products changed since"),
        "{changed}"
    );
    let full = stdout(&run(&["once", "products", "--full"], 0));
    assert!(full.contains("read the whole catalogue"), "{full}");
    run(&["once", "no-such-flow"], 1);

    let input = dir.join("orders.json");
    std::fs::write(
        &input,
        booked_order(&dir.join("cli.redb"), 1, "10001").to_string(),
    )
    .unwrap();
    let transformed = stdout(&run(
        &[
            "transform",
            "payment-map",
            "--input",
            input.to_str().unwrap(),
            "--kind",
            "order",
            "--settings",
            r#"{"map":{"PayPal":"2"}}"#,
        ],
        0,
    ));
    assert!(transformed.contains("\"keep\""), "{transformed}");
    // The suite itself runs in tests/e2e/conformance.rs; here what it refuses.
    let refused = run(
        &["conformance", "payment-map", "--against", "ledger-sim"],
        1,
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is a transform, not a connector"),
        "{refused:?}"
    );
    // The scaffolds are built and loaded in scaffold.rs; here they are written and refused.
    let scaffold = dir.join("scaffold");
    let wrote = stdout(&run(
        &[
            "new",
            "transform",
            "clean",
            "--dir",
            scaffold.to_str().unwrap(),
        ],
        0,
    ));
    assert!(wrote.contains("wrote transform clean"), "{wrote}");
    assert!(scaffold.join("src/lib.rs").is_file());
    run(&["new", "connector", "ledger", "--capabilities", "nope"], 1);

    // A folder of integrations is run and sharded in fleet.rs; here it is listed.
    let folder = dir.join("integrations");
    std::fs::create_dir_all(folder.join("shop")).unwrap();
    std::fs::copy(&config, folder.join("shop/flows.toml")).unwrap();
    let listed = stdout(&run(&["integrations", "list", folder.to_str().unwrap()], 0));
    assert_eq!(listed, "shop\n");

    ran.insert("run".into());
    let mut daemon = tillbridge(&dir, &config);
    daemon.arg("run");
    let (child, _) = start_until(daemon, "tillbridge runs");
    let stopped = signal(child, "TERM");
    assert_eq!(
        code(&stopped),
        Some(0),
        "the daemon stops cleanly on SIGTERM"
    );

    ran.insert("sim".into());
    for system in [&["shopware"][..], &["ccv", "--no-limits"], &["ledger"]] {
        let mut sim = tillbridge(&dir, &config);
        sim.arg("sim").args(system).args(["--port", "0"]);
        let mut child = sim.stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let started: Value = serde_json::from_str(&line).expect("a JSON start-up line");
        assert!(started.to_string().contains("http://127.0.0.1:"), "{line}");
        let stopped = signal(child, "INT");
        assert_eq!(code(&stopped), Some(0), "sim {system:?} stops on Ctrl-C");
    }

    // The demo brings its own simulators and configuration.
    let empty = tempfile::tempdir().unwrap();
    let demo = stdout(&run_in(empty.path(), &["demo"], 0));
    ran.insert("demo".into());
    assert!(demo.contains("orders booked"), "{demo}");

    let every: BTreeSet<String> = cli
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let missing: Vec<&String> = every.difference(&ran).collect();
    assert!(
        missing.is_empty(),
        "commands this test does not run yet: {missing:?}"
    );
}

/// Runs the binary in `dir` with no configuration of its own.
fn run_in(dir: &Path, args: &[&str], expected: i32) -> Output {
    let mut cmd = tillbridge(dir, &dir.join("flows.toml"));
    cmd.env_remove("TILLBRIDGE_CONFIG").args(args);
    expect(cmd, expected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_say_whether_every_record_made_it() {
    let pair = Pair::demo(EVERY_FLOW).await;
    let config = pair.child_config("codes.redb");
    let dir = pair.dir.path();
    let once = |flow: &str, expected: i32| -> Output {
        let mut cmd = tillbridge(dir, &config);
        cmd.args(["once", flow]);
        expect(cmd, expected)
    };

    // The point of sale refuses once: the orders of the run fail, the run goes on.
    pair.pos.faults().add(
        Fault::status("/api/rest/v1/orders*", 503)
            .method("POST")
            .times(1),
    );
    let refused = once("orders", 3);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("record(s) failed in run 1 of orders"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    once("orders", 0);

    // Interrupted (SIGTERM while it reads a slow page): the next run goes on, but this one did
    // not do everything.
    let child = slow_stock_run(&pair, &config);
    assert_eq!(code(&signal(child, "TERM")), Some(3));

    // A run stopped by an error: the webshop refuses the credentials (a state of its own, or
    // the connector's token from the runs above would still be good).
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            tillbridge_sim::dataset::SHOPWARE_CLIENT_SECRET,
            "wrong-secret",
        )
        .replace("codes.redb", "wrong.redb");
    let wrong = dir.join("wrong.toml");
    std::fs::write(&wrong, text).unwrap();
    let mut cmd = tillbridge(dir, &wrong);
    cmd.args(["once", "categories"]);
    expect(cmd, 1);

    // A mistake in flows.toml, for every command that reads it.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("kind = \"stock\"", "kind = \"stock\"\nbatch_sise = 10");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, text).unwrap();
    for args in [&["validate"][..], &["once", "stock"], &["run"], &["runs"]] {
        let mut cmd = tillbridge(dir, &bad);
        cmd.args(args);
        let output = expect(cmd, 78);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("batch_sise"), "{args:?}: {stderr}");
    }
    // The command line itself wrong: clap's 2.
    let mut cmd = tillbridge(dir, &config);
    cmd.args(["once"]);
    expect(cmd, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_way_is_shown_as_interrupted_on_the_next_start() {
    let pair = Pair::demo(EVERY_FLOW).await;
    let config = pair.child_config("killed.redb");
    let dir = pair.dir.path();
    let killed = signal(slow_stock_run(&pair, &config), "KILL");
    assert_eq!(code(&killed), None, "SIGKILL: no chance to record anything");

    let mut cmd = tillbridge(dir, &config);
    cmd.arg("runs");
    let runs = stdout(&expect(cmd, 0));
    assert!(runs.contains("interrupted"), "{runs}");
    assert!(!runs.contains("running"), "{runs}");
    assert!(runs.contains("the process ended during the run"), "{runs}");
    // And the next run goes on as usual.
    pair.pos.faults().clear();
    let mut cmd = tillbridge(dir, &config);
    cmd.args(["once", "stock"]);
    expect(cmd, 0);
}

/// A configuration whose plugins are compiled afresh (its own, empty, compile cache).
fn fresh_cache(pair: &Pair, name: &str) -> (PathBuf, tempfile::TempDir) {
    let cache = tempfile::tempdir().unwrap();
    let config = pair.child_config(&format!("{name}.redb"));
    let text = std::fs::read_to_string(&config).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("cache_dir") {
                format!("cache_dir = \"{}\"", cache.path().display())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = pair.dir.path().join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    (path, cache)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_the_run_and_suit_collectors_and_pipes() {
    let pair = Pair::demo(EVERY_FLOW).await;
    let dir = pair.dir.path();
    let (config, _cache) = fresh_cache(&pair, "logs");

    // JSON, one object a line, each line of the run with its flow and run id; -vv adds
    // tillbridge's own detail, never the compiler's (the plugins are compiled in this run).
    let mut cmd = tillbridge(dir, &config);
    cmd.args(["-vv", "--log-format", "json", "once", "stock"]);
    let output = expect(cmd, 0);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let message = |l: &Value| l["fields"]["message"].as_str().unwrap_or("").to_string();
    let started = lines
        .iter()
        .find(|l| message(l) == "run started")
        .expect("a run started line");
    assert_eq!(started["span"]["name"], "run");
    assert_eq!(started["span"]["flow"], "stock");
    assert_eq!(started["span"]["run"], 1);
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["target"]
                .as_str()
                .is_some_and(|t| t.starts_with("tillbridge::egress"))
        })
        .collect();
    assert!(!requests.is_empty(), "-vv shows each request:\n{stderr}");
    for line in requests {
        assert_eq!(line["span"]["flow"], "stock", "{line}");
        assert_eq!(line["span"]["run"], 1, "{line}");
    }
    let noise: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["target"].as_str().is_some_and(|t| {
                ["cranelift", "wasmtime", "regalloc", "hyper", "reqwest"]
                    .iter()
                    .any(|c| t.starts_with(c))
            })
        })
        .collect();
    assert!(noise.is_empty(), "the libraries' trace: {noise:?}");

    // Text into a pipe: no colour codes, and the run in each line of it.
    let mut cmd = tillbridge(dir, &config);
    cmd.args(["once", "stock"]);
    let output = expect(cmd, 0);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a pipe: {stderr:?}"
    );
    let started = stderr
        .lines()
        .find(|l| l.contains("run started"))
        .expect("a run started line");
    assert!(started.contains("run{flow=stock run=2}"), "{started}");
}

#[tokio::test]
async fn validate_reads_cron_as_crontab_and_shows_the_next_fire_times() {
    let flows = EVERY_FLOW
        .replace(
            "[flows.stock]\n",
            "[flows.stock]\nschedule = \"0 9 * * 1-5\"\n",
        )
        .replace(
            "[flows.orders]\n",
            "[flows.orders]\nschedule = \"30 6 * * 0\"\n",
        )
        .replace(
            "[flows.products]\n",
            "[flows.products]\nschedule = \"0 7 * * 7\"\n",
        );
    let pair = Pair::demo(&flows).await;
    let config = pair.child_config("cron.redb");
    let mut cmd = tillbridge(pair.dir.path(), &config);
    cmd.arg("validate");
    let out = stdout(&expect(cmd, 0));
    let days = |flow: &str| -> Vec<String> {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{flow}:")))
            .unwrap_or_else(|| panic!("no line for {flow}: {out}"));
        let next = line.split(", next ").nth(1).expect("next fire times");
        next.split(", ")
            .map(|t| t.split(' ').next().unwrap().to_string())
            .collect()
    };
    let weekdays = days("stock");
    assert_eq!(weekdays.len(), 3, "{out}");
    assert!(
        weekdays
            .iter()
            .all(|d| ["Mon", "Tue", "Wed", "Thu", "Fri"].contains(&d.as_str())),
        "1-5 is Monday to Friday: {out}"
    );
    assert_eq!(days("orders"), vec!["Sun"; 3], "0 is Sunday: {out}");
    assert_eq!(days("products"), vec!["Sun"; 3], "7 is Sunday: {out}");
    assert!(out.contains("09:00:00"), "{out}");
}
