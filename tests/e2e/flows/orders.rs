//! FLOWS.md §1: orders, webshop → point of sale, one test per numbered point.

use serde_json::Value;
use tillbridge::flows::RunReport;
use tillbridge::state::Outcome;
use tillbridge_sim::common::Fault;
use tillbridge_sim::dataset::Dataset;

use super::harness::{Pair, finished, keys};

pub(super) const ORDERS: &str = r#"
[flows.orders]
kind = "orders"
source = "shop"
target = "pos"
settings = { payment_states = ["paid"] }
"#;

pub(super) fn with_settings(settings: &str) -> String {
    ORDERS.replace(
        "settings = { payment_states = [\"paid\"] }",
        &format!("settings = {{ {settings} }}"),
    )
}

pub(super) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The e-mail addresses of the point of sale's users.
pub(super) fn user_emails(pair: &Pair) -> Vec<String> {
    let mut emails: Vec<String> = pair
        .pos_users()
        .iter()
        .filter_map(|u| u["userinfo"]["email"].as_str().map(str::to_lowercase))
        .collect();
    emails.sort();
    emails
}

/// Whether no order of the orders flow waits (parked or failed).
fn nothing_waits(pair: &Pair) -> bool {
    pair.state
        .read()
        .unwrap()
        .pending("orders")
        .unwrap()
        .is_empty()
}

fn user(pair: &Pair, email: &str) -> Value {
    let mut found: Vec<Value> = pair
        .pos_users()
        .into_iter()
        .filter(|u| {
            u["userinfo"]["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .collect();
    assert_eq!(found.len(), 1, "exactly one user with {email}: {found:?}");
    found.remove(0)
}

#[tokio::test]
async fn flows_1_1_only_orders_in_the_chosen_statuses_are_sent_judged_by_the_latest_transaction() {
    let pair = Pair::demo(ORDERS).await;
    let report = pair.run("orders").await;
    finished(&report);
    // 10004: a cancelled transaction, then a paid one → paid. 10007: paid, then cancelled → not.
    assert_eq!(
        keys(&report, "order", Outcome::Created),
        strings(&["10001", "10002", "10003", "10004"])
    );
    assert_eq!(keys(&report, "order", Outcome::Parked), strings(&["10006"]));
    for number in ["10005", "10007", "10008"] {
        assert!(
            pair.pos_order(number).is_none(),
            "{number} must not be sent"
        );
        assert!(
            report.entries.iter().all(|e| e.key != number),
            "{number} is not even read"
        );
    }

    // Order states instead of payment states: only the order in progress.
    let pair = Pair::demo(&with_settings(
        "order_states = [\"in_progress\"], payment_states = []",
    ))
    .await;
    let report = pair.run("orders").await;
    assert_eq!(
        keys(&report, "order", Outcome::Created),
        strings(&["10002"])
    );
}

#[tokio::test]
async fn flows_1_2_a_start_date_and_a_cursor_that_moves_only_after_the_target_has_the_orders() {
    // Orders placed before the start date (10001: 72 h ago, 10002: 50 h ago) are never fetched.
    let start = (chrono::Utc::now() - chrono::Duration::hours(40)).to_rfc3339();
    let pair = Pair::demo(&with_settings(&format!(
        "payment_states = [\"paid\"], start_date = \"{start}\", retry_after_secs = 0"
    )))
    .await;
    let first = pair.run("orders").await;
    assert_eq!(
        keys(&first, "order", Outcome::Created),
        strings(&["10003", "10004"])
    );
    assert!(pair.pos_order("10001").is_none() && pair.pos_order("10002").is_none());

    // Incremental: the next run reads only what changed since.
    let ada = Dataset::demo()
        .customers
        .into_iter()
        .find(|c| c.email == "ada.jansen@example.nl")
        .unwrap();
    let placed = pair
        .shop
        .place_order(&ada, &[("TB-BOOK-01", 1)], "payment_paypal")
        .unwrap();
    pair.shop
        .transition("order_transaction", &placed.transaction_id, "paid")
        .unwrap();
    let second = pair.run("orders").await;
    assert_eq!(
        keys(&second, "order", Outcome::Created),
        vec![placed.number.clone()]
    );
    assert!(
        second.entries.iter().all(|e| e.key != "10003"),
        "orders before the cursor are not read again"
    );

    // The target refuses for a while: the cursor stays, and the order is sent by a later run, once.
    let again = pair
        .shop
        .place_order(&ada, &[("TB-MUG-01", 1)], "payment_paypal")
        .unwrap();
    pair.shop
        .transition("order_transaction", &again.transaction_id, "paid")
        .unwrap();
    pair.pos.faults().add(
        Fault::status("/api/rest/v1/orders*", 503)
            .method("POST")
            .times(1),
    );
    let refused = pair.run("orders").await;
    assert_eq!(
        keys(&refused, "order", Outcome::Failed),
        vec![again.number.clone()]
    );
    assert!(pair.pos_order(&again.number).is_none());
    let retried = pair.run("orders").await;
    assert_eq!(
        keys(&retried, "order", Outcome::Created),
        vec![again.number.clone()]
    );
    assert_eq!(
        pair.pos_orders()
            .iter()
            .filter(|o| o["reservationnumber"]
                .as_str()
                .is_some_and(|r| r.contains(&again.number)))
            .count(),
        1
    );
}

#[tokio::test]
async fn flows_1_3_a_batch_size_caps_the_orders_of_one_run() {
    let pair = Pair::demo(&with_settings(
        "payment_states = [\"paid\"], batch_size = 2",
    ))
    .await;
    assert_eq!(
        keys(&pair.run("orders").await, "order", Outcome::Created),
        strings(&["10001", "10002"])
    );
    assert_eq!(
        keys(&pair.run("orders").await, "order", Outcome::Created),
        strings(&["10003", "10004"])
    );
    let third = pair.run("orders").await;
    assert_eq!(keys(&third, "order", Outcome::Parked), strings(&["10006"]));
    assert!(keys(&third, "order", Outcome::Created).is_empty());
}

#[tokio::test]
async fn flows_1_3_the_batch_size_counts_waiting_orders_sent_again() {
    let flows = format!(
        "{}\n[flows.products]\nkind = \"products\"\nsource = \"shop\"\ntarget = \"pos\"\n",
        with_settings("payment_states = [\"paid\"], batch_size = 2")
    );
    let pair = Pair::demo(&flows).await;
    finished(&pair.run("orders").await);
    finished(&pair.run("orders").await);
    let third = pair.run("orders").await;
    assert_eq!(keys(&third, "order", Outcome::Parked), strings(&["10006"]));
    // Two new paid orders, and the product 10006 waits for: three orders could go now.
    let ada = Dataset::demo()
        .customers
        .into_iter()
        .find(|c| c.email == "ada.jansen@example.nl")
        .unwrap();
    let mut placed = Vec::new();
    for sku in ["TB-BOOK-01", "TB-MUG-01"] {
        let order = pair
            .shop
            .place_order(&ada, &[(sku, 1)], "payment_paypal")
            .unwrap();
        pair.shop
            .transition("order_transaction", &order.transaction_id, "paid")
            .unwrap();
        placed.push(order.number);
    }
    finished(&pair.run("products").await);
    let booked = pair.pos_orders().len();

    let fourth = pair.run("orders").await;
    finished(&fourth);
    assert_eq!(
        pair.pos_orders().len() - booked,
        2,
        "a run sends at most batch_size orders, the waiting one included"
    );
    assert_eq!(
        keys(&fourth, "order", Outcome::Created),
        strings(&["10006", placed[0].as_str()]),
        "the waiting order goes first, then the oldest new one"
    );
    let fifth = pair.run("orders").await;
    assert_eq!(
        keys(&fifth, "order", Outcome::Created),
        vec![placed[1].clone()],
        "the rest goes with the next run"
    );
    for number in ["10006", placed[0].as_str(), placed[1].as_str()] {
        assert!(pair.pos_order(number).is_some(), "{number} is booked");
    }
}

#[tokio::test]
async fn flows_1_4_orders_are_enriched_with_the_target_store() {
    let pair = Pair::demo(&with_settings(
        "payment_states = [\"paid\"], store_map = { \"Tillbridge Storefront\" = \"Utrecht shop\" }",
    ))
    .await;
    finished(&pair.run("orders").await);
    let notes = pair.pos_order_notes("10001");
    assert!(
        notes.iter().any(|n| n.contains("Store: Utrecht shop")),
        "the store reaches the point of sale's staff: {notes:?}"
    );
}

#[tokio::test]
async fn flows_1_5_1_an_order_already_in_the_target_is_skipped_also_on_the_next_run() {
    let pair = Pair::demo(ORDERS).await;
    finished(&pair.run("orders").await);
    let orders = pair.pos_orders().len();
    let writes = pair.pos_writes();
    let second = pair.run("orders").await;
    finished(&second);
    assert!(keys(&second, "order", Outcome::Created).is_empty());
    assert_eq!(pair.pos_orders().len(), orders, "nothing booked twice");
    assert_eq!(pair.pos_writes(), writes, "the second run writes nothing");
}

#[tokio::test]
async fn flows_1_5_2_customers_are_matched_by_e_mail_and_updated_or_created() {
    let pair = Pair::demo(ORDERS).await;
    let before = user(&pair, "sanne.bos@example.nl");
    assert_eq!(
        before["userinfo"]["billingaddress"]["street"], "Oude Gracht",
        "the POS has Sanne's old address"
    );
    let report = pair.run("orders").await;
    finished(&report);
    let sanne = user(&pair, "sanne.bos@example.nl");
    assert_eq!(
        sanne["id"], before["id"],
        "the existing customer is updated, not duplicated"
    );
    assert_eq!(sanne["userinfo"]["billingaddress"]["street"], "Kerkweg");
    assert_eq!(
        keys(&report, "customer", Outcome::Updated),
        strings(&["sanne.bos@example.nl"])
    );
    for email in [
        "ada.jansen@example.nl",
        "inkoop@bakkerij-devries.nl",
        "lucas.peeters@example.be",
    ] {
        assert!(
            user_emails(&pair).contains(&email.to_string()),
            "{email} is created"
        );
    }
    assert_eq!(
        pair.pos_order("10003").unwrap()["user_id"],
        sanne["id"],
        "the order is booked on the matched customer"
    );
}

#[tokio::test]
async fn flows_1_5_3_a_company_makes_a_business_debtor_with_a_contact_person() {
    let pair = Pair::demo(ORDERS).await;
    finished(&pair.run("orders").await);
    let bakery = user(&pair, "inkoop@bakkerij-devries.nl");
    let info = &bakery["userinfo"];
    assert_eq!(info["customertype"], "b2b");
    assert_eq!(info["billingaddress"]["company"], "Bakkerij De Vries B.V.");
    assert_eq!(
        info["billingaddress"]["first_name"], "Pieter",
        "the contact person"
    );
    assert_eq!(info["billingaddress"]["last_name"], "de Vries");
    let ada = user(&pair, "ada.jansen@example.nl");
    assert_eq!(
        ada["userinfo"]["customertype"], "b2c",
        "without a company: a private debtor"
    );
}

#[tokio::test]
async fn flows_1_5_4_a_default_debtor_takes_every_order() {
    let probe = Pair::demo(ORDERS).await;
    let sanne_id = user(&probe, "sanne.bos@example.nl")["id"].to_string();
    drop(probe);
    let pair = Pair::demo(&with_settings(&format!(
        "payment_states = [\"paid\"], default_debtor = \"{sanne_id}\""
    )))
    .await;
    let users = pair.pos_users().len();
    let report = pair.run("orders").await;
    finished(&report);
    assert_eq!(keys(&report, "order", Outcome::Created).len(), 4);
    assert_eq!(pair.pos_users().len(), users, "no customers are created");
    for number in ["10001", "10002", "10003", "10004"] {
        assert_eq!(
            pair.pos_order(number).unwrap()["user_id"].to_string(),
            sanne_id,
            "{number} is booked on the default debtor"
        );
    }
}

/// The demo pair with an orders and a products flow, after an orders run: 10006 waits for
/// TB-POSTER-01, which the point of sale lacks.
async fn waiting_for_the_poster() -> (Pair, RunReport) {
    let flows = format!(
        "{ORDERS}\n[flows.products]\nkind = \"products\"\nsource = \"shop\"\ntarget = \"pos\"\n"
    );
    let pair = Pair::demo(&flows).await;
    let first = pair.run("orders").await;
    assert_eq!(keys(&first, "order", Outcome::Parked), strings(&["10006"]));
    (pair, first)
}

#[tokio::test]
async fn flows_1_5_5_an_order_waits_until_all_its_products_exist_then_goes_by_itself() {
    let (pair, first) = waiting_for_the_poster().await;
    assert!(pair.pos_order("10006").is_none(), "not half-sent");
    let parked = first.entries.iter().find(|e| e.key == "10006").unwrap();
    assert!(
        parked.message.contains("TB-POSTER-01"),
        "says what it waits for: {}",
        parked.message
    );
    let found = pair
        .state
        .read()
        .unwrap()
        .search_activity("10006", 10)
        .unwrap();
    // The search also finds records whose message holds the number (a CCV id of 10006).
    let order = found.iter().find(|e| e.key == "10006").unwrap();
    assert_eq!(
        order.outcome,
        Outcome::Parked,
        "visible in the activity log"
    );

    // Still missing: tried again, not logged again, not sent.
    let waiting = pair.run("orders").await;
    assert!(
        waiting
            .entries
            .iter()
            .all(|e| e.key != "10006" || e.outcome == Outcome::Parked)
    );
    assert!(pair.pos_order("10006").is_none());

    finished(&pair.run("products").await);
    let after = pair.run("orders").await;
    assert_eq!(
        keys(&after, "order", Outcome::Created),
        strings(&["10006"]),
        "sent by the first run after the product exists"
    );
    let order = pair.pos_order("10006").unwrap();
    assert_eq!(
        order["rows"].as_array().unwrap().len(),
        2,
        "with every line"
    );
    assert!(nothing_waits(&pair), "no order waits any more");
}

#[tokio::test]
async fn flows_1_6_payment_methods_and_conditions_are_mapped() {
    let pair = Pair::demo(&with_settings(
        "payment_states = [\"paid\"], payment_methods = { \"PayPal\" = \"2\", \"Invoice\" = \"3\" }, payment_conditions = { \"Invoice\" = \"14 days\" }",
    ))
    .await;
    finished(&pair.run("orders").await);
    let paypal = pair.pos_order_notes("10001").join("\n");
    assert!(paypal.contains("Payment method: PayPal"), "{paypal}");
    let invoice = pair.pos_order_notes("10002").join("\n");
    assert!(
        invoice.contains("Payment condition: 14 days"),
        "the payment condition reaches the point of sale's staff: {invoice}"
    );

    // With the payment-map transform instead of a value map.
    let pair = Pair::demo(&format!("{ORDERS}transforms = [\"payment-map\"]\n")).await;
    let report = pair.run("orders").await;
    finished(&report);
    let sent = pair.logged(&report, "order", "10001");
    assert_eq!(
        sent.sent.as_ref().unwrap()["order"]["payment_method"],
        "2",
        "the transform mapped PayPal to 2"
    );
}

/// Transforms run in the order flows.toml lists them: a record the first drops goes no further,
/// and the second sees only the records still kept, each answer landing on its own order.
#[tokio::test]
async fn a_chain_of_transforms_hands_on_only_what_each_kept() {
    let mut pair = Pair::demo(&format!(
        "{ORDERS}transforms = [\"payment-map\", \"sku-rewrite\"]\n\n[plugins.sku-rewrite]\nfile = \"builtin:sku-rewrite\"\nsettings = {{ skip = [\"^TB-MUG\"] }}\n"
    ))
    .await;
    pair.reconfigure(|text| {
        text.replace(
            r#"settings = { map = { "PayPal" = "2", "Invoice" = "3", "Credit card" = "4", "iDEAL" = "1" } }"#,
            r#"settings = { map = { "PayPal" = "2", "Credit card" = "4", "iDEAL" = "1" }, unmapped = "drop" }"#,
        )
    });
    let report = pair.run("orders").await;
    finished(&report);

    let invoice = pair.logged(&report, "order", "10002");
    assert_eq!(invoice.outcome, Outcome::Skipped, "{}", invoice.message);
    assert!(
        invoice.message.contains("payment-map") && invoice.message.contains("Invoice"),
        "the drop says which transform and why: {}",
        invoice.message
    );
    assert!(
        pair.pos_order("10002").is_none(),
        "a dropped order is not booked"
    );

    let skus = |number: &str| -> Vec<String> {
        let order = pair.pos_order(number).expect("booked");
        order["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let sku = &r["sub_sku_number"];
                let sku = if sku.is_string() {
                    sku
                } else {
                    &r["product_number"]
                };
                sku.as_str().unwrap_or_default().to_string()
            })
            .collect()
    };
    assert_eq!(
        skus("10001"),
        ["TB-TEE-M-RED"],
        "sku-rewrite took the mug line out of the PayPal order"
    );
    assert_eq!(
        pair.logged(&report, "order", "10001")
            .sent
            .as_ref()
            .unwrap()["order"]["payment_method"],
        "2",
        "and payment-map's answer stayed on that order"
    );
    let mut candle_order = skus("10003");
    candle_order.sort();
    assert_eq!(candle_order, ["TB-CANDLE-01", "TB-TEE-L-BLUE"]);
}

#[tokio::test]
async fn flows_1_7_the_default_mapping_carries_name_addresses_and_lines() {
    let pair = Pair::demo(ORDERS).await;
    finished(&pair.run("orders").await);
    let order = pair.pos_order("10001").unwrap();
    let billing = &order["customer"]["billingaddress"];
    assert_eq!(billing["first_name"], "Ada");
    assert_eq!(billing["last_name"], "Jansen");
    assert_eq!(billing["street"], "Dorpsstraat");
    assert_eq!(billing["housenumber"], 12);
    assert_eq!(billing["housenumber_suffix"], "a");
    assert_eq!(billing["zipcode"], "3512 AB");
    assert_eq!(billing["city"], "Utrecht");
    assert_eq!(billing["country_code"], "NL");
    assert_eq!(
        order["customer"]["deliveryaddress"]["street"], "Dorpsstraat",
        "the shipping address too"
    );
    let rows = order["rows"].as_array().unwrap();
    let mug = rows
        .iter()
        .find(|r| r["product_number"] == "TB-MUG-01")
        .expect("a row per line");
    assert_eq!(mug["count"].to_string().trim_matches('"'), "2");
    assert_eq!(mug["price"].to_string().trim_matches('"'), "12.95");
    let tee = rows
        .iter()
        .find(|r| r["sub_sku_number"] == "TB-TEE-M-RED" || r["product_number"] == "TB-TEE-M-RED")
        .expect("the variant line");
    assert!(
        !tee["attribute_combination_id"].is_null(),
        "a variant is booked by its combination"
    );
}

#[tokio::test]
async fn flows_1_5_5_a_waiting_order_keeps_only_its_number_and_is_read_again_before_it_goes() {
    let (pair, _) = waiting_for_the_poster().await;
    let waiting = pair.state.read().unwrap().pending("orders").unwrap();
    let order = pair.shop.order("10006").unwrap();
    assert_eq!(
        waiting[0].record,
        serde_json::json!({ "number": "10006", "id": order["id"] }),
        "only what reading the order again needs: no customer, no address"
    );

    // The payment is refunded while the order waits: read again, it is no longer paid.
    let transaction = order["transactions"][0]["id"].as_str().unwrap();
    pair.shop
        .transition("order_transaction", transaction, "refund")
        .unwrap();
    finished(&pair.run("products").await);
    let after = pair.run("orders").await;
    finished(&after);
    assert_eq!(keys(&after, "order", Outcome::Skipped), strings(&["10006"]));
    let skipped = after.entries.iter().find(|e| e.key == "10006").unwrap();
    assert!(
        skipped.message.contains("no longer"),
        "says why: {}",
        skipped.message
    );
    assert!(
        pair.pos_order("10006").is_none(),
        "a refunded order is not booked"
    );
    assert!(nothing_waits(&pair), "no order waits any more");
}
