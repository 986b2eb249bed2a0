//! Orders source: completeness across pages and equal timestamps, the payment state that
//! counts, incremental reading, drafts, and the canonical order.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::*;

/// A shop of `version` with `count` generated orders whose change times are equal in groups
/// of `group` (as a bulk import leaves them), so that page borders fall inside the groups.
async fn equal_times(version: ApiVersion, count: usize, group: usize) -> (Shop, tempfile::TempDir) {
    Shop::edited(version, Dataset::generated(60, count, 0.5, 7), |dump| {
        let mut order_times = std::collections::BTreeMap::new();
        for (i, order) in rows(dump, "order").iter_mut().enumerate() {
            let at = format!("2026-01-01T{:02}:00:00.000+00:00", 1 + i / group);
            order["createdAt"] = json!(at);
            order["orderDateTime"] = json!(at);
            order["updatedAt"] = Value::Null;
            order_times.insert(order["id"].as_str().unwrap().to_string(), at);
        }
        for transaction in rows(dump, "order_transaction") {
            let at = &order_times[transaction["orderId"].as_str().unwrap()];
            transaction["createdAt"] = json!(at);
            transaction["updatedAt"] = Value::Null;
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_hundred_orders_are_read_completely_across_pages_and_equal_timestamps() {
    for version in VERSIONS {
        let (shop, _dir) = equal_times(version, 1200, 120).await;
        let mut session = shop.session().await;
        let before = shop.requests();
        let (orders, cursor) = read_all(&mut session, query(None, &[], 50)).await.unwrap();
        let unique: BTreeSet<String> = orders.iter().map(|o| o.number.clone()).collect();
        assert_eq!(orders.len(), 1200, "{version}: every order once");
        assert_eq!(unique.len(), 1200, "{version}: none twice");
        assert_eq!(
            unique,
            (200_000..201_200).map(|n| n.to_string()).collect(),
            "{version}"
        );
        assert_eq!(
            shop.requests() - before,
            2 + 24,
            "{version}: a token, the version and one search per page of 50"
        );
        // The next sweep starts from the shop's clock (its Date header) when this one began.
        let state: Value = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
        let since = state["since"].as_str().unwrap();
        let now = shop.sim.journal().entries().last().unwrap().at;
        let lag = now - since.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert!(
            lag.num_seconds() < 10,
            "{version}: the sweep began at {since}"
        );
        // Nothing changed: the next sweep reads nothing, in one request.
        let before = shop.requests();
        let (again, _) = read_all(&mut session, query(cursor, &[], 50))
            .await
            .unwrap();
        assert!(again.is_empty(), "{version}: {:?}", numbers(&again));
        assert_eq!(shop.requests() - before, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latest_transaction_decides_whether_an_order_is_paid() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let (paid, cursor) = read_all(&mut session, query(None, &["paid"], 2))
            .await
            .unwrap();
        assert_eq!(
            numbers(&paid),
            ["10001", "10002", "10003", "10004", "10006"],
            "{version}: 10004 (cancelled, then paid) is paid; 10007 (paid, then cancelled) is not"
        );
        // An old order paid later, and a new order paid at once, are read next time.
        let old = shop.sim.order("10008").unwrap();
        let old_transaction = old["transactions"][0]["id"].as_str().unwrap().to_string();
        shop.sim
            .transition("order_transaction", &old_transaction, "paid")
            .unwrap();
        let placed = shop
            .sim
            .place_order(&ada(), &[("TB-MUG-01", 1)], "payment_paypal")
            .unwrap();
        shop.sim
            .transition("order_transaction", &placed.transaction_id, "paid")
            .unwrap();
        let (next, cursor) = read_all(&mut session, query(cursor, &["paid"], 50))
            .await
            .unwrap();
        assert_eq!(numbers(&next), ["10008", "10009"], "{version}");
        assert_eq!(
            next.iter()
                .find(|o| o.number == "10008")
                .unwrap()
                .payment_state,
            "paid"
        );
        // Its only paid transaction cancelled: the order changed, but it is not paid any more.
        shop.sim
            .transition("order_transaction", &placed.transaction_id, "cancel")
            .unwrap();
        let (after, cursor) = read_all(&mut session, query(cursor, &["paid"], 50))
            .await
            .unwrap();
        assert!(after.is_empty(), "{version}: {:?}", numbers(&after));
        // And nothing is read twice.
        let (quiet, _) = read_all(&mut session, query(cursor, &["paid"], 50))
            .await
            .unwrap();
        assert!(quiet.is_empty(), "{version}: {:?}", numbers(&quiet));
    }
}

/// The numbers of the paid orders a new session reads in one sweep.
async fn paid_numbers(shop: &Shop) -> Vec<String> {
    let mut session = shop.session().await;
    let (paid, _) = read_all(&mut session, query(None, &["paid"], 50))
        .await
        .unwrap();
    numbers(&paid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_6_7_the_primary_transaction_is_filtered_in_the_search() {
    let shop = Shop::demo(ApiVersion::V6_7).await;
    assert_eq!(
        paid_numbers(&shop).await,
        ["10001", "10002", "10003", "10004", "10006"]
    );
    let searches = shop
        .sim
        .journal()
        .writes_where(|e| e.path == "/api/search/order");
    let criteria = searches[0].body.as_ref().unwrap().to_string();
    assert!(criteria.contains("primaryOrderTransaction.stateMachineState.technicalName"));
}

/// 6.7 sets the primary transaction in the checkout only: an order written through the API
/// (an ERP, a marketplace, an import) has none (SW 6.8
/// `Migration1777952601BackfillPrimaryOrderTransaction`: "orders created during the 6.7
/// lifecycle via direct DAL writes that did not set primary_order_transaction_id"). Its latest
/// transaction counts: paid, it is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_6_7_an_order_without_a_primary_transaction_counts_by_its_latest() {
    let (shop, _dir) = Shop::edited(ApiVersion::V6_7, Dataset::demo(), |dump| {
        for order in rows(dump, "order") {
            if ["10001", "10007"].contains(&order["orderNumber"].as_str().unwrap()) {
                order["primaryOrderTransactionId"] = serde_json::Value::Null;
            }
        }
    })
    .await;
    assert_eq!(
        paid_numbers(&shop).await,
        ["10001", "10002", "10003", "10004", "10006"],
        "10001 is paid; 10007 (paid, then cancelled) is not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_states_and_payment_states_either_match() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let mut both = query(None, &["paid"], 50);
        both.order_states = vec!["cancelled".into()];
        let (orders, _) = read_all(&mut session, both).await.unwrap();
        assert_eq!(
            numbers(&orders),
            ["10001", "10002", "10003", "10004", "10005", "10006"],
            "{version}"
        );
        let mut open_only = query(None, &[], 50);
        open_only.order_states = vec!["in_progress".into()];
        let (orders, _) = read_all(&mut session, open_only).await.unwrap();
        assert_eq!(numbers(&orders), ["10002"], "{version}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_read_again_by_number_in_one_search_if_still_in_the_states() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        // Read once, so that the cursor is past them: by number they are read all the same.
        read_all(&mut session, query(None, &["paid"], 50))
            .await
            .unwrap();
        let mut again = query(None, &["paid"], 50);
        again.numbers = ["10006", "10007", "10001", "99999"]
            .map(String::from)
            .to_vec();
        let before = shop.requests_to("/api/search/order");
        let page = session.read_orders(&again).await.unwrap();
        assert_eq!(
            numbers(&page.orders),
            ["10001", "10006"],
            "{version}: 10007's payment was cancelled, 99999 does not exist"
        );
        let sanne = page.orders.iter().find(|o| o.number == "10006").unwrap();
        assert_eq!(
            sanne.customer.email, "sanne.bos@example.nl",
            "{version}: whole orders"
        );
        assert_eq!((page.cursor, page.more), (None, false), "{version}");
        assert_eq!(
            shop.requests_to("/api/search/order") - before,
            1,
            "{version}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_is_offered_the_shops_payment_methods_and_states() {
    let shop = Shop::demo(ApiVersion::V6_6).await;
    let mut session = shop.session().await;
    let ids = |choices: Vec<
        tillbridge::runtime::bindings::exports::tillbridge::plugin::connector::Choice,
    >| {
        choices
            .into_iter()
            .map(|c| c.id)
            .collect::<BTreeSet<String>>()
    };
    let methods = ids(session.choices(ChoiceList::PaymentMethods).await.unwrap());
    assert_eq!(
        methods,
        ["Credit card", "Invoice", "PayPal", "iDEAL"]
            .map(String::from)
            .into(),
        "by the name orders carry"
    );
    let payment = ids(session.choices(ChoiceList::PaymentStates).await.unwrap());
    assert!(
        payment.contains("paid") && payment.contains("refunded") && !payment.contains("completed"),
        "{payment:?}"
    );
    let order = ids(session.choices(ChoiceList::OrderStates).await.unwrap());
    assert!(
        order.contains("completed") && order.contains("in_progress") && !order.contains("paid"),
        "{order:?}"
    );
}

/// When an order last changed, as the shop's rows say (created, updated, a transaction).
fn changed(order: &Value) -> String {
    let mut times: Vec<String> = vec![order["createdAt"].clone(), order["updatedAt"].clone()]
        .into_iter()
        .chain(
            order["transactions"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|t| [t["createdAt"].clone(), t["updatedAt"].clone()]),
        )
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    times.sort();
    times.pop().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_date_leaves_older_orders_out() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let since = shop.sim.order("10007").unwrap()["createdAt"]
            .as_str()
            .unwrap()
            .to_string();
        let expected: Vec<String> = (10001..=10008)
            .map(|n| n.to_string())
            .filter(|n| changed(&shop.sim.order(n).unwrap()) >= since)
            .collect();
        assert!(expected.len() < 8 && expected.contains(&"10008".to_string()));
        let mut recent = query(None, &[], 50);
        recent.changed_since = Some(since);
        let (orders, _) = read_all(&mut session, recent).await.unwrap();
        assert_eq!(numbers(&orders), expected, "{version}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_never_leak_into_what_is_read() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        shop.sim.open_in_admin(&keys::order("10001")).unwrap();
        let mut session = shop.session().await;
        let (orders, _) = read_all(&mut session, query(None, &[], 50)).await.unwrap();
        assert_eq!(
            orders.len(),
            8,
            "{version}: one of each order, drafts are not orders"
        );
        let draft_edited = orders.iter().find(|o| o.number == "10002").unwrap();
        assert_eq!(
            draft_edited.comment, None,
            "{version}: the Admin's unsaved draft comment is not live"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_become_canonical_with_split_streets_and_companies() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let mut session = shop.session().await;
        let (orders, _) = read_all(&mut session, query(None, &[], 50)).await.unwrap();
        let order = |n: &str| orders.iter().find(|o| o.number == n).unwrap().clone();
        let ada = order("10001");
        assert_eq!(ada.billing_address.street, "Dorpsstraat");
        assert_eq!(ada.billing_address.house_number.as_deref(), Some("12"));
        assert_eq!(
            ada.billing_address.house_number_suffix.as_deref(),
            Some("a")
        );
        assert_eq!(ada.billing_address.country, "NL");
        assert_eq!(ada.customer.email, "ada.jansen@example.nl");
        assert!(ada.customer.company.is_none(), "a private customer");
        assert_eq!(ada.currency, "EUR");
        assert_eq!(ada.sales_channel.as_deref(), Some("Tillbridge Storefront"));
        assert_eq!(ada.payment_method.as_deref(), Some("PayPal"));
        assert_eq!(ada.totals.gross, "50.85");
        assert!(ada.prices_include_tax);
        let skus: Vec<_> = ada.lines.iter().map(|l| l.sku.clone().unwrap()).collect();
        assert_eq!(skus, ["TB-MUG-01", "TB-TEE-M-RED"]);
        assert_eq!(ada.lines[1].unit_price, "24.95");
        assert_eq!(ada.lines[1].tax_rate, "21");
        let business = order("10002");
        let company = business.customer.company.unwrap();
        assert_eq!(company.name, "Bakkerij De Vries B.V.");
        assert_eq!(company.vat_number.as_deref(), Some("NL812345678B01"));
        let belgian = order("10004").billing_address;
        assert_eq!(
            (
                belgian.street.as_str(),
                belgian.house_number.as_deref(),
                belgian.house_number_suffix.as_deref()
            ),
            ("Meir", Some("45"), Some("bus 2"))
        );
        assert_eq!(order("10005").order_state, "cancelled");
        assert_eq!(order("10007").payment_state, "cancelled");
        assert_eq!(order("10004").shipping_address.unwrap().city, "Antwerpen");
    }
}
