//! Prices follow the shop's VAT convention and currency, which CCV keeps in the webshop's settings
//! (`GET /webshops/:id/settings`), not on the webshop.

use tillbridge::runtime::bindings::exports::tillbridge::plugin::products_source::ProductQuery;
use tillbridge_sim::ccv::{CcvOptions, Seed};
use tillbridge_sim::dataset::Dataset;

use super::support::Pos;
use super::support::records::{
    line, order, private, product, product_write, staff_customer, submission,
};

/// The demo POS, keeping its prices excluding VAT.
async fn net_pos() -> Pos {
    Pos::start(CcvOptions {
        seed: Seed::Dataset(Dataset {
            pos_prices_include_vat: false,
            ..Dataset::demo()
        }),
        ..CcvOptions::default()
    })
    .await
}

#[tokio::test]
async fn a_shop_that_keeps_prices_excluding_vat_gets_and_gives_net_prices() {
    let pos = net_pos().await;
    let mut session = pos.session().await;
    let said = session.check().await.unwrap();
    assert!(said.contains("prices exclude VAT"), "{said}");

    // 24.20 including 21% VAT is written as 20, not 24.20 (21% too high).
    let written = session
        .write_products(&[product_write(product("NET-1", "24.20", 3), None, &[])])
        .await
        .unwrap();
    let id = written[0].outcome.clone().unwrap().id;
    assert_eq!(pos.dump()["products"][&id]["price"], "20");

    // Read back: the mug's CCV price 10.7025 is net, and says so.
    let page = session
        .read_products(&ProductQuery {
            cursor: None,
            changed_since: None,
            skus: vec!["TB-MUG-01".into()],
            properties: vec![],
            limit: 10,
        })
        .await
        .unwrap();
    let price = &page.products[0].prices[0];
    assert_eq!(
        (
            price.amount.as_str(),
            price.includes_tax,
            price.currency.as_str()
        ),
        ("10.7025", false, "EUR")
    );
}

#[tokio::test]
async fn an_order_booked_in_such_a_shop_costs_what_the_customer_paid() {
    let pos = net_pos().await;
    let user = pos.sim.add_user(&staff_customer(1)).to_string();
    let mut session = pos.session().await;
    // Two mugs at 12.50 including VAT and 4.95 shipping including VAT.
    let sub = submission(
        &pos.sim,
        order(
            "10042",
            private("ada@example.org"),
            vec![line("TB-MUG-01", 2, "12.50")],
        ),
        &user,
    );
    let results = session.create_orders(&[sub]).await.unwrap();
    let id = results[0].outcome.clone().unwrap().id;
    let booked = pos
        .sim
        .dump()
        .get("orders")
        .and_then(|o| o.get(&id))
        .cloned()
        .unwrap();
    assert_eq!(booked["order_row_taxes_included"], true, "{booked}");
    assert_eq!(booked["shipping_taxes_included"], true, "{booked}");
    assert_eq!(booked["rows"][0]["price"], "12.5");
}
