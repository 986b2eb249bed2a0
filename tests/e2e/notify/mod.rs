//! Notifications (FLOWS.md §4.3, issue 11) end to end: the flows against both simulators, the
//! notifier as `tillbridge once` and `tillbridge run` start it, and the messages as a webhook
//! receiver and a mail server on this machine get them.

mod receivers;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tillbridge::flows::{self, Events, Options, RunReport};
use tillbridge::notify::{Notifier, Watch};
use tillbridge::state::{Outcome, RunStatus};
use tillbridge_sim::common::Fault;
use tillbridge_sim::dataset::{self, Dataset};

use self::receivers::{Hook, Mailbox, dead_url};
use crate::flows::harness::{Pair, Setup, keys};

const ORDERS: &str = r#"
[flows.orders]
kind = "orders"
source = "shop"
target = "pos"
settings = { payment_states = ["paid"], retry_after_secs = 0 }

[flows.products]
kind = "products"
source = "shop"
target = "pos"
"#;

/// Long enough for a message to arrive; the tests wait only when they expect one.
const ARRIVES: Duration = Duration::from_secs(20);

/// `[notify]` with the webhook from `${HOOK}`, e-mail to a relay on this machine at `port`.
fn notify(port: u16, parked_after: &str, digest_window: &str) -> String {
    format!(
        r#"
[notify]
webhook = "${{HOOK}}"
parked_after = "{parked_after}"
digest_window = "{digest_window}"

[notify.email]
host = "127.0.0.1"
port = {port}
security = "plain"
from = "tillbridge <tillbridge@example.com>"
to = ["merchant@example.com"]
"#
    )
}

/// The demo pair with the orders flow, telling `hook` and `mail`.
async fn notified(hook: &Hook, mail: &Mailbox, parked_after: &str, window: &str) -> Pair {
    let mut pair = Pair::start(Setup::default(), ORDERS).await;
    pair.set_var("HOOK", &hook.url);
    let section = notify(mail.port, parked_after, window);
    pair.reconfigure(|text| format!("{text}\n{section}"));
    pair
}

/// The notifier as the daemon (`Periodic`) or `tillbridge once` (`AtEnd`) starts it.
fn notifier(pair: &Pair, watch: Watch) -> Notifier {
    Notifier::start(&pair.integration.config, &pair.state, watch)
        .unwrap()
        .expect("[notify] names channels")
}

/// A run of `flow` reporting to `notifier`.
async fn run(pair: &Pair, flow: &str, notifier: &Notifier) -> RunReport {
    let options = Options {
        events: Events::default().with(notifier.sink()),
        ..Options::default()
    };
    flows::run_flow(&pair.integration, &pair.state, flow, &options)
        .await
        .unwrap()
}

/// One run of `flow` as `tillbridge once` makes it: its own notifier, finished at the end.
async fn once(pair: &Pair, flow: &str) -> RunReport {
    let notifier = notifier(pair, Watch::AtEnd);
    let report = run(pair, flow, &notifier).await;
    notifier.finish().await;
    report
}

fn text(message: &Value) -> &str {
    message["text"].as_str().unwrap()
}

/// Places `n` paid orders of Ada's in the webshop.
fn place_paid_orders(pair: &Pair, n: usize) {
    let ada = Dataset::demo()
        .customers
        .into_iter()
        .find(|c| c.email == "ada.jansen@example.nl")
        .unwrap();
    for _ in 0..n {
        let placed = pair
            .shop
            .place_order(&ada, &[("TB-MUG-01", 1)], "payment_paypal")
            .unwrap();
        pair.shop
            .transition("order_transaction", &placed.transaction_id, "paid")
            .unwrap();
    }
}

#[tokio::test]
async fn a_failed_run_is_told_once_on_each_channel_with_what_to_do_and_its_end_once() {
    let (hook, mail) = (Hook::start().await, Mailbox::start().await);
    let pair = notified(&hook, &mail, "2h", "30s").await;
    pair.shop
        .faults()
        .add(Fault::status("/api/oauth/token", 401));

    let failed = once(&pair, "orders").await;
    assert_eq!(failed.run.status, RunStatus::Failed);
    let messages = hook.wait_for(1, ARRIVES).await;
    assert_eq!(messages.len(), 1, "one message: {messages:#?}");
    let message = &messages[0];
    assert!(
        text(message).contains("orders (shop → pos) the run failed"),
        "{message}"
    );
    assert!(
        text(message).contains("check the API key of shop"),
        "{message}"
    );
    let notice = &message["notices"][0];
    assert_eq!(notice["flow"], "orders");
    assert_eq!(notice["system"], "shop");
    assert_eq!(notice["trouble"], "run_failed");
    assert!(!notice["error"].as_str().unwrap().is_empty());
    let mails = mail.wait_for(1, ARRIVES).await;
    assert_eq!(mails.len(), 1, "one e-mail: {mails:#?}");
    assert!(
        mails[0].contains("To: merchant@example.com"),
        "{}",
        mails[0]
    );
    assert!(
        mails[0].contains("check the API key of shop"),
        "{}",
        mails[0]
    );

    // The same failure again, with a notifier started anew (as the next `once` starts one).
    assert_eq!(once(&pair, "orders").await.run.status, RunStatus::Failed);
    assert_eq!(hook.messages().len(), 1, "told once, not at every run");
    assert_eq!(mail.wait_for(2, Duration::from_millis(500)).await.len(), 1);

    pair.shop.faults().clear();
    assert_eq!(once(&pair, "orders").await.run.status, RunStatus::Finished);
    let messages = hook.wait_for(2, ARRIVES).await;
    assert_eq!(messages.len(), 2, "one \"resolved\": {messages:#?}");
    assert_eq!(messages[1]["status"], "resolved");
    assert!(text(&messages[1]).contains("orders (shop → pos) runs again"));
    assert_eq!(mail.wait_for(2, ARRIVES).await.len(), 2);
    assert_eq!(once(&pair, "orders").await.run.status, RunStatus::Finished);
    assert_eq!(hook.messages().len(), 2, "the end is told once");
}

#[tokio::test]
async fn thirty_orders_failing_in_one_run_make_one_digest_told_once_and_resolved_once() {
    let (hook, mail) = (Hook::start().await, Mailbox::start().await);
    let pair = notified(&hook, &mail, "2h", "300ms").await;
    place_paid_orders(&pair, 30);
    pair.pos
        .faults()
        .add(Fault::status("/api/rest/v1/orders*", 503).method("POST"));
    let daemon = notifier(&pair, Watch::Periodic);

    let first = run(&pair, "orders", &daemon).await;
    let failed = keys(&first, "order", Outcome::Failed);
    assert!(failed.len() >= 30, "{failed:?}");
    let messages = hook.wait_for(1, ARRIVES).await;
    assert_eq!(messages.len(), 1, "one digest, not {}", messages.len());
    let digest = &messages[0];
    assert_eq!(digest["notices"].as_array().unwrap().len(), failed.len());
    assert!(
        text(digest).contains(&format!("{} problems in orders", failed.len())),
        "{digest}"
    );
    assert_eq!(mail.wait_for(1, ARRIVES).await.len(), 1, "one e-mail");

    // The same failures on the next run: nothing new.
    let second = run(&pair, "orders", &daemon).await;
    // Each once: a waiting order tried again is not reported again when read from the cursor.
    assert_eq!(keys(&second, "order", Outcome::Failed), failed);
    assert_eq!(hook.wait_for(2, Duration::from_secs(2)).await.len(), 1);

    // They go through: one "resolved" for all of them.
    pair.pos.faults().clear();
    let third = run(&pair, "orders", &daemon).await;
    assert_eq!(keys(&third, "order", Outcome::Created), failed);
    let messages = hook.wait_for(2, ARRIVES).await;
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert_eq!(messages[1]["status"], "resolved");
    assert_eq!(
        messages[1]["notices"].as_array().unwrap().len(),
        failed.len()
    );
    daemon.finish().await;
    assert_eq!(hook.messages().len(), 2);
    assert_eq!(mail.wait_for(2, ARRIVES).await.len(), 2);
}

#[tokio::test]
async fn an_order_parked_longer_than_parked_after_is_told_once_also_across_a_restart() {
    let (hook, mail) = (Hook::start().await, Mailbox::start().await);
    let pair = notified(&hook, &mail, "1s", "100ms").await;
    let daemon = notifier(&pair, Watch::Periodic);
    let first = run(&pair, "orders", &daemon).await;
    assert_eq!(keys(&first, "order", Outcome::Parked), vec!["10006"]);

    // No run: the daemon's own look finds it waiting too long.
    let messages = hook.wait_for(1, ARRIVES).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let notice = &messages[0]["notices"][0];
    assert_eq!(notice["trouble"], "parked");
    assert_eq!(notice["record"], "10006");
    assert!(
        text(&messages[0])
            .contains("What to do: create product TB-POSTER-01 in pos, then it goes by itself"),
        "{}",
        messages[0]
    );
    assert_eq!(mail.wait_for(1, ARRIVES).await.len(), 1);
    assert_eq!(
        hook.wait_for(2, Duration::from_secs(3)).await.len(),
        1,
        "told once, not at every look"
    );
    daemon.finish().await;

    // A restart: the new daemon knows it was told.
    let daemon = notifier(&pair, Watch::Periodic);
    run(&pair, "orders", &daemon).await;
    assert_eq!(hook.wait_for(2, Duration::from_secs(3)).await.len(), 1);

    // The product is made, and the order goes by itself: one "resolved".
    run(&pair, "products", &daemon).await;
    let sent = run(&pair, "orders", &daemon).await;
    assert_eq!(keys(&sent, "order", Outcome::Created), vec!["10006"]);
    let messages = hook.wait_for(2, ARRIVES).await;
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert_eq!(messages[1]["status"], "resolved");
    assert_eq!(messages[1]["notices"][0]["record"], "10006");
    daemon.finish().await;
}

#[tokio::test]
async fn with_redaction_no_personal_data_and_never_a_secret_reaches_a_message() {
    let (hook, mail) = (Hook::start().await, Mailbox::start().await);
    let mut pair = notified(&hook, &mail, "2h", "30s").await;
    pair.reconfigure(|text| text.replace("[host]\n", "[host]\nredact_personal_data = true\n"));
    // The point of sale takes no new customer: their orders fail, with the e-mail address as the
    // customer's key and in the error.
    pair.pos
        .faults()
        .add(Fault::status("/api/rest/v1/users*", 503).method("POST"));
    let report = once(&pair, "orders").await;
    let customers = keys(&report, "customer", Outcome::Failed);
    assert!(
        !customers.is_empty(),
        "customers failed: {:?}",
        report.entries
    );

    let messages = hook.wait_for(1, ARRIVES).await;
    assert_eq!(messages.len(), 1);
    let mails = mail.wait_for(1, ARRIVES).await;
    let everything = format!(
        "{}\n{}",
        serde_json::to_string(&messages).unwrap(),
        mails.join("\n")
    );
    assert!(everything.contains("customer"), "{everything}");
    for customer in Dataset::demo().customers {
        for personal in [&customer.email, &customer.last_name] {
            assert!(
                !everything.contains(personal.as_str()),
                "{personal} in a message: {everything}"
            );
        }
    }
    for secret in [
        hook.url.as_str(),
        dataset::SHOPWARE_CLIENT_SECRET,
        dataset::CCV_SECRET,
    ] {
        assert!(!everything.contains(secret), "{secret} in a message");
    }
}

/// `tillbridge once` in the pair's folder, with the webhook at `hook`.
fn tillbridge_once(pair: &Pair, config: &std::path::Path, hook: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tillbridge"))
        .current_dir(pair.dir.path())
        .env("TILLBRIDGE_CONFIG", config)
        .env("HOOK", hook)
        .env_remove("RUST_LOG")
        .env_remove("TILLBRIDGE_LOG_FORMAT")
        .args(["once", "orders"])
        .output()
        .unwrap()
}

// Two threads: the simulators and receivers answer while the child process runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tillbridge_once_goes_on_past_a_dead_webhook_then_tells_once_across_restarts() {
    let (hook, mail) = (Hook::start().await, Mailbox::start().await);
    let pair = notified(&hook, &mail, "2h", "30s").await;
    let config = pair.child_config("once.redb");
    pair.pos.faults().add(
        Fault::status("/api/rest/v1/orders*", 503)
            .method("POST")
            .times(1),
    );

    let dead = dead_url();
    let output = tillbridge_once(&pair, &config, &dead);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(3), "records failed: {stderr}");
    assert!(
        stderr.contains("notification not sent by webhook"),
        "the dead channel is logged: {stderr}"
    );
    assert!(
        !stderr.contains(&dead),
        "the webhook URL is a secret: {stderr}"
    );
    assert!(
        !pair.pos_orders().is_empty(),
        "the run went on and sent the others"
    );
    assert_eq!(
        mail.wait_for(1, ARRIVES).await.len(),
        1,
        "e-mail still told it"
    );

    // Started again with a live webhook: the failure was told (by e-mail), so it is not told
    // again; the order goes through, and that is told once, however often it is started.
    for _ in 0..2 {
        let output = tillbridge_once(&pair, &config, &hook.url);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("notification not sent"), "{stderr}");
    }
    let messages = hook.messages();
    assert_eq!(messages.len(), 1, "only its end: {messages:#?}");
    assert_eq!(messages[0]["status"], "resolved");
    assert_eq!(mail.wait_for(3, Duration::from_secs(1)).await.len(), 2);
}
