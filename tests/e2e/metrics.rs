//! Health and metrics of `tillbridge run` (issue 14): `/healthz`, `/readyz` and `/metrics` on
//! the dashboard's listener, without its token, scraped during and after runs on the simulators.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tillbridge_sim::common::Fault;

use crate::dashboard::board::four_flows;
use crate::dashboard::cli::{Daemon, http};
use crate::flows::harness::Pair;

/// One sample of the text format: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a scrape (comments and `# EOF` left out), parsed by the format's grammar:
/// `name{label="value",...} value`.
fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a value");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}').expect("labels end")),
                None => (series, ""),
            };
            let mut parsed = BTreeMap::new();
            let mut rest = labels;
            while let Some((key, after)) = rest.split_once("=\"") {
                let mut value = String::new();
                let mut chars = after.char_indices();
                let end = loop {
                    match chars.next().expect("a closing quote") {
                        (i, '"') => break i,
                        (_, '\\') => value.push(chars.next().expect("escaped").1),
                        (_, c) => value.push(c),
                    }
                };
                parsed.insert(key.trim_start_matches(',').to_string(), value);
                rest = &after[end + 1..];
            }
            Sample {
                name: name.to_string(),
                labels: parsed,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

/// The sum of the samples named `name` whose labels include `with`.
fn sum(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && with
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

struct Scraper {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Scraper {
    /// A GET without any credentials: (status, body).
    async fn get(&self, path: &str) -> (StatusCode, String) {
        let answer = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (answer.status(), answer.text().await.unwrap())
    }

    async fn scrape(&self) -> Vec<Sample> {
        let (status, body) = self.get("/metrics").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(!body.contains(&self.token), "the scrape shows no token");
        parse(&body)
    }

    /// Starts a run of `flow` as the dashboard's Run now does (with the token).
    async fn run_now(&self, flow: &str) {
        let page = self
            .http
            .get(format!("{}/", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let page = page.text().await.unwrap();
        let marker = "name=\"csrf\" value=\"";
        let at = page.find(marker).expect("the overview has forms") + marker.len();
        let csrf = page[at..].split('"').next().unwrap();
        let answer = self
            .http
            .post(format!("{}/actions/run", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&flow={flow}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{flow} started");
    }

    /// Scrapes until `flow` has `runs` ended runs; every scrape on the way.
    async fn until_runs(&self, flow: &str, runs: f64) -> Vec<Vec<Sample>> {
        let mut scrapes = Vec::new();
        for _ in 0..600 {
            let samples = self.scrape().await;
            let ended = sum(&samples, "tillbridge_runs_total", &[("flow", flow)]);
            scrapes.push(samples);
            if ended >= runs {
                return scrapes;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{flow} never had {runs} runs");
    }

    /// The counts of the state file's latest run of `flow` (the run report), and its status.
    async fn last_run(&self, flow: &str) -> (BTreeMap<String, u64>, String) {
        let runs = self
            .http
            .get(format!("{}/api/runs", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let runs: Vec<Value> = serde_json::from_str(&runs).unwrap();
        let run = runs
            .iter()
            .find(|r| r["flow"] == flow)
            .expect("a run of the flow");
        (
            serde_json::from_value(run["counts"].clone()).unwrap(),
            run["status"].as_str().unwrap().to_string(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_runs_do_and_readiness_follows_the_connections() {
    let pair = Pair::demo(&four_flows("0 0 1 1 *")).await;
    // The stock run's write to the webshop takes three seconds: a scrape lands in the run.
    pair.shop.faults().add(
        Fault::latency("/api/_action/sync", 3_000)
            .method("POST")
            .times(1),
    );
    let config = pair.child_config("daemon.redb");
    let mut daemon = Daemon::start(
        pair.dir.path(),
        &["run", "--config", config.to_str().unwrap()],
        &[],
    );
    let (announced, _) = daemon.line(|_, l| l.contains("dashboard: http://"));
    let sign_in = announced
        .split("sign in: ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let (base, token) = sign_in.split_once("/?token=").unwrap();
    let scraper = Scraper {
        http: http(),
        base: base.to_string(),
        token: token.to_string(),
    };

    // Probes and Prometheus need no token.
    assert_eq!(
        scraper.get("/healthz").await,
        (StatusCode::OK, "ok\n".to_string())
    );
    assert_eq!(
        scraper.get("/readyz").await,
        (StatusCode::OK, "ready\n".to_string())
    );
    let before = scraper.scrape().await;
    assert_eq!(
        sum(&before, "tillbridge_last_success_timestamp_seconds", &[]),
        0.0
    );
    assert_eq!(
        sum(&before, "tillbridge_parked_records", &[("flow", "orders")]),
        0.0,
        "every flow has a parked gauge"
    );

    let started = chrono::Utc::now().timestamp();
    scraper.run_now("stock").await;
    let scrapes = scraper.until_runs("stock", 1.0).await;
    assert!(
        scrapes.iter().any(|s| {
            sum(s, "tillbridge_http_requests_total", &[]) > 0.0
                && sum(s, "tillbridge_runs_total", &[]) == 0.0
        }),
        "a scrape during the run saw its first requests"
    );
    let after = scrapes.last().unwrap();
    let (counts, status) = scraper.last_run("stock").await;
    assert_eq!(status, "finished");
    assert!(counts.values().sum::<u64>() > 0, "{counts:?}");
    for (outcome, count) in &counts {
        assert_eq!(
            sum(
                after,
                "tillbridge_records_total",
                &[("flow", "stock"), ("outcome", outcome.as_str())]
            ),
            *count as f64,
            "{outcome} records as the run report says"
        );
    }
    assert_eq!(
        sum(after, "tillbridge_records_total", &[("flow", "stock")]),
        counts.values().sum::<u64>() as f64
    );
    assert_eq!(
        sum(
            after,
            "tillbridge_runs_total",
            &[("flow", "stock"), ("outcome", "finished")]
        ),
        1.0
    );
    for system in ["shop", "pos"] {
        let requests: Vec<&Sample> = after
            .iter()
            .filter(|s| s.name == "tillbridge_http_requests_total" && s.labels["system"] == system)
            .collect();
        assert!(!requests.is_empty(), "{system} was asked");
        for sample in requests {
            let status: u16 = sample.labels["status"].parse().expect("a real status");
            assert!((200..300).contains(&status), "{sample:?}");
            assert_eq!(
                sample.labels["integration"],
                pair.dir.path().file_name().unwrap().to_str().unwrap()
            );
        }
    }
    assert!(
        sum(
            after,
            "tillbridge_plugin_call_seconds_count",
            &[("function", "read_stock")]
        ) > 0.0,
        "plugin calls are timed"
    );
    let first = sum(
        after,
        "tillbridge_last_success_timestamp_seconds",
        &[("flow", "stock")],
    );
    assert!(
        first >= started as f64,
        "the last success moved to the run's end: {first}"
    );

    // The point of sale (read first by every stock run) refuses the credentials: the next run
    // fails, and the daemon is not ready.
    pair.pos.faults().add(Fault::status("/api*", 401));
    scraper.run_now("stock").await;
    let scrapes = scraper.until_runs("stock", 2.0).await;
    let (status, reason) = scraper.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{reason}");
    assert!(
        reason.contains("connection pos: its credentials were refused (401)"),
        "{reason}"
    );
    let last = scrapes.last().unwrap();
    assert!(
        sum(
            last,
            "tillbridge_http_requests_total",
            &[("system", "pos"), ("status", "401")]
        ) > 0.0
    );
    assert_eq!(
        sum(
            last,
            "tillbridge_last_success_timestamp_seconds",
            &[("flow", "stock")]
        ),
        first,
        "a failed run is no success"
    );
    assert_eq!(
        scraper.get("/healthz").await.0,
        StatusCode::OK,
        "alive all the same"
    );
    assert!(daemon.stop());
}
