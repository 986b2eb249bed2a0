//! The dashboard in a real browser: headless Chromium, driven through chromedriver, goes the
//! merchant's way through the demo shop — open the dashboard, see the demo's run, find an order by
//! its number, run the products flow so that the parked order's poster exists, retry the order,
//! run a dry run, see the charts — and saves a screenshot of each page (listed in the output).
//!
//! Skipped, loudly, only where chromedriver is not installed (`apt-get install chromium
//! chromium-driver`); under CI (CI=true) its absence fails the test.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use super::board::{Board, demo_pair};
use crate::flows::harness::finished;

const CHROMEDRIVER: &str = "chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port of this machine, ended when dropped.
struct Driver {
    process: Child,
    url: String,
}

impl Driver {
    /// chromedriver, or `None` when it is not installed.
    async fn start() -> Option<Driver> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let driver = Driver {
            process,
            url: format!("http://127.0.0.1:{port}"),
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let start = Instant::now();
        while http
            .get(format!("{}/status", driver.url))
            .send()
            .await
            .is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(driver)
    }

    /// A headless Chromium with a fresh profile, that reaches nothing but this machine.
    async fn browser(&self, profile: &std::path::Path) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1360,1800",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("chromedriver starts Chromium")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Saves what the browser shows; the paths are printed at the end.
struct Screenshots {
    dir: PathBuf,
    saved: Vec<PathBuf>,
}

impl Screenshots {
    fn new() -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        Screenshots {
            dir,
            saved: Vec::new(),
        }
    }

    async fn take(&mut self, browser: &Client, name: &str) {
        let png = browser.screenshot().await.unwrap();
        let path = self
            .dir
            .join(format!("{:02}-{name}.png", self.saved.len() + 1));
        std::fs::write(&path, png).unwrap();
        self.saved.push(path);
    }
}

/// The page's HTML, once it contains `wanted` (reloading meanwhile: pages of runs in flight
/// refresh themselves too).
async fn page_with(browser: &Client, wanted: &str) -> String {
    shows(browser, wanted, true).await
}

/// The page's HTML once the page an action redirected to says `wanted`: a message shown once,
/// which a reload would lose, so the page is not reloaded.
async fn told(browser: &Client, wanted: &str) -> String {
    shows(browser, wanted, false).await
}

async fn shows(browser: &Client, wanted: &str, reload: bool) -> String {
    let start = Instant::now();
    loop {
        let html = browser.source().await.unwrap();
        if html.contains(wanted) {
            return html;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the page never said {wanted:?}: {html}"
        );
        tokio::time::sleep(Duration::from_millis(if reload { 500 } else { 100 })).await;
        if reload {
            browser.refresh().await.unwrap();
        }
    }
}

async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_goes_through_the_demo_in_a_real_browser() {
    let Some(driver) = Driver::start().await else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromedriver is missing in CI: .ci/run must install chromium and chromium-driver"
        );
        eprintln!(
            "\n\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             SKIPPED: the dashboard's browser test needs chromedriver, which is not installed.\n\
             Install it with: apt-get install -y chromium chromium-driver\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
        return;
    };
    // The demo's first step: the orders flow runs before the products flow, so order 10006
    // waits for its poster.
    let pair = demo_pair().await;
    finished(&pair.run("orders").await);
    let board = Board::start(pair).await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    let mut shots = Screenshots::new();

    // Open the dashboard with the address tillbridge printed: signed in, on the overview.
    browser
        .goto(&format!("{}/?token={}", board.url, board.token))
        .await
        .unwrap();
    let overview = page_with(&browser, "<h1>Overview</h1>").await;
    assert!(
        !browser
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("token")
    );
    assert!(
        overview.contains("#1") && overview.contains("1 parked"),
        "the demo's run"
    );
    shots.take(&browser, "overview").await;

    // Find the order by its number.
    browser
        .find(Locator::Css("input[name=q]"))
        .await
        .unwrap()
        .send_keys("10006")
        .await
        .unwrap();
    click(&browser, "form.search button").await;
    page_with(&browser, "waits for TB-POSTER-01").await;
    shots.take(&browser, "search").await;

    // Its run, record by record.
    click(&browser, "table.records a[href^='/runs/1']").await;
    page_with(&browser, "booked in pos as order").await;
    shots.take(&browser, "run").await;

    // Run the products flow: the poster now exists in the point of sale.
    browser
        .goto(&format!("{}/flows/products", board.url))
        .await
        .unwrap();
    click(&browser, "form[action='/actions/run'] button").await;
    told(&browser, "a run of products started").await;
    board.settled("products").await;
    page_with(&browser, "status finished").await;
    shots.take(&browser, "products-ran").await;

    // Retry the parked order: it is booked.
    browser
        .goto(&format!("{}/waiting", board.url))
        .await
        .unwrap();
    page_with(&browser, "orders/10006").await;
    shots.take(&browser, "waiting").await;
    click(&browser, "form[action='/actions/retry'] button").await;
    told(&browser, "is being sent again").await;
    board.settled("orders").await;
    page_with(&browser, "Nothing waits.").await;
    assert!(board.pair.pos_order("10006").is_some(), "10006 is booked");
    shots.take(&browser, "retried").await;

    // A dry run of the stock flow: its plan.
    browser
        .goto(&format!("{}/flows/stock", board.url))
        .await
        .unwrap();
    click(&browser, "form[action='/actions/dry-run'] button").await;
    page_with(&browser, "would be updated").await;
    shots.take(&browser, "dry-run").await;

    // The charts, drawn.
    browser.goto(&format!("{}/", board.url)).await.unwrap();
    page_with(&browser, "<h1>Overview</h1>").await;
    let widths = browser
        .execute(
            "document.querySelector('.charts').scrollIntoView(); \
             return Array.from(document.querySelectorAll('.charts img')).map(i => i.complete ? i.naturalWidth : 0);",
            vec![],
        )
        .await
        .unwrap();
    let widths: Vec<u64> = serde_json::from_value(widths).unwrap();
    assert_eq!(widths.len(), 2, "two charts");
    assert!(
        widths.iter().all(|w| *w > 0),
        "both charts loaded: {widths:?}"
    );
    shots.take(&browser, "charts").await;

    browser.close().await.unwrap();
    println!("screenshots of the dashboard:");
    for path in &shots.saved {
        println!("  {}", path.display());
    }
}
