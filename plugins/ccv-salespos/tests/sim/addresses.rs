//! Addresses go to CCV in one form, street and house number, with nothing lost.

use super::support::Pos;
use super::support::records::{line, order, private, submission, write};

#[tokio::test]
async fn an_address_with_a_further_line_is_sent_in_one_form_and_keeps_the_line() {
    let pos = Pos::demo().await;
    let mut session = pos.session().await;
    let mut customer = private("ada@example.org");
    if let Some(billing) = customer.billing_address.as_mut() {
        billing.additional_line = Some("c/o Bakkerij De Vries".into());
    }
    let written = session
        .write_customers(&[write(customer.clone(), None)])
        .await
        .unwrap();
    let id = written[0]
        .outcome
        .clone()
        .expect("CCV takes the address")
        .id;
    let user = &pos.dump()["users"][&id];
    let billing = &user["userinfo"]["billingaddress"];
    assert_eq!(billing["street"], "Dorpsstraat");
    assert_eq!(billing["housenumber"], 12);
    assert_eq!(billing["housenumber_suffix"], "a");
    assert!(billing["address_line_1"].is_null() && billing["address_line_2"].is_null());
    assert_eq!(
        billing["comment"], "c/o Bakkerij De Vries",
        "the line is kept"
    );

    // An order with that address is booked too.
    let the_order = order("10081", customer, vec![line("TB-MUG-01", 1, "12.50")]);
    let results = session
        .create_orders(&[submission(&pos.sim, the_order, &id)])
        .await
        .unwrap();
    assert!(results[0].outcome.is_ok(), "{results:?}");
}

#[tokio::test]
async fn a_customer_staff_entered_in_address_lines_is_switched_to_the_street_form() {
    let pos = Pos::demo().await;
    let mut session = pos.session().await;
    let customer = private("ada@example.org");
    let id = session
        .write_customers(&[write(customer.clone(), None)])
        .await
        .unwrap()[0]
        .outcome
        .clone()
        .unwrap()
        .id;
    pos.sim
        .edit_user_address(id.parse().unwrap(), "Dorpsstraat 12a", "3e verdieping")
        .unwrap();
    let updated = session
        .write_customers(&[write(customer, Some(&id))])
        .await
        .unwrap();
    assert!(updated[0].outcome.is_ok(), "{updated:?}");
    let billing = pos.dump()["users"][&id]["userinfo"]["billingaddress"].clone();
    assert_eq!(billing["street"], "Dorpsstraat");
    assert!(billing["address_line_1"].is_null(), "{billing}");
}
