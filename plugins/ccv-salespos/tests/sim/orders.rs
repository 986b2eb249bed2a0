//! Orders booked with their rows, marker and internal note; found again in CCV whether the
//! connector remembers them or not; never booked twice.

use serde_json::{Value, json};
use tillbridge::runtime::bindings::exports::tillbridge::plugin::orders_sink::{
    MarkerLookup, OrderSubmission,
};
use tillbridge::runtime::bindings::tillbridge::plugin::types::{PluginError, WriteAction, Written};
use tillbridge::runtime::{Kv, Session};

use super::support::records::{
    business, configurable, line, order, price, private, product_write, staff_customer, submission,
    write,
};
use super::support::{Pos, assert_all_signed};

/// The orders in the simulator's state with this marker.
fn by_marker(pos: &Pos, marker: &str) -> Vec<Value> {
    pos.dump()["orders"]
        .as_object()
        .unwrap()
        .values()
        .filter(|o| o["reservationnumber"] == marker)
        .cloned()
        .collect()
}

/// Look-ups of orders placed when the test records say (2026-11-01), by their markers (the
/// order numbers, as the host gives them).
fn lookups(numbers: &[&str]) -> Vec<MarkerLookup> {
    numbers
        .iter()
        .map(|n| MarkerLookup {
            marker: n.to_string(),
            since: "2026-11-01T10:00:00Z".into(),
        })
        .collect()
}

/// The connector's memory, as the tests keep it.
fn memory(kv: &Kv) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, String>> {
    let Kv::Memory(map) = kv else {
        panic!("tests keep kv in memory")
    };
    map.lock().unwrap()
}

/// An order of one mug by Ada, for staff customer `staff` (a user CCV has).
fn one_mug(pos: &Pos, staff: usize, number: &str) -> OrderSubmission {
    let user = pos.sim.add_user(&staff_customer(staff)).to_string();
    submission(
        &pos.sim,
        order(
            number,
            private("ada@example.org"),
            vec![line("TB-MUG-01", 1, "12.50")],
        ),
        &user,
    )
}

/// Creates one order, which must succeed.
async fn create_one(session: &mut Session, sub: &OrderSubmission) -> Written {
    session
        .create_orders(std::slice::from_ref(sub))
        .await
        .unwrap()[0]
        .outcome
        .clone()
        .unwrap()
}

/// What a crash between "sent" and "answer recorded" leaves in the connector: the order
/// unremembered (the host keeps the intent, and asks with its time).
fn forget_the_answer(kv: &Kv, number: &str) {
    memory(kv).remove(&format!("orders/booked/{number}"));
}

/// Now, in ms since 1970.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The `min_create_date` of the `GET /orders` requests from `from` on.
fn passes_since(pos: &Pos, from: usize) -> Vec<String> {
    pos.requests()[from..]
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/orders"))
        .map(|r| {
            let query = r.query.clone().unwrap_or_default();
            let value = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("min_create_date="))
                .unwrap_or_default();
            value.replace("%3A", ":")
        })
        .collect()
}

#[tokio::test]
async fn a_business_order_is_booked_with_its_customer_rows_marker_and_internal_note() {
    let pos = Pos::demo().await;
    let mut session = pos.session().await;
    let customer = business("buyer@acme.example");
    let written = session
        .write_customers(&[write(customer.clone(), None)])
        .await
        .unwrap();
    let customer_id = written[0].outcome.clone().unwrap().id;
    let the_order = order(
        "10042",
        customer,
        vec![
            line("TB-MUG-01", 2, "12.50"),
            line("TB-TEE-M-RED", 1, "19.95"),
        ],
    );
    let before = pos.count();
    let results = session
        .create_orders(&[submission(&pos.sim, the_order, &customer_id)])
        .await
        .unwrap();
    let booked = results[0].outcome.clone().unwrap();
    assert_eq!(booked.action, WriteAction::Created);
    let tee = pos.sim.article("TB-TEE-M-RED").unwrap();
    let webshops = pos.dump()["webshops"].clone();
    let webshop = webshops.as_object().unwrap().keys().next().unwrap().clone();
    assert_eq!(
        pos.since(before),
        [
            "GET /orders",
            "GET /webshops",
            &format!("GET /webshops/{webshop}/settings"),
            &format!("GET /products/{}/attributecombinations", tee.product_id),
            "POST /orders",
            "GET /paymethods",
            &format!("POST /orders/{}/ordernotes", booked.id)
        ],
        "looked for in CCV first; the variant's surcharge read before booking, in the shop's VAT terms (read once); the note is an internal note, not a PATCH"
    );

    let orders = by_marker(&pos, "WEB-10042");
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o["id"].to_string(), booked.id);
    assert_eq!(o["user_id"].to_string(), customer_id);
    assert_eq!(
        (o["status"].clone(), o["paid"].clone()),
        (7.into(), true.into())
    );
    assert_eq!(o["customer"]["customertype"], "b2b");
    assert_eq!(o["customer"]["billingaddress"]["company"], "Acme B.V.");
    let rows = o["rows"].as_array().unwrap();
    let mug = pos.sim.article("TB-MUG-01").unwrap();
    assert_eq!(rows[0]["product_id"], mug.product_id);
    assert_eq!(rows[0]["count"], "2");
    assert_eq!(rows[0]["price"], "12.5");
    assert_eq!(
        rows[1]["attribute_combination_id"],
        tee.combination_id.unwrap()
    );
    assert_eq!(o["total_shipping"], "4.95");
    let notes: Vec<Value> = pos.dump()["order_notes"]
        .as_object()
        .unwrap()
        .values()
        .filter(|n| n["order_id"].as_u64() == booked.id.parse().ok())
        .cloned()
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["type"], "internal", "for the staff only");
    let note = notes[0]["note"].as_str().unwrap();
    assert!(
        note.contains("Payment method: PayPal (CCV payment method 2)"),
        "{note}"
    );
    assert!(note.contains("Shipping method: PostNL"), "{note}");
    assert_eq!(
        o["customer_mails"],
        json!([]),
        "the customer is not mailed the payment details"
    );
    assert_all_signed(&pos);
}

/// CCV adds a variant's attribute values to its order row itself ("The associated attributes
/// value with this id will be added to this row", `attribute_combination_id` in the order row
/// input schema, `src/Models/Internal/Entity/Orderrow/Input/Input.php` of
/// `jacobdekeizer/ccvshop-client`): the row must still total what the webshop charged, the
/// surcharge counted once.
#[tokio::test]
async fn a_variant_with_a_surcharge_is_booked_at_the_webshops_price() {
    let pos = Pos::empty().await;
    let mut session = pos.session().await;
    let mut tee = configurable("TEE", &["M", "XL"], &["Red"]);
    tee.variants[1].prices = vec![price("22.45")];
    let written = session
        .write_products(&[product_write(tee, None, &[])])
        .await
        .unwrap();
    assert!(written.iter().all(|r| r.outcome.is_ok()), "{written:?}");
    let customer_id = pos.sim.add_user(&staff_customer(1)).to_string();
    let the_order = order(
        "10077",
        private("ada@example.org"),
        vec![
            line("TEE-XL-Red", 2, "22.45"),
            line("TEE-M-Red", 1, "19.95"),
        ],
    );
    let results = session
        .create_orders(&[submission(&pos.sim, the_order, &customer_id)])
        .await
        .unwrap();
    let id: u64 = results[0].outcome.clone().unwrap().id.parse().unwrap();
    let totals: Vec<String> = pos
        .sim
        .row_totals(id)
        .unwrap()
        .iter()
        .map(|t| t.normalize().to_string())
        .collect();
    assert_eq!(
        totals,
        ["44.9", "19.95"],
        "XL: 2 × 22.45, not 2 × (22.45 + 2.50)"
    );
}

/// The surcharges of a variant are read once per run (session), not once per batch: a run of
/// many batches pays one request per variant product, and the next run reads them again.
#[tokio::test]
async fn a_variants_surcharges_are_read_once_a_run_however_many_batches_book_it() {
    let mut pos = Pos::demo().await;
    pos.settings["order_note"] = json!(false);
    let user = pos.sim.add_user(&staff_customer(5)).to_string();
    let tee = pos.sim.article("TB-TEE-M-RED").unwrap();
    let surcharges = format!("GET /products/{}/attributecombinations", tee.product_id);
    let batch = |number: &str| {
        let lines = vec![line("TB-TEE-M-RED", 1, "19.95")];
        vec![submission(
            &pos.sim,
            order(number, private("ada@example.org"), lines),
            &user,
        )]
    };
    let mut session = pos.session().await;
    let before = pos.count();
    for number in ["10051", "10052", "10053"] {
        let results = session.create_orders(&batch(number)).await.unwrap();
        assert!(results[0].outcome.is_ok(), "{results:?}");
    }
    let asked = pos.since(before);
    assert_eq!(
        asked.iter().filter(|r| **r == surcharges).count(),
        1,
        "{asked:?}"
    );
    assert_eq!(asked.iter().filter(|r| *r == "POST /orders").count(), 3);

    let mut next_run = pos.session().await;
    let before = pos.count();
    next_run.create_orders(&batch("10054")).await.unwrap();
    assert!(
        pos.since(before).contains(&surcharges),
        "read again by the next run"
    );
}

#[tokio::test]
async fn without_the_note_an_order_costs_one_request() {
    let mut pos = Pos::demo().await;
    pos.settings["order_note"] = json!(false);
    let user = pos.sim.add_user(&staff_customer(5)).to_string();
    let mut session = pos.session().await;
    let sub = submission(
        &pos.sim,
        order(
            "10047",
            private("ada@example.org"),
            vec![line("TB-MUG-01", 1, "12.50")],
        ),
        &user,
    );
    // As the host does: find first, then book.
    assert!(
        session
            .find_orders(&lookups(&["10047"]))
            .await
            .unwrap()
            .is_empty()
    );
    let before = pos.count();
    let results = session.create_orders(&[sub]).await.unwrap();
    assert!(results[0].outcome.is_ok(), "{results:?}");
    assert_eq!(pos.since(before), ["POST /orders"]);
    assert!(pos.dump()["order_notes"].as_object().unwrap().is_empty());
}

#[tokio::test]
async fn a_booked_order_is_found_without_a_request_and_never_booked_twice() {
    let pos = Pos::demo().await;
    let mut session = pos.session().await;
    let the_order = order(
        "10043",
        private("ada@example.org"),
        vec![line("TB-MUG-01", 1, "12.50")],
    );
    let sub = submission(
        &pos.sim,
        the_order,
        &pos.sim.add_user(&staff_customer(1)).to_string(),
    );
    let first = session
        .create_orders(std::slice::from_ref(&sub))
        .await
        .unwrap();
    let id = first[0].outcome.clone().unwrap().id;

    let before = pos.count();
    let mut later = pos.session().await;
    let found = later.find_orders(&lookups(&["10043"])).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].marker.as_str(), found[0].id.as_str()),
        ("10043", id.as_str())
    );
    let again = later.create_orders(&[sub]).await.unwrap();
    let again = again[0].outcome.clone().unwrap();
    assert_eq!((again.id, again.action), (id, WriteAction::Unchanged));
    assert_eq!(pos.count(), before, "no request: {:?}", pos.since(before));
    assert_eq!(by_marker(&pos, "WEB-10043").len(), 1);
}

#[tokio::test]
async fn with_its_memory_lost_the_connector_finds_every_booking_with_one_pass() {
    let pos = Pos::demo().await;
    let user = pos.sim.add_user(&staff_customer(6)).to_string();
    let mut session = pos.session().await;
    let subs: Vec<_> = ["10051", "10052", "10053"]
        .iter()
        .map(|n| {
            submission(
                &pos.sim,
                order(
                    n,
                    private("ada@example.org"),
                    vec![line("TB-MUG-01", 1, "12.50")],
                ),
                &user,
            )
        })
        .collect();
    let booked = session.create_orders(&subs).await.unwrap();
    // Till sales around them.
    pos.sim.sell("TB-BOOK-01", 1).unwrap();

    memory(&pos.kv).clear();
    let before = pos.count();
    let mut later = pos.session().await;
    let found = later
        .find_orders(&lookups(&["10051", "10052", "10053", "10054"]))
        .await
        .unwrap();
    let found: Vec<(String, String)> = found.into_iter().map(|r| (r.marker, r.id)).collect();
    let expected: Vec<(String, String)> = booked
        .iter()
        .map(|r| (r.key.clone(), r.outcome.clone().unwrap().id))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(pos.since(before), ["GET /orders"], "one pass");
    assert_eq!(
        passes_since(&pos, before),
        ["2026-10-31T10:00:00Z"],
        "from a day before the oldest order asked about"
    );
    let again = later.create_orders(&subs).await.unwrap();
    assert!(
        again
            .iter()
            .all(|r| r.outcome.as_ref().unwrap().action == WriteAction::Unchanged),
        "{again:?}"
    );
    assert_eq!(pos.since(before).len(), 1, "remembered again");
    assert_eq!(by_marker(&pos, "WEB-10051").len(), 1);
}

#[tokio::test]
async fn an_order_booked_by_hand_with_the_marker_is_found_and_later_passes_read_only_what_is_new() {
    let pos = Pos::demo().await;
    let mut session = pos.session().await;
    assert!(
        session
            .find_orders(&lookups(&["10061"]))
            .await
            .unwrap()
            .is_empty()
    );
    let first_pass = passes_since(&pos, 0);

    // Staff book 10061 and 10062 by hand, the way the connector would have.
    let by_hand = pos.sim.book_by_hand("TB-MUG-01", 1, "WEB-10061").unwrap();
    pos.sim.book_by_hand("TB-MUG-01", 1, "10062").unwrap();
    let before = pos.count();
    let mut next_run = pos.session().await;
    let found = next_run
        .find_orders(&lookups(&["10061", "10062"]))
        .await
        .unwrap();
    assert_eq!(
        found.len(),
        1,
        "10062 has no marker of this format: {found:?}"
    );
    assert_eq!(found[0].id, by_hand.to_string());
    let later_pass = passes_since(&pos, before);
    assert_eq!(later_pass.len(), 1);
    assert!(
        later_pass[0] > first_pass[0],
        "the next pass goes on from the last ({later_pass:?} after {first_pass:?})"
    );
}

#[tokio::test]
async fn the_marker_format_is_a_setting() {
    let mut pos = Pos::demo().await;
    pos.settings["order_marker"] = json!("{number}");
    let user = pos.sim.add_user(&staff_customer(7)).to_string();
    let by_hand = pos.sim.book_by_hand("TB-MUG-01", 1, "10071").unwrap();
    let mut session = pos.session().await;
    let found = session.find_orders(&lookups(&["10071"])).await.unwrap();
    assert_eq!(found[0].id, by_hand.to_string());
    let sub = submission(
        &pos.sim,
        order(
            "10072",
            private("ada@example.org"),
            vec![line("TB-MUG-01", 1, "12.50")],
        ),
        &user,
    );
    session.create_orders(&[sub]).await.unwrap();
    assert_eq!(by_marker(&pos, "10072").len(), 1, "the bare number");

    pos.settings["order_marker"] = json!("WEB-");
    let error = pos.session().await.find_orders(&lookups(&["1"])).await;
    let Err(tillbridge::runtime::CallError::Plugin(PluginError::Fatal(message))) = error else {
        panic!("{error:?}")
    };
    assert!(message.contains("order_marker"), "{message}");
}

#[tokio::test]
async fn an_order_booked_moments_before_a_crash_is_found_with_one_read() {
    let pos = Pos::demo().await;
    let mut session = pos.session().await;
    let sub = one_mug(&pos, 2, "10044");
    let booked = create_one(&mut session, &sub).await;
    pos.sim.sell("TB-MUG-01", 1).unwrap();
    forget_the_answer(&pos.kv, "10044");

    // The next run (a new instance) goes on from the last pass: one page of recent orders.
    let mut session = pos.session().await;
    let before = pos.count();
    let found = session
        .find_orders(&lookups(&["10044", "10045"]))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, booked.id);
    assert_eq!(
        pos.since(before),
        ["GET /orders"],
        "one page of recent orders"
    );
    // Remembered now: booking it again sends nothing.
    let again = session.create_orders(&[sub]).await.unwrap();
    assert_eq!(
        again[0].outcome.clone().unwrap().action,
        WriteAction::Unchanged
    );
    assert_eq!(pos.count(), before + 1);
    assert_eq!(by_marker(&pos, "WEB-10044").len(), 1);
}

#[tokio::test]
async fn an_order_whose_booking_never_arrived_is_booked_after_the_crash() {
    let pos = Pos::demo().await;
    let sub = one_mug(&pos, 3, "10046");
    let mut session = pos.session().await;
    let results = session.create_orders(&[sub]).await.unwrap();
    assert_eq!(
        results[0].outcome.clone().unwrap().action,
        WriteAction::Created
    );
    let asked: Vec<String> = pos.since(0);
    assert_eq!(
        &asked[..2],
        ["GET /orders", "POST /orders"],
        "looked for first, then booked"
    );
    assert_eq!(by_marker(&pos, "WEB-10046").len(), 1);
    let kept: Vec<String> = memory(&pos.kv)
        .keys()
        .filter(|k| k.starts_with("orders/"))
        .cloned()
        .collect();
    assert_eq!(
        kept,
        ["orders/booked/10046", "orders/scan"],
        "what CCV has, and how far it was read: no intent log of its own"
    );
}

#[tokio::test]
async fn an_order_remembered_longer_than_the_setting_is_forgotten_and_found_again_in_ccv() {
    let pos = Pos::demo().await;
    let sub = one_mug(&pos, 5, "10048");
    let booked = create_one(&mut pos.session().await, &sub).await;
    // Remembered as created 100 days ago, and every pass since then as read: more than the
    // default 90 days.
    let long_ago = now_ms() - 100 * 24 * 60 * 60 * 1000;
    {
        let mut map = memory(&pos.kv);
        let id: u64 = booked.id.parse().unwrap();
        map.insert(
            "orders/booked/10048".into(),
            json!({"id": id, "created": long_ago}).to_string(),
        );
        let mut scan: Value = serde_json::from_str(&map["orders/scan"]).unwrap();
        scan["from"] = json!(long_ago - 24 * 60 * 60 * 1000);
        map.insert("orders/scan".into(), scan.to_string());
    }

    let mut session = pos.session().await;
    let before = pos.count();
    let since = chrono::DateTime::from_timestamp_millis(long_ago as i64)
        .unwrap()
        .to_rfc3339();
    let found = session
        .find_orders(&[MarkerLookup {
            marker: "10048".into(),
            since,
        }])
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "forgotten, but CCV still has it");
    assert_eq!(found[0].id, booked.id);
    let passes = passes_since(&pos, before);
    assert_eq!(passes.len(), 1, "one pass: {passes:?}");
    let read_from = chrono::DateTime::parse_from_rfc3339(&passes[0]).unwrap();
    assert!(
        read_from.timestamp_millis() < long_ago as i64,
        "read from before the look-up's since, not from the last pass: {passes:?}"
    );
    let remembered: Value = serde_json::from_str(&memory(&pos.kv)["orders/booked/10048"]).unwrap();
    assert!(
        remembered["created"].as_u64().unwrap() > long_ago,
        "remembered again with CCV's create date: {remembered}"
    );
    let again = session.create_orders(&[sub]).await.unwrap();
    assert_eq!(
        again[0].outcome.clone().unwrap().action,
        WriteAction::Unchanged
    );
    assert_eq!(
        by_marker(&pos, "WEB-10048").len(),
        1,
        "never a second order"
    );
}

#[tokio::test]
async fn a_bad_order_fails_alone_and_leaves_nothing_to_reconcile() {
    let pos = Pos::demo().await;
    let user = pos.sim.add_user(&staff_customer(4)).to_string();
    let good = submission(
        &pos.sim,
        order(
            "20001",
            private("a@example.org"),
            vec![line("TB-MUG-01", 1, "12.50")],
        ),
        &user,
    );
    let missing = submission(
        &pos.sim,
        order(
            "20002",
            private("a@example.org"),
            vec![line("TB-POSTER-01", 1, "9.95")],
        ),
        &user,
    );
    let mut refused = good.clone();
    refused.order.number = "20003".into();
    refused.customer_id = "1".into(); // no such user: CCV refuses the order
    let mut session = pos.session().await;
    let results = session
        .create_orders(&[missing, refused, good])
        .await
        .unwrap();
    let PluginError::Invalid(problem) = results[0].outcome.clone().unwrap_err() else {
        panic!("{results:?}")
    };
    assert!(
        problem.message.contains("TB-POSTER-01"),
        "{}",
        problem.message
    );
    let PluginError::Invalid(problem) = results[1].outcome.clone().unwrap_err() else {
        panic!("{results:?}")
    };
    assert!(
        problem.message.contains("400.10") && problem.message.contains("user_id"),
        "{}",
        problem.message
    );
    assert!(results[2].outcome.is_ok());

    let before = pos.count();
    let found = session
        .find_orders(&lookups(&["20001", "20002", "20003"]))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(pos.count(), before, "nothing was left unanswered");
}
