//! FLOWS.md §1.5.1 with the target as the truth: an order the point of sale has is never booked
//! again, whether tillbridge remembers it or not (ARCHITECTURE.md: "the state file is a cache").

use std::collections::BTreeMap;

use tillbridge::state::Outcome;
use tillbridge_sim::dataset::Dataset;

use super::harness::{Pair, Setup, finished, keys};
use super::orders::{ORDERS, strings, user_emails};

/// The point of sale's requests from `from` on, by operation ("GET /orders").
fn operations(pair: &Pair, from: usize) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for entry in &pair.pos.journal().entries()[from..] {
        let op = tillbridge_sim::ccv::operation(&entry.method, &entry.path);
        *counts.entry(op).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn deleting_the_state_file_books_no_order_twice_and_writes_no_customer_again() {
    // Without the order that waits for a missing product (its customer would be written anew).
    let mut dataset = Dataset::demo();
    dataset.orders.retain(|o| o.number != "10006");
    let mut pair = Pair::start(
        Setup {
            dataset,
            ..Setup::default()
        },
        ORDERS,
    )
    .await;
    let first = pair.run("orders").await;
    finished(&first);
    let booked = strings(&["10001", "10002", "10003", "10004"]);
    assert_eq!(keys(&first, "order", Outcome::Created), booked);
    let before = pair.pos_bookings();
    let writes = pair.pos_writes();
    let requests = pair.pos.journal().len();

    pair.delete_state();
    let again = pair.run("orders").await;
    finished(&again);
    assert!(keys(&again, "order", Outcome::Created).is_empty());
    assert_eq!(keys(&again, "order", Outcome::Skipped), booked);
    assert_eq!(
        pair.pos_bookings(),
        before,
        "every order is in the point of sale once"
    );
    assert!(before.values().all(|n| *n == 1), "{before:?}");
    assert_eq!(
        pair.pos_writes(),
        writes,
        "no order and no customer is written again"
    );
    // With empty memory: one pass over the point of sale's orders since the oldest order asked
    // about, and nothing else.
    let ops = operations(&pair, requests);
    assert_eq!(
        ops,
        BTreeMap::from([("GET /orders".to_string(), 1)]),
        "{ops:?}"
    );

    // Remembered again (linked): a third run asks the point of sale nothing.
    let requests = pair.pos.journal().len();
    finished(&pair.run("orders").await);
    assert_eq!(pair.pos.journal().len(), requests);
}

#[tokio::test]
async fn an_order_booked_by_hand_with_the_marker_is_not_booked_again() {
    let pair = Pair::demo(ORDERS).await;
    let by_hand = pair.pos.book_by_hand("TB-MUG-01", 2, "WEB-10001").unwrap();
    let report = pair.run("orders").await;
    finished(&report);
    assert_eq!(
        keys(&report, "order", Outcome::Skipped),
        strings(&["10001"])
    );
    assert_eq!(
        keys(&report, "order", Outcome::Created),
        strings(&["10002", "10003", "10004"])
    );
    assert_eq!(pair.pos_bookings()["10001"], 1);
    let skipped = pair.logged(&report, "order", "10001");
    assert_eq!(
        skipped.answer.as_deref(),
        Some(by_hand.to_string().as_str())
    );
    assert!(
        !user_emails(&pair).contains(&"ada.jansen@example.nl".to_string()),
        "an order already booked costs no customer write"
    );
    // Linked now: the next run skips it without asking.
    let next = pair.run("orders").await;
    assert!(keys(&next, "order", Outcome::Created).is_empty());
}

#[tokio::test]
async fn the_marker_format_is_a_setting() {
    let mut pair = Pair::demo(ORDERS).await;
    pair.reconfigure(|flows| {
        flows.replace(
            "rate_limits = ",
            "settings = { order_marker = \"{number}\" }\nrate_limits = ",
        )
    });
    // The previous integration booked 10002 with the bare number.
    pair.pos.book_by_hand("TB-BOOK-01", 2, "10002").unwrap();
    let report = pair.run("orders").await;
    finished(&report);
    assert_eq!(
        keys(&report, "order", Outcome::Skipped),
        strings(&["10002"])
    );
    let counts = pair.pos_bookings();
    for number in ["10001", "10002", "10003", "10004"] {
        assert_eq!(counts.get(number), Some(&1), "{number}: {counts:?}");
    }
    assert_eq!(
        pair.pos_order("10001").unwrap()["reservationnumber"],
        "10001",
        "written in the format set"
    );
}
