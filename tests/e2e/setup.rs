//! FLOWS.md §4.5: `tillbridge init` (on a terminal, and from options) and `tillbridge check`,
//! through the binary, against both simulators.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use tillbridge_sim::ccv::CcvSim;
use tillbridge_sim::dataset;
use tillbridge_sim::shopware::ShopwareSim;

use crate::flows::harness::Pair;
use crate::support::tillbridge;

/// `tillbridge init --non-interactive` with both systems' details and `more` options.
fn init(dir: &Path, shop: &ShopwareSim, pos: &CcvSim, secret: &str, more: &[&str]) -> Output {
    tillbridge(dir)
        .args(["init", "--non-interactive"])
        .args(["--shopware-url", shop.base_url()])
        .args(["--shopware-client-id", dataset::SHOPWARE_CLIENT_ID])
        .args(["--shopware-client-secret", dataset::SHOPWARE_CLIENT_SECRET])
        .args(["--ccv-url", pos.base_url()])
        .args(["--ccv-public-key", dataset::CCV_PUBLIC_KEY])
        .args(["--ccv-secret", secret])
        .args(more)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The variables of an env file, as a POSIX shell would read them (values are plain or in
/// single quotes).
fn env_file(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, value) = l.split_once('=').unwrap();
            let value = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .map_or_else(|| value.to_string(), |v| v.replace("'\\''", "'"));
            (name.to_string(), value)
        })
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_from_options_writes_a_configuration_that_validates_and_connects() {
    let pair = Pair::demo("").await;
    let (shop, pos) = (&pair.shop, &pair.pos);
    let dir = tempfile::tempdir().unwrap();
    let output = init(
        dir.path(),
        shop,
        pos,
        dataset::CCV_SECRET,
        &[
            "--flows",
            "orders,stock",
            "--payment-states",
            "paid,authorized",
            "--payment-method",
            "PayPal=2",
            "--payment-method",
            "invoice=Op rekening",
            "--stock-calculation",
            "physical",
        ],
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("ok      shop: Shopware 6.6"), "{stdout}");
    assert!(stdout.contains("ok      pos: CCV SalesPOS"), "{stdout}");

    let written = std::fs::read_to_string(dir.path().join("flows.toml")).unwrap();
    for secret in [dataset::SHOPWARE_CLIENT_SECRET, dataset::CCV_SECRET] {
        assert!(
            !written.contains(secret),
            "no secret in flows.toml:\n{written}"
        );
    }
    assert!(
        written.contains("\"${SHOPWARE_CLIENT_SECRET}\""),
        "{written}"
    );
    let config: toml::Table = toml::from_str(&written).unwrap();
    let orders = &config["flows"]["orders"]["settings"];
    assert_eq!(
        orders["payment_methods"].as_table().unwrap().to_string(),
        "Invoice = \"3\"\nPayPal = \"2\"\n",
        "names as Shopware gives them, ids as CCV has them"
    );
    assert_eq!(
        orders["payment_states"].as_array().unwrap().len(),
        2,
        "{orders}"
    );
    assert_eq!(
        config["flows"]["stock"]["settings"]["calculation"].as_str(),
        Some("physical")
    );
    assert!(
        config["flows"].get("products").is_none(),
        "only the flows chosen"
    );
    assert_eq!(config["host"]["redact_personal_data"].as_bool(), Some(true));

    let env_path = dir.path().join("tillbridge.env");
    #[cfg(unix)]
    assert_eq!(
        mode(&env_path),
        0o600,
        "the secrets are readable by their owner only"
    );
    let env = env_file(&env_path);
    assert_eq!(env["CCV_SECRET"], dataset::CCV_SECRET);
    assert_eq!(
        env["SHOPWARE_CLIENT_SECRET"],
        dataset::SHOPWARE_CLIENT_SECRET
    );

    let validate = tillbridge(dir.path())
        .arg("validate")
        .envs(&env)
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "validate accepts it: {}",
        text(&validate.stderr)
    );
    assert!(
        text(&validate.stdout).contains("2 connection(s), 2 plugin(s), 2 flow(s)"),
        "{}",
        text(&validate.stdout)
    );

    // `check` on the written file: both answer; with a wrong key, the point of sale does not.
    let check = tillbridge(dir.path())
        .arg("check")
        .envs(&env)
        .output()
        .unwrap();
    let said = text(&check.stdout);
    assert!(check.status.success(), "{said}{}", text(&check.stderr));
    assert!(
        said.contains("ok      shop: Shopware") && said.contains("ok      pos: CCV"),
        "{said}"
    );
    let refused = tillbridge(dir.path())
        .arg("check")
        .envs(&env)
        .env("CCV_SECRET", "not-the-secret")
        .output()
        .unwrap();
    let said = text(&refused.stdout);
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("ok      shop:"), "{said}");
    assert!(
        said.contains("failed  pos: authentication"),
        "the reason: {said}"
    );
    assert!(
        text(&refused.stderr).contains("cannot use connection(s) pos"),
        "{}",
        text(&refused.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_refuses_what_the_systems_do_not_have_and_writes_nothing() {
    let pair = Pair::demo("").await;
    let (shop, pos) = (&pair.shop, &pair.pos);
    let dir = tempfile::tempdir().unwrap();
    let unknown_method = init(
        dir.path(),
        shop,
        pos,
        dataset::CCV_SECRET,
        &["--payment-method", "Bitcoin=2"],
    );
    let said = text(&unknown_method.stderr);
    assert!(!unknown_method.status.success());
    assert!(
        said.contains("\"Bitcoin\" is not one of Shopware's payment methods")
            && said.contains("PayPal"),
        "lists the shop's real methods: {said}"
    );
    let unknown_id = init(
        dir.path(),
        shop,
        pos,
        dataset::CCV_SECRET,
        &["--payment-method", "PayPal=99"],
    );
    let said = text(&unknown_id.stderr);
    assert!(
        said.contains("CCV's payment method ids") && said.contains("2 (PayPal)"),
        "{said}"
    );
    let wrong_secret = init(dir.path(), shop, pos, "not-the-secret", &[]);
    let said = text(&wrong_secret.stderr);
    assert!(!wrong_secret.status.success());
    assert!(
        said.contains("cannot use CCV SalesPOS at") && said.contains("authentication"),
        "{said}"
    );
    let negative_buffer = init(
        dir.path(),
        shop,
        pos,
        dataset::CCV_SECRET,
        &["--stock-buffer=-5"],
    );
    let said = text(&negative_buffer.stderr);
    assert!(!negative_buffer.status.success());
    assert!(
        said.contains("--stock-buffer") && said.contains("0..=1000000"),
        "{said}"
    );
    assert!(!dir.path().join("flows.toml").exists() && !dir.path().join("tillbridge.env").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_says_which_connection_cannot_be_reached_or_refuses_its_key() {
    let pair = Pair::demo("").await;
    // The webshop's secret is wrong.
    let (said, line) = check_with(
        &pair,
        dataset::SHOPWARE_CLIENT_SECRET,
        "not-the-secret",
        "shop",
    );
    assert!(said.contains("ok      pos: "), "{said}");
    assert!(line.contains("authentication"), "the reason: {line}");

    // The point of sale moved to a port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unreachable = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (said, line) = check_with(&pair, pair.pos.base_url(), &unreachable, "pos");
    assert!(said.contains("ok      shop: Shopware 6.6"), "{said}");
    assert!(
        line.contains("unreachable") || line.contains("refused"),
        "the reason: {line}"
    );
}

/// `tillbridge check` on the pair's configuration with `from` replaced by `to`: it fails, and
/// says so for `connection`. Returns what it printed and the failing connection's line.
fn check_with(pair: &Pair, from: &str, to: &str, connection: &str) -> (String, String) {
    let config = pair.child_config("check.redb");
    let written = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, written.replace(from, to)).unwrap();
    let output = tillbridge(pair.dir.path())
        .arg("check")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let said = text(&output.stdout);
    assert!(!output.status.success(), "{said}");
    let line = said
        .lines()
        .find(|l| l.starts_with(&format!("failed  {connection}:")))
        .unwrap_or_else(|| panic!("{said}"))
        .to_string();
    (said, line)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_on_a_terminal_tests_each_connection_and_offers_the_systems_lists() {
    let pair = Pair::demo("").await;
    let (shop, pos) = (&pair.shop, &pair.pos);
    let dir = tempfile::tempdir().unwrap();
    let (shop_url, pos_url) = (shop.base_url().to_string(), pos.base_url().to_string());
    let path = dir.path().to_path_buf();
    // The terminal is driven from a thread of its own: the simulators answer on this runtime.
    let printed =
        tokio::task::spawn_blocking(move || terminal_session(&path, &shop_url, &pos_url).unwrap())
            .await
            .unwrap();

    let written = std::fs::read_to_string(dir.path().join("flows.toml")).unwrap();
    let config: toml::Table = toml::from_str(&written).unwrap();
    let methods = config["flows"]["orders"]["settings"]["payment_methods"]
        .as_table()
        .unwrap();
    assert_eq!(
        methods.get("PayPal").and_then(|v| v.as_str()),
        Some("2"),
        "same name: offered first"
    );
    assert_eq!(methods.get("iDEAL").and_then(|v| v.as_str()), Some("1"));
    assert_eq!(
        methods.get("Invoice").and_then(|v| v.as_str()),
        Some("3"),
        "chosen from CCV's list"
    );
    assert!(
        methods.get("Credit card").is_none(),
        "left unmapped: {written}"
    );
    assert!(
        written.contains("\"Invoice\" = \"3\"  # Op rekening")
            || written.contains("Invoice = \"3\"  # Op rekening"),
        "{written}"
    );
    assert_eq!(
        config["flows"].as_table().unwrap().len(),
        4,
        "every flow, as offered"
    );
    let env = env_file(&dir.path().join("tillbridge.env"));
    assert_eq!(
        env["SHOPWARE_CLIENT_SECRET"],
        dataset::SHOPWARE_CLIENT_SECRET,
        "the second secret typed"
    );
    assert!(
        printed.contains("failed: authentication"),
        "the first secret was refused, with the reason"
    );
    let validate = tillbridge(dir.path())
        .arg("validate")
        .envs(&env)
        .output()
        .unwrap();
    assert!(validate.status.success(), "{}", text(&validate.stderr));
}

/// A terminal with the wizard in it, and what it showed so far.
struct Terminal {
    session: rexpect::session::PtySession,
    shown: String,
}

impl Terminal {
    /// Waits for `prompt` and types `keys`.
    fn answer(&mut self, prompt: &str, keys: &str) -> Result<(), rexpect::error::Error> {
        self.shown += &self.session.exp_string(prompt)?;
        self.shown += prompt;
        self.session.send(keys)?;
        self.session.flush()
    }
}

/// Answers the wizard as a merchant would: a wrong Shopware secret first, then the right one;
/// every flow; Invoice booked as CCV's "Op rekening". Returns what the terminal showed.
fn terminal_session(
    dir: &Path,
    shop_url: &str,
    pos_url: &str,
) -> Result<String, rexpect::error::Error> {
    use rexpect::process::WaitStatus;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tillbridge"));
    command
        .arg("init")
        .current_dir(dir)
        .env_remove("TILLBRIDGE_CONFIG")
        .env_remove("RUST_LOG")
        .env("TERM", "xterm");
    let mut t = Terminal {
        session: rexpect::session::spawn_command(command, Some(60_000))?,
        shown: String::new(),
    };
    t.answer("Shopware URL", &format!("{shop_url}\r"))?;
    t.answer(
        "access key id",
        &format!("{}\r", dataset::SHOPWARE_CLIENT_ID),
    )?;
    t.answer("secret access key", "wrong\r")?;
    t.answer("Enter the details again?", "y")?;
    t.answer("Shopware URL", "\r")?;
    t.answer("access key id", "\r")?;
    t.answer(
        "secret access key",
        &format!("{}\r", dataset::SHOPWARE_CLIENT_SECRET),
    )?;
    t.answer("CCV SalesPOS URL", &format!("{pos_url}\r"))?;
    t.answer("API public key", &format!("{}\r", dataset::CCV_PUBLIC_KEY))?;
    t.answer("API secret key", &format!("{}\r", dataset::CCV_SECRET))?;
    t.answer("Which flows?", "\r")?;
    t.answer("latest payment is", "\r")?;
    t.answer("order state is", "\r")?;
    t.answer("one fixed customer", "n")?;
    for _ in 0..4 {
        let (before, asked) = t.session.exp_regex(r#"Orders paid with "[^"]+""#)?;
        t.shown += &before;
        // Invoice has no namesake in CCV: up from "(not mapped)" to "Op rekening".
        let keys = if asked.contains("Invoice") {
            "\x1b[A\x1b[A\r"
        } else {
            "\r"
        };
        t.session.send(keys)?;
        t.session.flush()?;
        // The answer is reported with the question again: past that, the next question.
        t.shown += &t.session.exp_string(&asked)?;
    }
    t.answer("The stock the webshop gets", "\r")?;
    t.answer("safety buffer", "\r")?;
    t.answer("overwrite product texts", "n")?;
    t.answer("out of the activity log?", "y")?;
    t.shown += &t.session.exp_string("wrote flows.toml")?;
    t.shown += &t.session.exp_eof()?;
    match t.session.process().wait()? {
        WaitStatus::Exited(_, 0) => Ok(t.shown),
        other => panic!("init ended with {other:?}:\n{}", t.shown),
    }
}
