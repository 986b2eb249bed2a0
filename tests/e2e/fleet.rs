//! Many integrations in one process (`tillbridge run --integrations`) and shards of a folder
//! (`--shard I/N`, `tillbridge integrations list`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use tillbridge::state::{Outcome, RunStatus, State};

use reqwest::StatusCode;

use crate::dashboard::cli::http;
use crate::flows::harness::{Pair, Setup};
// Stock every two seconds.
use crate::flows::schedule::EVERY_TWO_SECONDS as STOCK;

fn tillbridge(args: &[&str], folder: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tillbridge"));
    cmd.args(args)
        .arg(folder)
        .env_remove("RUST_LOG")
        .env_remove("TILLBRIDGE_CONFIG")
        .env_remove("TILLBRIDGE_LOG_FORMAT");
    cmd
}

/// Writes `pair`'s configuration (addresses and credentials written out, the state file in the
/// integration's own folder) as `folder/name/flows.toml`.
fn integration(folder: &Path, name: &str, pair: &Pair) {
    let text = std::fs::read_to_string(pair.child_config("state.redb")).unwrap();
    std::fs::create_dir_all(folder.join(name)).unwrap();
    std::fs::write(folder.join(name).join("flows.toml"), text).unwrap();
}

/// Gives integration `name` of `folder` a dashboard token of its own, from the environment
/// variable `var` (a token written in flows.toml is refused).
fn with_token(folder: &Path, name: &str, var: &str) {
    let path = folder.join(name).join("flows.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let table = format!("\n[dashboard]\ntoken = \"${{{var}}}\"\n");
    std::fs::write(&path, text + &table).unwrap();
}

/// The dashboard tokens of shop-a and shop-b, as the environment gives them.
const TOKENS: [(&str, &str); 2] = [
    ("SHOP_A_DASHBOARD_TOKEN", "token-of-shop-a-0123456789"),
    ("SHOP_B_DASHBOARD_TOKEN", "token-of-shop-b-0123456789"),
];

/// The names `integrations list` prints.
fn listed(folder: &Path, shard: &[&str]) -> BTreeSet<String> {
    let output = tillbridge(&["integrations", "list"], folder)
        .args(shard)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Waits until every one of `needles` has been in a line of `lines`; the log so far.
fn wait_for(lines: &Receiver<String>, log: &mut String, needles: &[&[&str]]) {
    let mut left: Vec<&[&str]> = needles.to_vec();
    while !left.is_empty() {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("never saw {left:?} in the log:\n{log}"));
        left.retain(|parts| !parts.iter().all(|p| line.contains(p)));
        log.push_str(&line);
        log.push('\n');
    }
}

/// A broken flows.toml: a plugin file that is not there.
const BROKEN: &str = r#"
[plugins.gone]
file = "gone.wasm"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_integration_of_a_folder_syncs_and_a_broken_one_is_reported_alone() {
    let pairs = [
        Pair::start(Setup::default(), STOCK).await,
        Pair::start(Setup::default(), STOCK).await,
    ];
    let folder = tempfile::tempdir().unwrap();
    integration(folder.path(), "shop-a", &pairs[0]);
    integration(folder.path(), "shop-b", &pairs[1]);
    with_token(folder.path(), "shop-a", TOKENS[0].0);
    with_token(folder.path(), "shop-b", TOKENS[1].0);
    let broken = folder.path().join("shop-broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("flows.toml"), BROKEN).unwrap();

    let (daemon, lines, reader) = daemon(
        &["run", "--listen", "127.0.0.1:0", "--integrations"],
        folder.path(),
        &TOKENS,
    );
    let mut log = String::new();
    wait_for(
        &lines,
        &mut log,
        &[
            &["integration=shop-a", "status=Finished"],
            &["integration=shop-b", "status=Finished"],
            &["integration=shop-broken", "broken", "gone.wasm"],
            &["health, readiness and metrics on http://"],
        ],
    );
    let base = log
        .split("metrics on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the listener's address")
        .trim_end_matches('/')
        .to_string();
    let get = |path: &str| {
        let url = format!("{base}{path}");
        async move {
            let answer = http().get(url).send().await.unwrap();
            (answer.status(), answer.text().await.unwrap())
        }
    };
    // Without a token: the process is ready (every integration started or found broken; a broken
    // one must not hold a rollout), the list says which is which, and the metrics carry both.
    assert_eq!(get("/healthz").await.0, StatusCode::OK);
    let (ready, why) = get("/readyz").await;
    assert_eq!(ready, StatusCode::OK, "{why}");
    let (_, list) = get("/").await;
    assert!(list.contains("shop-a\trunning\t/i/shop-a/"), "{list}");
    assert!(list.contains("shop-broken\tbroken"), "{list}");
    let (_, metrics) = get("/metrics").await;
    assert!(
        metrics.contains("tillbridge_integration_up{integration=\"shop-broken\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tillbridge_integration_up{integration=\"shop-a\"} 1"),
        "{metrics}"
    );
    for name in ["shop-a", "shop-b"] {
        let finished = format!(
            "tillbridge_runs_total{{integration=\"{name}\",flow=\"stock\",outcome=\"finished\"}}"
        );
        assert!(metrics.contains(&finished), "{finished} in {metrics}");
    }
    sections_of_the_listener(&base, folder.path()).await;

    // Mended while the others run: it is tried again and starts.
    integration(folder.path(), "shop-broken", &pairs[0]);
    wait_for(
        &lines,
        &mut log,
        &[&["integration=shop-broken", "run started"]],
    );

    stop(daemon, reader, &lines, &mut log);
    for (name, pair) in [("shop-a", &pairs[0]), ("shop-b", &pairs[1])] {
        let state = State::open(&folder.path().join(name).join("state.redb")).unwrap();
        let runs = state.read().unwrap().recent_runs(100).unwrap();
        let first = runs.last().unwrap_or_else(|| panic!("{name} ran: {log}"));
        assert_eq!(first.status, RunStatus::Finished, "{name}: {log}");
        assert_eq!(first.counts.get(&Outcome::Failed), None, "{name}: {log}");
        assert!(
            first.counts.contains_key(&Outcome::Updated),
            "{name} wrote its webshop's stock: {first:?}"
        );
        assert!(
            pair.shop_writes() > 0,
            "{name}: its own webshop was written"
        );
    }
}

/// Each running integration's dashboard under `/i/NAME/` of the process's listener, behind its
/// own token, and the command line reaching it through the file beside its state file.
async fn sections_of_the_listener(base: &str, folder: &Path) {
    let client = http();
    let get = |path: &str, auth: &[(&str, &str)]| {
        let mut request = client.get(format!("{base}{path}"));
        for (name, value) in auth {
            request = request.header(*name, *value);
        }
        async move { request.send().await.unwrap() }
    };
    // Signed out: shop-a's sign-in page, posting to shop-a's section.
    let signed_out = get("/i/shop-a/", &[]).await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
    let page = signed_out.text().await.unwrap();
    assert!(page.contains("action=\"/i/shop-a/login\""), "{page}");
    // Its token signs a browser in to its section only.
    let signed_in = get(&format!("/i/shop-a/runs?token={}", TOKENS[0].1), &[]).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], "/i/shop-a/runs");
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("Path=/i/shop-a/"), "{cookie}");
    let session = cookie.split(';').next().unwrap();
    let overview = get("/i/shop-a/", &[("cookie", session)]).await;
    assert_eq!(overview.status(), StatusCode::OK);
    let page = overview.text().await.unwrap();
    assert!(page.contains("href=\"/i/shop-a/runs\""), "{page}");
    assert!(page.contains("href=\"/i/shop-a/flows/stock\""), "{page}");
    assert!(
        !page.contains("href=\"/runs\""),
        "no link leaves the section: {page}"
    );
    // One merchant's token or cookie opens no other's section.
    let other = get("/i/shop-b/", &[("cookie", session)]).await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    let bearer_a = format!("Bearer {}", TOKENS[0].1);
    let bearer_b = format!("Bearer {}", TOKENS[1].1);
    let (bearer_a, bearer_b) = (
        [("authorization", bearer_a.as_str())],
        [("authorization", bearer_b.as_str())],
    );
    assert_eq!(
        get("/i/shop-b/api/runs", &bearer_a).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let runs = get("/i/shop-b/api/runs", &bearer_b).await;
    assert_eq!(runs.status(), StatusCode::OK);
    assert!(runs.text().await.unwrap().contains("\"stock\""));
    // A broken integration has no section; nor has a name that is not there.
    for path in ["/i/shop-broken/", "/i/shop-z/"] {
        assert_eq!(
            get(path, &[]).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        get("/i/shop-a", &[]).await.headers()["location"],
        "/i/shop-a/"
    );
    // A button's redirect stays in the section.
    let marker = "name=\"csrf\" value=\"";
    let csrf_at = page.find(marker).expect("the overview has forms") + marker.len();
    let csrf = page[csrf_at..].split('"').next().unwrap();
    let pressed = client
        .post(format!("{base}/i/shop-a/actions/dry-run"))
        .header("cookie", session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&flow=stock"))
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
    let to = pressed.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/i/shop-a/plans/"), "{to}");
    // The command line finds the running integration's section beside its state file.
    let runs = Command::new(env!("CARGO_BIN_EXE_tillbridge"))
        .args(["runs", "--config"])
        .arg(folder.join("shop-b/flows.toml"))
        .env_remove("TILLBRIDGE_CONFIG")
        .envs(TOKENS)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&runs.stdout);
    assert!(runs.status.success(), "{runs:?}");
    assert!(said.contains("stock"), "{said}");
}

#[test]
fn shards_split_a_folder_into_disjoint_complete_sets() {
    let folder = tempfile::tempdir().unwrap();
    let names: BTreeSet<String> = (0..12).map(|i| format!("shop-{i:02}")).collect();
    for name in &names {
        std::fs::create_dir(folder.path().join(name)).unwrap();
        std::fs::write(folder.path().join(name).join("flows.toml"), "").unwrap();
    }
    // Not integrations: a folder without flows.toml, a file, and a hidden folder (a mounted
    // ConfigMap keeps its own, `..data`).
    std::fs::create_dir(folder.path().join("notes")).unwrap();
    std::fs::write(folder.path().join("README"), "").unwrap();
    std::fs::create_dir(folder.path().join("..data")).unwrap();
    std::fs::write(folder.path().join("..data/flows.toml"), "").unwrap();

    assert_eq!(listed(folder.path(), &[]), names);
    let zero = listed(folder.path(), &["--shard", "0/2"]);
    let one = listed(folder.path(), &["--shard", "1/2"]);
    assert!(zero.is_disjoint(&one), "{zero:?} {one:?}");
    assert_eq!(&zero | &one, names);
    assert!(!zero.is_empty() && !one.is_empty(), "{zero:?} {one:?}");

    let refused: Output = tillbridge(&["integrations", "list", "--shard", "2/2"], folder.path())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("shards of 2 are 0 to 1"), "{said}");

    // `run` with a shard runs that shard's integrations: an empty folder's shard has none.
    let empty = tempfile::tempdir().unwrap();
    let none = tillbridge(&["run", "--shard", "1/2", "--integrations"], empty.path())
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(1), "{none:?}");
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("no integration of"),
        "{none:?}"
    );
}

/// Stops a daemon with SIGTERM and checks that it stopped cleanly; the rest of its log is added
/// to `log`.
fn stop(
    mut daemon: std::process::Child,
    reader: std::thread::JoinHandle<()>,
    lines: &Receiver<String>,
    log: &mut String,
) {
    let term = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = daemon.wait().unwrap();
    reader.join().unwrap();
    log.extend(lines.try_iter().map(|l| l + "\n"));
    assert!(status.success(), "{log}");
}

/// Starts tillbridge with `args` and then `folder` (and environment variables `env`); its log
/// lines as they come, and their reader.
fn daemon(
    args: &[&str],
    folder: &Path,
    env: &[(&str, &str)],
) -> (
    std::process::Child,
    Receiver<String>,
    std::thread::JoinHandle<()>,
) {
    let mut daemon = tillbridge(args, folder)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, reader) = crate::support::stderr_lines(&mut daemon);
    (daemon, lines, reader)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_with_shards_0_and_1_of_2_run_disjoint_complete_sets() {
    let pair = Pair::start(Setup::default(), STOCK).await;
    let folder = tempfile::tempdir().unwrap();
    let names: BTreeSet<String> = (0..6).map(|i| format!("shop-{i}")).collect();
    for name in &names {
        integration(folder.path(), name, &pair);
    }
    let shards = ["0/2", "1/2"].map(|shard| {
        daemon(
            &["run", "--shard", shard, "--integrations"],
            folder.path(),
            &[],
        )
    });
    // Each process says which integrations it runs; each of those finishes a run in it.
    let mut ran: Vec<BTreeSet<String>> = Vec::new();
    for (_, lines, _) in &shards {
        let mut log = String::new();
        wait_for(lines, &mut log, &[&["running", "integration(s) in"]]);
        let said = log
            .lines()
            .find(|l| l.contains("integration(s) in"))
            .unwrap();
        let runs: BTreeSet<String> = said
            .split("): ")
            .nth(1)
            .unwrap_or_else(|| panic!("the names in: {said}"))
            .trim()
            .split(", ")
            .map(String::from)
            .collect();
        let finished: Vec<Vec<String>> = runs
            .iter()
            .map(|name| vec![format!("integration={name}"), "status=Finished".into()])
            .collect();
        let needles: Vec<Vec<&str>> = finished
            .iter()
            .map(|n| n.iter().map(String::as_str).collect())
            .collect();
        let needles: Vec<&[&str]> = needles.iter().map(Vec::as_slice).collect();
        wait_for(lines, &mut log, &needles);
        ran.push(runs);
    }
    for (mut daemon, _, _) in shards {
        let term = Command::new("kill")
            .args(["-TERM", &daemon.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        assert!(daemon.wait().unwrap().success());
    }
    assert!(ran[0].is_disjoint(&ran[1]), "{ran:?}");
    assert_eq!(&ran[0] | &ran[1], names, "together, every integration");
    assert!(!ran[0].is_empty() && !ran[1].is_empty(), "{ran:?}");
    for name in &names {
        let state = State::open(&folder.path().join(name).join("state.redb")).unwrap();
        let runs = state.read().unwrap().recent_runs(100).unwrap();
        assert!(
            runs.iter().any(|r| r.status == RunStatus::Finished),
            "{name} ran: {runs:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_lines_say_which_integration_they_are_about() {
    let pair = Pair::start(Setup::default(), STOCK).await;
    let folder = tempfile::tempdir().unwrap();
    integration(folder.path(), "shop-a", &pair);
    let (mut daemon, lines, _) = daemon(
        &["--log-format", "json", "run", "--integrations"],
        folder.path(),
        &[],
    );
    let mut log = String::new();
    wait_for(&lines, &mut log, &[&["\"run started\""]]);
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let started: serde_json::Value = log
        .lines()
        .find(|l| l.contains("\"run started\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .unwrap();
    let spans = started["spans"].as_array().expect("the enclosing spans");
    assert_eq!(spans[0]["name"], "integration", "{started}");
    assert_eq!(spans[0]["integration"], "shop-a", "{started}");
    assert_eq!(started["span"]["flow"], "stock", "{started}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_integration_reads_its_own_secrets_file_and_starts_again_when_it_changes() {
    let pairs = [
        Pair::start(Setup::default(), STOCK).await,
        Pair::start(Setup::default(), STOCK).await,
    ];
    let folder = tempfile::tempdir().unwrap();
    let secrets = tempfile::tempdir().unwrap();
    // Every flows.toml names the same variables. Each secrets file gives its own pair's
    // addresses; the credentials (the same in every simulator) come from the environment.
    let write_secrets = |name: &str, pair: &Pair, more: &str| {
        let own: String = pair
            .variables()
            .iter()
            .filter(|(var, _)| var.ends_with("_URL"))
            .map(|(var, value)| format!("{var}={value}\n"))
            .collect();
        let text = format!("# {name}'s addresses\n{own}{more}");
        std::fs::write(secrets.path().join(name), text).unwrap();
    };
    for (name, pair) in [
        ("shop-a", &pairs[0]),
        ("shop-b", &pairs[1]),
        ("shop-c", &pairs[1]),
    ] {
        std::fs::create_dir(folder.path().join(name)).unwrap();
        let text = pair.config_as_written("state.redb");
        std::fs::write(folder.path().join(name).join("flows.toml"), text).unwrap();
    }
    write_secrets("shop-a", &pairs[0], "");
    write_secrets("shop-b", &pairs[1], "");
    let credentials: Vec<(&str, &str)> = pairs[0]
        .variables()
        .into_iter()
        .filter(|(var, _)| !var.ends_with("_URL"))
        .collect();
    let secrets_arg = format!("--secrets={}", secrets.path().display());
    let (daemon, lines, reader) = daemon(
        &["run", &secrets_arg, "--integrations"],
        folder.path(),
        &credentials,
    );
    let mut log = String::new();
    wait_for(
        &lines,
        &mut log,
        &[
            &["integration=shop-a", "status=Finished"],
            &["integration=shop-b", "status=Finished"],
            &["integration=shop-c", "broken", "SHOP_URL", "does not exist"],
        ],
    );

    // Its secrets file appears: it starts.
    write_secrets("shop-c", &pairs[1], "");
    wait_for(&lines, &mut log, &[&["integration=shop-c", "run started"]]);

    // A running one's file changes (a rotated key): it starts again, and runs.
    write_secrets("shop-a", &pairs[0], "ROTATED=1\n");
    wait_for(
        &lines,
        &mut log,
        &[&["integration=shop-a", "secrets file changed"]],
    );
    wait_for(
        &lines,
        &mut log,
        &[&["integration=shop-a", "tillbridge runs"]],
    );
    wait_for(
        &lines,
        &mut log,
        &[&["integration=shop-a", "status=Finished"]],
    );

    stop(daemon, reader, &lines, &mut log);
    for (name, pair) in [("shop-a", &pairs[0]), ("shop-b", &pairs[1])] {
        assert!(
            pair.shop_writes() > 0,
            "{name} wrote its own webshop: {log}"
        );
    }
}
