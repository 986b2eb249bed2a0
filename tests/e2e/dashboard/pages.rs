//! What a merchant sees and does: the flows at a glance, a run's records, search, Retry and Skip,
//! Run now (never overlapping a run in flight), the dry run's plan, and the charts.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rust_decimal::Decimal;
use tillbridge::state::{Outcome, RunStatus};
use tillbridge_sim::common::Fault;
use tokio_util::sync::CancellationToken;

use super::board::{Board, demo_pair, four_flows};
use crate::flows::harness::{Pair, finished};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_each_flow_its_schedule_last_run_and_what_waits() {
    let pair = demo_pair().await;
    finished(&pair.run("orders").await);
    let board = Board::start(pair).await;
    let page = board.page("/").await;
    for flow in ["categories", "products", "orders", "stock"] {
        assert!(
            page.contains(&format!("/flows/{flow}\"")),
            "{flow} is listed"
        );
    }
    assert!(page.contains("0 0 1 1 *"), "the schedule");
    assert!(page.contains("next in "), "when it runs next");
    assert!(page.contains("never run"), "flows that never ran say so");
    assert!(page.contains("href=\"/runs/1\""), "the last run of orders");
    assert!(page.contains("1 parked"), "what waits");
    assert!(page.contains("waits for TB-POSTER-01"), "and for what");
    assert!(page.contains("Retry") && page.contains("Skip"));
    assert!(page.contains("Run now") && page.contains("Dry run"));
    assert!(page.contains("/charts/records.svg") && page.contains("/charts/failures.svg"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_records_say_what_came_from_where_what_was_sent_and_the_answer() {
    let pair = demo_pair().await;
    let report = finished(&pair.run("orders").await).clone();
    let booked = pair.logged(&report, "order", "10001");
    assert_eq!(booked.outcome, Outcome::Created, "10001 booked");
    let board = Board::start(pair).await;
    let page = board.page("/runs/1").await;
    assert!(
        page.contains("10001") && page.contains(&booked.message),
        "{page}"
    );
    assert!(page.contains("Came from shop") && page.contains("Sent to pos"));
    assert!(page.contains("pos answered"));
    assert!(
        page.contains(booked.answer.as_deref().unwrap()),
        "the answer"
    );
    assert!(page.contains("TB-MUG-01"), "what came: the order's lines");
    // Only the failures, when asked.
    let failed_only = board.page("/runs/1?outcome=parked").await;
    assert!(failed_only.contains("10006") && !failed_only.contains(">10001<"));
    assert_eq!(board.get("/runs/99").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_found_by_order_number_sku_and_e_mail() {
    let pair = demo_pair().await;
    finished(&pair.run("orders").await);
    let board = Board::start(pair).await;
    let by_number = board.page("/search?q=10006").await;
    assert!(by_number.contains("parked") && by_number.contains("waits for TB-POSTER-01"));
    let by_sku = board.page("/search?q=TB-BOOK-01").await;
    assert!(
        by_sku.contains("10002") && by_sku.contains("10004"),
        "orders with the book"
    );
    assert!(
        !by_sku.contains("<strong>10001</strong>"),
        "an order without it"
    );
    let by_email = board.page("/search?q=inkoop@bakkerij-devries.nl").await;
    assert!(by_email.contains("10002"), "the business customer's order");
    let nothing = board.page("/search?q=no-such-thing-anywhere").await;
    assert!(nothing.contains("No records."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_sends_the_parked_order_once_its_product_exists() {
    let pair = demo_pair().await;
    finished(&pair.run("orders").await);
    finished(&pair.run("products").await);
    let board = Board::start(pair).await;
    assert!(board.pair.pos_order("10006").is_none());
    let pressed = board.press("retry", "orders", "10006").await;
    assert_eq!(pressed.status, StatusCode::SEE_OTHER);
    assert_eq!(pressed.header("location"), "/flows/orders");
    board.settled("orders").await;
    assert!(
        board.pair.pos_order("10006").is_some(),
        "booked by the retry's run"
    );
    let page = board.page("/flows/orders").await;
    assert!(page.contains("Nothing waits."), "{page}");
    let again = board.press("retry", "orders", "10006").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("not waiting"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_gives_up_on_a_record_for_good() {
    let pair = demo_pair().await;
    finished(&pair.run("orders").await);
    let board = Board::start(pair).await;
    let confirm = board.page("/waiting/skip?flow=orders&key=10006").await;
    assert!(confirm.contains("never sent"), "asked before");
    let pressed = board.press("skip", "orders", "10006").await;
    assert_eq!(pressed.status, StatusCode::SEE_OTHER);
    assert!(board.page("/waiting").await.contains("is skipped"));
    // The poster comes, the orders flow runs again: the skipped order stays unsent.
    finished(&board.pair.run("products").await);
    finished(&board.pair.run("orders").await);
    assert!(board.pair.pos_order("10006").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_starts_a_run_and_never_overlaps_a_scheduled_run_in_flight() {
    // Stock every two seconds; the others wait for their yearly turn.
    let flows = four_flows("0 0 1 1 *").replace(
        "target = \"shop\"\nschedule = \"0 0 1 1 *\"",
        "target = \"shop\"\nschedule = \"*/2 * * * * *\"",
    );
    let pair = Pair::demo(&flows).await;
    // Every stock run lasts about three seconds (its read of the products is slow).
    pair.pos
        .faults()
        .add(Fault::latency("/api/rest/v1/products", 3_000).method("GET"));
    let board = Board::start(pair).await;
    let shutdown = CancellationToken::new();
    let scheduler = tokio::spawn(tillbridge::scheduler::run(
        board.integration.clone(),
        board.pair.state.clone(),
        board.locks.clone(),
        shutdown.clone(),
        tillbridge::flows::Events::default(),
    ));
    // Wait for a scheduled stock run to be in flight.
    let start = Instant::now();
    while !board.locks.is_running("stock") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no scheduled stock run"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pressed = board.press("run", "stock", "").await;
    assert_eq!(pressed.status, StatusCode::CONFLICT, "{}", pressed.body);
    assert!(
        pressed.body.contains("stock is running now"),
        "{}",
        pressed.body
    );
    let dry = board.press("dry-run", "stock", "").await;
    assert_eq!(dry.status, StatusCode::CONFLICT);
    shutdown.cancel();
    scheduler.await.unwrap().unwrap();
    board.settled("stock").await;
    // Idle now: Run now starts one.
    let pressed = board.press("run", "stock", "").await;
    assert_eq!(pressed.status, StatusCode::SEE_OTHER, "{}", pressed.body);
    board.settled("stock").await;

    let mut runs = board.pair.state.read().unwrap().recent_runs(100).unwrap();
    runs.retain(|r| r.flow == "stock");
    runs.reverse();
    assert!(
        runs.len() >= 2,
        "a scheduled run and the one pressed: {runs:?}"
    );
    assert_eq!(runs.last().unwrap().status, RunStatus::Finished);
    for pair in runs.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        assert!(
            after.started_at >= before.finished_at.expect("ended"),
            "run {} started before run {} ended",
            after.id,
            before.id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_shows_per_record_what_would_be_created_and_updated_old_to_new() {
    let pair = demo_pair().await;
    let first = finished(&pair.run("stock").await).clone();
    let written = pair
        .logged(&first, "stock", "TB-MUG-01")
        .sent
        .expect("the mug's stock was written");
    let old = text(&written["quantity"]);
    pair.pos.set_stock("TB-MUG-01", Decimal::from(17)).unwrap();
    let expected = pair
        .dry_run("stock")
        .await
        .entries
        .into_iter()
        .find(|e| e.key == "TB-MUG-01")
        .and_then(|e| e.sent)
        .expect("the mug would be written");
    let new = text(&expected["quantity"]);
    assert_ne!(old, new, "the test changes the stock");
    let board = Board::start(pair).await;

    let pressed = board.press("dry-run", "stock", "").await;
    assert_eq!(pressed.status, StatusCode::SEE_OTHER);
    let plan_page = pressed.header("location").to_string();
    board.settled("stock").await;
    let plan = board.page(&plan_page).await;
    assert!(
        plan.contains("TB-MUG-01") && plan.contains("would be updated"),
        "{plan}"
    );
    let row = row_of(&plan, "TB-MUG-01");
    assert!(
        row.contains(&format!("class=\"old\">{old}</td>")),
        "old: {old}\n{row}"
    );
    assert!(
        row.contains(&format!("class=\"new\">{new}</td>")),
        "new: {new}\n{row}"
    );
    assert!(plan.contains("unchanged"), "the others are unchanged");
    assert_eq!(
        board
            .pair
            .state
            .read()
            .unwrap()
            .recent_runs(10)
            .unwrap()
            .len(),
        1,
        "a dry run is not a run"
    );

    // Products never synced: each would be created, with what would be sent.
    let pressed = board.press("dry-run", "products", "").await;
    board.settled("products").await;
    let plan = board.page(pressed.header("location")).await;
    assert!(
        plan.contains("TB-POSTER-01") && plan.contains("would be created"),
        "{plan}"
    );
    assert!(plan.contains("Harbour poster"), "the values it would get");
    assert!(plan.contains("images are not synced"), "the run's notes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_charts_show_records_per_run_and_failures_over_time() {
    let pair = demo_pair().await;
    finished(&pair.run("orders").await);
    finished(&pair.run("products").await);
    let board = Board::start(pair).await;
    let records = board.get("/charts/records.svg").await;
    assert_eq!(records.header("content-type"), "image/svg+xml");
    assert!(records.body.starts_with("<svg"), "{}", records.body);
    for label in ["Records per run", "#1", "#2", "created", "parked"] {
        assert!(records.body.contains(label), "{label} in the chart");
    }
    let failures = board.get("/charts/failures.svg?flow=orders").await;
    assert!(failures.body.contains("Failures per day") && failures.body.contains("parked"));
}

/// A JSON value as the plan shows it.
fn text(value: &serde_json::Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), String::from)
}

/// A plan's row of one record: from its key to the next record's.
fn row_of<'a>(plan: &'a str, key: &str) -> &'a str {
    let start = plan
        .find(&format!("<strong>{key}</strong>"))
        .unwrap_or_else(|| panic!("{key} in the plan"));
    let rest = &plan[start..];
    let end = rest[1..]
        .find("<span class=\"kind\">")
        .map_or(rest.len(), |i| i + 1);
    &rest[..end]
}
