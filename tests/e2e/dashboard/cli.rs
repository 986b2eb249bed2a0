//! The command line beside a running daemon (`runs`, `activity`, `retry` and `skip` go through
//! its dashboard's API while it holds the state file), and `tillbridge demo --serve`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use super::board::four_flows;
use crate::flows::harness::Pair;
use crate::support::tillbridge;

/// A `tillbridge` child process, stopped with SIGTERM when dropped.
pub(crate) struct Daemon {
    child: Child,
    /// Its output, line by line as it comes: (from stdout, line).
    output: std::sync::mpsc::Receiver<(bool, String)>,
}

impl Daemon {
    pub(crate) fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tillbridge"))
            .args(args)
            .current_dir(dir)
            .envs(env.iter().copied())
            .env_remove("RUST_LOG")
            .env_remove("TILLBRIDGE_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines, output) = std::sync::mpsc::channel();
        for (is_stdout, stream) in [
            (
                true,
                Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            ),
            (false, Box::new(child.stderr.take().unwrap())),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = lines.send((is_stdout, line));
                }
            });
        }
        Daemon { child, output }
    }

    /// Waits for a line of its output that `wanted` accepts; every line before it.
    pub(crate) fn line(
        &self,
        wanted: impl Fn(bool, &str) -> bool,
    ) -> (String, Vec<(bool, String)>) {
        let mut seen = Vec::new();
        loop {
            let (is_stdout, line) = self
                .output
                .recv_timeout(Duration::from_secs(180))
                .unwrap_or_else(|_| panic!("not said: {seen:?}"));
            if wanted(is_stdout, &line) {
                return (line, seen);
            }
            seen.push((is_stdout, line));
        }
    }

    /// Stops it with SIGTERM; whether it exited successfully.
    pub(crate) fn stop(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(start.elapsed() < Duration::from_secs(30), "did not stop");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.stop();
        }
    }
}

/// `tillbridge ARGS --config CONFIG`: (success, stdout, stderr).
fn cli(config: &Path, args: &[&str]) -> (bool, String, String) {
    let output = tillbridge(config.parent().unwrap())
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} never came",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_activity_retry_and_skip_work_while_the_daemon_holds_the_state_file() {
    let pair = Pair::demo(&four_flows("0 0 1 1 *")).await;
    let config = pair.child_config("daemon.redb");
    let (ok, _, stderr) = cli(&config, &["once", "orders"]);
    assert!(ok, "{stderr}");
    // What they say from the file, before the daemon holds it.
    let local: Vec<(bool, String, String)> = [
        &["runs"][..],
        &["activity", "1", "-v"],
        &["activity", "--search", "10006"],
    ]
    .iter()
    .map(|args| cli(&config, args))
    .collect();
    assert!(local[2].1.contains("Parked"), "{local:?}");

    let dir = pair.dir.path();
    let config_arg = config.to_str().unwrap();
    let mut daemon = Daemon::start(dir, &["run", "--config", config_arg], &[]);
    let (announced, _) = daemon.line(|_, l| l.contains("dashboard: http://"));
    let discovery = pair.dir.path().join("daemon.redb.dashboard");
    wait_for(&discovery);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&discovery).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only its owner reads the token");
    }

    // The same answers, through the daemon.
    for (args, before) in [
        &["runs"][..],
        &["activity", "1", "-v"],
        &["activity", "--search", "10006"],
    ]
    .iter()
    .zip(&local)
    {
        let now = cli(&config, args);
        assert!(now.0, "{args:?} beside the daemon: {}", now.2);
        assert_eq!(
            &now.1, &before.1,
            "{args:?} says the same through the daemon"
        );
    }
    let (ok, _, stderr) = cli(&config, &["once", "orders"]);
    assert!(!ok);
    assert!(
        stderr.contains("a running `tillbridge run` holds the state file"),
        "{stderr}"
    );

    let (ok, stdout, stderr) = cli(&config, &["retry", "orders/10006"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("is sent again"), "{stdout}");
    let (ok, stdout, stderr) = cli(&config, &["skip", "orders/10006"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("is skipped"), "{stdout}");
    let (ok, _, stderr) = cli(&config, &["skip", "orders/10006"]);
    assert!(!ok && stderr.contains("not waiting"), "{stderr}");

    // The token was generated and printed; the dashboard asks for it.
    let sign_in = announced
        .split("sign in: ")
        .nth(1)
        .expect("the sign-in address");
    let sign_in = sign_in.split(')').next().unwrap();
    let base = sign_in.split('?').next().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let http = http();
    assert_eq!(
        http.get(base).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        http.get(sign_in).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );

    assert!(daemon.stop(), "the daemon stops cleanly");
    assert!(!discovery.exists(), "and forgets where it was");
    // The file is free again, and remembers what was done through the daemon.
    let (ok, stdout, stderr) = cli(&config, &["activity", "--search", "10006"]);
    assert!(ok, "{stderr}");
    assert!(!stdout.contains("waiting:"), "10006 was skipped: {stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_the_environment_is_used_and_never_printed() {
    let flows = four_flows("0 0 1 1 *").replace(
        "listen = \"127.0.0.1:0\"",
        "listen = \"127.0.0.1:0\"\ntoken = \"${BOARD_TOKEN:-the-pair-process-reads-this-one}\"",
    );
    let pair = Pair::demo(&flows).await;
    let config = pair.child_config("daemon.redb");
    let token = "a-token-the-merchant-chose-0123456789";
    let mut daemon = Daemon::start(
        pair.dir.path(),
        &["run", "--config", config.to_str().unwrap()],
        &[("BOARD_TOKEN", token)],
    );
    let (announced, _) = daemon.line(|_, l| l.contains("dashboard: http://"));
    assert!(!announced.contains(token), "{announced}");
    let url = announced
        .split("dashboard: ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let http = http();
    let page = http.get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("orders"));
    assert!(daemon.stop());
}

/// Where `demo --serve` runs: the same folder every time, so its plugins are compiled once.
fn demo_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-serve");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serve_keeps_the_demo_up_and_prints_where_its_dashboard_is() {
    let mut demo = Daemon::start(&demo_dir(), &["demo", "--serve"], &[]);
    // Its story goes to stderr; stdout has the one JSON line.
    let (line, before) = demo.line(|is_stdout, _| is_stdout);
    assert!(
        before.iter().any(|(_, l)| l.contains("booked")),
        "the story: {before:?}"
    );
    let found: Value = serde_json::from_str(&line).unwrap();
    let (url, token) = (
        found["dashboard_url"].as_str().unwrap(),
        found["token"].as_str().unwrap(),
    );
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let http = http();
    assert_eq!(
        http.get(url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let page = http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    for flow in ["categories", "products", "orders", "stock"] {
        assert!(page.contains(&format!("/flows/{flow}\"")), "{flow}");
    }
    let runs = http
        .get(format!("{url}api/runs"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let runs: Vec<Value> = serde_json::from_str(&runs).unwrap();
    assert_eq!(runs.len(), 5, "the demo's five runs");
    assert!(demo.stop(), "Ctrl-C ends it cleanly");
}

/// Flips one bit of every occurrence of `needle` in the file at `path` (a value changed on disk).
fn damage(path: &Path, needle: &[u8]) {
    let mut bytes = std::fs::read(path).unwrap();
    let at: Vec<usize> = (0..bytes.len() - needle.len())
        .filter(|&i| bytes[i..].starts_with(needle))
        .collect();
    assert!(!at.is_empty(), "{needle:?} is not in {}", path.display());
    for i in at {
        bytes[i + needle.len() - 1] ^= 0x01;
    }
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_backup_and_restore_work_while_the_daemon_runs_and_a_damaged_file_is_refused() {
    let pair = Pair::demo(&four_flows("0 0 1 1 *")).await;
    let config = pair.child_config("daemon.redb");
    let dir = pair.dir.path();
    let state = dir.join("daemon.redb");
    let (ok, _, stderr) = cli(&config, &["once", "orders"]);
    assert!(ok, "{stderr}");
    let waiting = |config: &Path| cli(config, &["activity", "--search", "10006"]).1;
    assert!(waiting(&config).contains("waiting:"), "10006 is parked");
    // A dry run by the binary leaves every record of every table as it was (the bytes of the
    // file's header change: redb records each open and close there).
    let tables = || cli(&config, &["state", "check"]).1;
    let before = tables();
    let (ok, _, stderr) = cli(&config, &["once", "orders", "--dry-run"]);
    assert!(ok, "{stderr}");
    assert_eq!(tables(), before, "a dry run wrote to the state file");
    let (ok, _, stderr) = cli(&config, &["state", "backup", "parked.redb"]);
    assert!(ok, "{stderr}");
    std::fs::copy(dir.join("parked.redb"), dir.join("damaged.redb")).unwrap();
    damage(&dir.join("damaged.redb"), b"10006");

    let mut daemon = Daemon::start(dir, &["run", "--config", config.to_str().unwrap()], &[]);
    wait_for(&dir.join("daemon.redb.dashboard"));
    let (ok, stdout, stderr) = cli(&config, &["state", "check"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("checked when the file was opened"),
        "{stdout}"
    );
    assert!(
        stdout.contains("activity") && !stdout.contains("DAMAGED"),
        "{stdout}"
    );
    let (ok, _, stderr) = cli(&config, &["skip", "orders/10006"]);
    assert!(ok, "{stderr}");
    assert!(!waiting(&config).contains("waiting:"), "skipped");

    // A backup while it runs is a consistent file `state check` accepts.
    let (ok, stdout, stderr) = cli(&config, &["state", "backup", "skipped.redb"]);
    assert!(ok && stdout.contains("backed up to"), "{stdout}{stderr}");
    let (ok, stdout, stderr) = cli(&config, &["state", "check", "skipped.redb"]);
    assert!(ok, "{stdout}{stderr}");
    // A restore while it runs: the daemon reads the restored state at once.
    let (ok, stdout, stderr) = cli(&config, &["state", "restore", "parked.redb"]);
    assert!(ok && stdout.contains("restored from"), "{stdout}{stderr}");
    assert!(waiting(&config).contains("waiting:"), "parked again");
    // A damaged backup is refused, and changes nothing.
    let (ok, _, stderr) = cli(&config, &["state", "restore", "damaged.redb"]);
    assert!(!ok && stderr.contains("is damaged"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(waiting(&config).contains("waiting:"));
    assert!(daemon.stop(), "the daemon stops cleanly");

    // Without the daemon: the other backup back in place, and a damaged state file refused by
    // every command that reads it, with a clear error and exit code 1.
    let (ok, _, stderr) = cli(&config, &["state", "restore", "skipped.redb"]);
    assert!(ok, "{stderr}");
    assert!(!waiting(&config).contains("waiting:"));
    damage(&state, b"10006");
    for args in [&["state", "check"][..], &["runs"], &["once", "orders"]] {
        let output = tillbridge(dir)
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("daemon.redb is damaged"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let (ok, _, stderr) = cli(&config, &["state", "restore", "parked.redb"]);
    assert!(ok, "{stderr}");
    assert!(
        dir.join("daemon.redb.before-restore").is_file(),
        "the damaged file is kept"
    );
    let (ok, _, stderr) = cli(&config, &["state", "check"]);
    assert!(ok, "{stderr}");
}
