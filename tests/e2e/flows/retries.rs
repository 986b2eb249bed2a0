//! Orders that could not be taken for a passing reason (the point of sale busy, out of reach, or
//! answering what is not JSON) come back by themselves after a backoff, are never booked twice,
//! and after their attempts wait for a human, saying why.

use tillbridge::state::{Outcome, PendingState};
use tillbridge_sim::common::Fault;

use super::harness::{Pair, keys};
use super::orders::with_settings;

#[tokio::test]
async fn an_order_the_target_did_not_confirm_is_retried_only_after_its_backoff_and_booked_once() {
    let pair = Pair::demo(&with_settings(
        "payment_states = [\"paid\"], retry_after_secs = 1",
    ))
    .await;
    pair.pos.faults().add(
        Fault::status("/api/rest/v1/orders*", 503)
            .method("POST")
            .times(1),
    );
    let refused = pair.run("orders").await;
    let failed = keys(&refused, "order", Outcome::Failed);
    assert!(!failed.is_empty());
    let waiting = pair.state.read().unwrap().pending("orders").unwrap();
    assert!(
        waiting
            .iter()
            .filter(|p| failed.contains(&p.key))
            .all(|p| p.reason.contains("attempt 1 of 8")),
        "{waiting:?}"
    );
    // At once: its time has not come, so it is not sent (nor read again from the held cursor).
    let early = pair.run("orders").await;
    assert!(
        keys(&early, "order", Outcome::Created).is_empty(),
        "tried before its backoff: {:?}",
        early.entries
    );
    // After the backoff (1 s, at most a quarter more): booked, once each.
    tokio::time::sleep(std::time::Duration::from_millis(1400)).await;
    let later = pair.run("orders").await;
    assert_eq!(keys(&later, "order", Outcome::Created), failed);
    let booked = pair.pos_bookings();
    for number in &failed {
        assert_eq!(booked.get(number), Some(&1), "{number} once: {booked:?}");
    }
}

#[tokio::test]
async fn after_its_retry_attempts_an_order_waits_for_a_human_and_says_why() {
    let pair = Pair::demo(&with_settings(
        "payment_states = [\"paid\"], retry_after_secs = 0, retry_attempts = 2",
    ))
    .await;
    pair.pos
        .faults()
        .add(Fault::status("/api/rest/v1/orders*", 503).method("POST"));
    let first = pair.run("orders").await;
    let failed = keys(&first, "order", Outcome::Failed);
    assert!(!failed.is_empty());
    let second = pair.run("orders").await;
    assert_eq!(keys(&second, "order", Outcome::Failed), failed);
    let waiting = pair.state.read().unwrap().pending("orders").unwrap();
    assert!(
        waiting.iter().filter(|p| failed.contains(&p.key)).all(|p| p
            .reason
            .contains("gave up retrying automatically after 2 attempts")),
        "{waiting:?}"
    );
    // The target answers again, but the order is no longer tried on its own.
    pair.pos.faults().clear();
    let third = pair.run("orders").await;
    assert!(
        keys(&third, "order", Outcome::Created).is_empty(),
        "{:?}",
        third.entries
    );
    // Retried by hand: booked, once.
    for number in &failed {
        pair.state.retry("orders", number).unwrap();
    }
    let by_hand = pair.run("orders").await;
    assert_eq!(keys(&by_hand, "order", Outcome::Created), failed);
    let booked = pair.pos_bookings();
    for number in &failed {
        assert_eq!(booked.get(number), Some(&1), "{number} once: {booked:?}");
    }
}

#[tokio::test]
async fn an_order_whose_customer_or_booking_check_failed_for_a_passing_reason_comes_back_by_itself()
{
    // Each read that comes before the booking: the customer look-up and the check whether the
    // point of sale has the order already.
    for (read, says) in [
        ("/api/rest/v1/users*", "cannot look customers up"),
        ("/api/rest/v1/orders*", "cannot check whether"),
    ] {
        let pair = Pair::demo(&with_settings(
            "payment_states = [\"paid\"], retry_after_secs = 1",
        ))
        .await;
        pair.pos
            .faults()
            .add(Fault::status(read, 503).method("GET"));
        let refused = pair.run("orders").await;
        let failed = keys(&refused, "order", Outcome::Failed);
        assert!(!failed.is_empty(), "{read}: {:?}", refused.entries);
        let waiting = pair.state.read().unwrap().pending("orders").unwrap();
        for p in waiting.iter().filter(|p| failed.contains(&p.key)) {
            assert!(p.reason.contains(says), "{read}: {}", p.reason);
            assert!(
                p.reason.contains("attempt 1 of 8") && p.reason.contains("automatically"),
                "{read}: {}",
                p.reason
            );
        }
        // The point of sale answers again; after the backoff each order goes on, untouched: booked
        // once, or (the demo's order of a product the point of sale lacks) parked for it.
        pair.pos.faults().clear();
        tokio::time::sleep(std::time::Duration::from_millis(1400)).await;
        let later = pair.run("orders").await;
        let booked_now = keys(&later, "order", Outcome::Created);
        let parked = keys(&later, "order", Outcome::Parked);
        assert!(!booked_now.is_empty(), "{read}: {:?}", later.entries);
        let mut went_on = [booked_now.clone(), parked].concat();
        went_on.sort();
        assert_eq!(went_on, failed, "{read}");
        let booked = pair.pos_bookings();
        for number in &booked_now {
            assert_eq!(booked.get(number), Some(&1), "{number} once: {booked:?}");
        }
        assert!(nothing_waits_for_a_human(&pair), "{read}");
    }
}

#[tokio::test]
async fn a_nesting_bomb_for_an_answer_fails_that_order_alone_and_it_is_never_booked_twice() {
    let pair = Pair::demo(&with_settings(
        "payment_states = [\"paid\"], retry_after_secs = 1",
    ))
    .await;
    // The first booking is kept, and its answer is a million brackets deep.
    let bomb = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    pair.pos.faults().add(
        Fault::answer("/api/rest/v1/orders", &bomb)
            .method("POST")
            .after_write()
            .times(1),
    );
    let first = pair.run("orders").await;
    let failed = keys(&first, "order", Outcome::Failed);
    assert_eq!(failed.len(), 1, "that order alone: {:?}", first.entries);
    let reason = &first
        .entries
        .iter()
        .find(|e| e.key == failed[0])
        .unwrap()
        .message;
    assert!(reason.contains("not the JSON expected"), "{reason}");
    assert!(
        !keys(&first, "order", Outcome::Created).is_empty(),
        "the run went on with the others"
    );

    // After the backoff it is found booked, not booked again.
    tokio::time::sleep(std::time::Duration::from_millis(1400)).await;
    pair.run("orders").await;
    let booked = pair.pos_bookings();
    assert_eq!(booked.get(&failed[0]), Some(&1), "{booked:?}");
    assert!(booked.values().all(|n| *n == 1), "{booked:?}");
    assert!(nothing_waits_for_a_human(&pair));
}

/// Only orders parked for a product the point of sale lacks (retried by themselves) wait.
fn nothing_waits_for_a_human(pair: &Pair) -> bool {
    let waiting = pair.state.read().unwrap().pending("orders").unwrap();
    waiting.iter().all(|p| p.state == PendingState::Parked)
}
