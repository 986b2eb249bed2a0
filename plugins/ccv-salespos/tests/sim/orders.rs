//! Orders booked with their rows and marker, found again after a crash, never booked twice.

use tillbridge::runtime::Kv;
use tillbridge::runtime::bindings::tillbridge::plugin::types::{PluginError, WriteAction};

use super::support::records::{
    business, configurable, line, order, price, private, product_write, staff_customer, submission,
    write,
};
use super::support::{Pos, assert_all_signed};

/// The order in the simulator's state with this marker.
fn by_marker(pos: &Pos, marker: &str) -> Vec<serde_json::Value> {
    pos.dump()["orders"]
        .as_object()
        .unwrap()
        .values()
        .filter(|o| o["reservationnumber"] == marker)
        .cloned()
        .collect()
}

/// What a crash between "sent" and "answer recorded" leaves: the intent, no booking.
fn forget_the_answer(kv: &Kv, number: &str, sent_ms_ago: u64) {
    let Kv::Memory(map) = kv else {
        panic!("tests keep kv in memory")
    };
    let mut map = map.lock().unwrap();
    map.remove(&format!("orders/booked/{number}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    map.insert(
        format!("orders/intent/{number}"),
        (now - sent_ms_ago).to_string(),
    );
}

#[tokio::test]
async fn a_business_order_is_booked_with_its_customer_rows_marker_and_note() {
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
    assert_eq!(
        pos.since(before),
        [
            "GET /webshops",
            &format!("GET /products/{}/attributecombinations", tee.product_id),
            "POST /orders",
            "GET /paymethods",
            &format!("PATCH /orders/{}", booked.id)
        ],
        "the variant's surcharge is read before booking"
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
    let note = o["notes"][0].as_str().unwrap();
    assert!(
        note.contains("Payment method: PayPal (CCV payment method 2)"),
        "{note}"
    );
    assert!(note.contains("Shipping method: PostNL"), "{note}");
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
    let found = later
        .find_orders(&["10043".into(), "99999".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].number.as_str(), found[0].id.as_str()),
        ("10043", id.as_str())
    );
    let again = later.create_orders(&[sub]).await.unwrap();
    let again = again[0].outcome.clone().unwrap();
    assert_eq!((again.id, again.action), (id, WriteAction::Unchanged));
    assert_eq!(pos.count(), before, "no request: {:?}", pos.since(before));
    assert_eq!(by_marker(&pos, "WEB-10043").len(), 1);
}

#[tokio::test]
async fn an_order_booked_moments_before_a_crash_is_found_with_one_read() {
    let pos = Pos::demo().await;
    let user = pos.sim.add_user(&staff_customer(2)).to_string();
    let mut session = pos.session().await;
    // Other sales, before and after.
    for sku in ["TB-MUG-01", "TB-BOOK-01"] {
        pos.sim.sell(sku, 1).unwrap();
    }
    let sub = submission(
        &pos.sim,
        order(
            "10044",
            private("ada@example.org"),
            vec![line("TB-MUG-01", 1, "12.50")],
        ),
        &user,
    );
    let booked = session
        .create_orders(std::slice::from_ref(&sub))
        .await
        .unwrap()[0]
        .outcome
        .clone()
        .unwrap();
    pos.sim.sell("TB-MUG-01", 1).unwrap();
    forget_the_answer(&pos.kv, "10044", 2_000);

    let before = pos.count();
    let mut after_crash = pos.session().await;
    let found = after_crash
        .find_orders(&["10044".into(), "10045".into()])
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
    let again = after_crash.create_orders(&[sub]).await.unwrap();
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
    let user = pos.sim.add_user(&staff_customer(3)).to_string();
    forget_the_answer(&pos.kv, "10046", 5_000);
    let sub = submission(
        &pos.sim,
        order(
            "10046",
            private("ada@example.org"),
            vec![line("TB-MUG-01", 1, "12.50")],
        ),
        &user,
    );
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
        .find_orders(&["20001".into(), "20002".into(), "20003".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(pos.count(), before, "nothing was left unsettled");
}
