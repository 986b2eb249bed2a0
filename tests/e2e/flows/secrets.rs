//! Every flow, every command that reads the integration and the daemon, run with distinctive
//! secret values (both connectors' keys, the dashboard's token, the notification webhook's URL,
//! the SMTP password):
//! none of them appears in what is printed, logged (plugins' log lines included: they go to the
//! host's log), the state file, a backup of it, or the compile cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tillbridge_sim::ccv::{self, CcvOptions, CcvSim};
use tillbridge_sim::common::Fault;
use tillbridge_sim::dataset::Dataset;
use tillbridge_sim::shopware::{self, ShopwareOptions, ShopwareSim};

use super::harness::{EVERY_FLOW, config_text, fast_limits};

const SHOP_ID: &str = "SWIASECRETID7Q2K9X4M1P8R";
const SHOP_SECRET: &str = "shop-secret-V8n3Qz7Lw2Kd";
const POS_KEY: &str = "pos-public-key-J4t9Hc2Ry6";
const POS_SECRET: &str = "pos-secret-B7m2Xe5Gu1Pa";
const BOARD_TOKEN: &str = "board-token-Z3k8Wq1Nd6Fv";
/// The webhook's URL is a secret (a Slack URL carries its key in its path); nothing answers it.
const HOOK: &str = "http://127.0.0.1:9/hooks/hook-secret-T5c1Ys8Lb4Oe";
/// The mail server's password; nothing answers on its port either.
const SMTP_PASSWORD: &str = "smtp-password-R6f2Jh9Tq3Wu";
const SECRETS: [&str; 7] = [
    SHOP_ID,
    SHOP_SECRET,
    POS_KEY,
    POS_SECRET,
    BOARD_TOKEN,
    "hook-secret-T5c1Ys8Lb4Oe",
    SMTP_PASSWORD,
];

/// The binary with the secrets in its environment, as a service manager would give them.
fn tillbridge(dir: &Path, shop: &ShopwareSim, pos: &CcvSim, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tillbridge"));
    cmd.current_dir(dir)
        .args(args)
        .args(["--config", "flows.toml", "-v"])
        .env_remove("RUST_LOG")
        .env_remove("TILLBRIDGE_CONFIG")
        .envs([
            ("SHOP_URL", shop.base_url()),
            ("POS_URL", pos.base_url()),
            ("SHOP_ID", SHOP_ID),
            ("SHOP_SECRET", SHOP_SECRET),
            ("POS_KEY", POS_KEY),
            ("POS_SECRET", POS_SECRET),
            ("BOARD_TOKEN", BOARD_TOKEN),
            ("HOOK", HOOK),
            ("SMTP_PASSWORD", SMTP_PASSWORD),
        ]);
    cmd
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn leaked(bytes: &[u8]) -> Vec<&'static str> {
    SECRETS
        .into_iter()
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_output_logs_the_state_file_or_the_compile_cache() {
    let shop = ShopwareSim::start(ShopwareOptions {
        seed: shopware::Seed::Dataset(Dataset::demo()),
        client_id: SHOP_ID.into(),
        client_secret: SHOP_SECRET.into(),
        ..ShopwareOptions::default()
    })
    .await
    .unwrap();
    let pos = CcvSim::start(CcvOptions {
        seed: ccv::Seed::Dataset(Dataset::demo()),
        public_key: POS_KEY.into(),
        secret: POS_SECRET.into(),
        rate_limits: fast_limits(),
        ..CcvOptions::default()
    })
    .await
    .unwrap();
    // One booking fails once, so that the failure is told to the webhook (which is down).
    pos.faults().add(
        Fault::status("/api/rest/v1/orders*", 503)
            .method("POST")
            .times(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let flows = format!(
        "{EVERY_FLOW}\n[dashboard]\nlisten = \"127.0.0.1:0\"\ntoken = \"${{BOARD_TOKEN}}\"\n\n[notify]\nwebhook = \"${{HOOK}}\"\n\n[notify.email]\nhost = \"127.0.0.1\"\nport = 9\nsecurity = \"plain\"\nuser = \"tillbridge\"\npassword = \"${{SMTP_PASSWORD}}\"\nfrom = \"tillbridge <tillbridge@example.com>\"\nto = [\"merchant@example.com\"]\n"
    );
    let text = config_text(&flows, &fast_limits());
    std::fs::write(dir.path().join("flows.toml"), &text).unwrap();
    let cache = text
        .lines()
        .find_map(|l| l.strip_prefix("cache_dir = \""))
        .map(|l| PathBuf::from(l.trim_end_matches('"')))
        .unwrap();

    let mut printed = Vec::new();
    let commands: &[&[&str]] = &[
        &["validate"],
        &["check"],
        &["plugins"],
        &["once", "orders", "--dry-run"],
        &["once", "categories"],
        &["once", "products"],
        &["once", "orders"],
        &["once", "stock"],
        &["once", "orders"],
        &["runs"],
        &["activity", "3", "--verbose"],
        &["activity", "--search", "10001", "--verbose"],
        &["state", "check"],
        &["state", "backup", "backup.redb"],
    ];
    for args in commands {
        let output = tillbridge(dir.path(), &shop, &pos, args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(output.status.code().is_some(), "{args:?} ended by a signal");
        printed.push((args.join(" "), output.stdout));
        printed.push((args.join(" "), output.stderr));
    }
    // The daemon, with its dashboard, until it has said where it serves.
    let daemon = tillbridge(dir.path(), &shop, &pos, &["run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let discovery = dir.path().join("state.redb.dashboard");
    let start = Instant::now();
    while !discovery.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the daemon did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    let output = daemon.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    printed.push(("run".into(), output.stdout));
    printed.push(("run".into(), output.stderr));

    let all: String = printed
        .iter()
        .map(|(_, bytes)| String::from_utf8_lossy(bytes))
        .collect();
    assert!(all.contains("booked"), "the flows did their work: {all}");
    assert!(
        all.contains("webhook") && all.contains("e-mail"),
        "the failure was told (and the hook and the mail server were down): {all}"
    );
    for (command, bytes) in &printed {
        assert_eq!(leaked(bytes), Vec::<&str>::new(), "printed by `{command}`");
    }
    let mut stored = files(dir.path());
    stored.retain(|p| !p.ends_with("flows.toml"));
    stored.extend(files(&cache));
    assert!(stored.iter().any(|p| p.ends_with("state.redb")));
    assert!(stored.iter().any(|p| p.ends_with("backup.redb")));
    for file in stored {
        assert_eq!(
            leaked(&std::fs::read(&file).unwrap()),
            Vec::<&str>::new(),
            "in {}",
            file.display()
        );
    }
}
