//! Customers found by e-mail through the remembered index, written as business or private
//! customers, never duplicated.

use serde_json::Value;
use tillbridge::runtime::bindings::tillbridge::plugin::types::WriteAction;

use super::support::records::{business, private, staff_customer, write};
use super::support::{Pos, assert_all_signed};

fn user<'a>(dump: &'a Value, id: &str) -> &'a Value {
    &dump["users"][id]
}

#[tokio::test]
async fn lookups_after_the_first_cost_no_more_requests_than_the_first() {
    let pos = Pos::empty().await;
    for i in 0..600 {
        pos.sim.add_user(&staff_customer(i));
    }
    let mut session = pos.session().await;
    let first = session
        .find_customers(&["walk-in0@example.org".into()])
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let first_cost = pos.count();
    assert_eq!(
        first_cost,
        3,
        "600 users are 3 pages of 250: {:?}",
        pos.since(0)
    );

    // 200 more look-ups, one at a time, half of them in a later run.
    for i in 1..=200 {
        if i == 100 {
            session = pos.session().await;
        }
        let email = format!("Walk-In{i}@Example.org");
        let found = session
            .find_customers(std::slice::from_ref(&email))
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{email}");
        assert_eq!(found[0].email, email, "answered as asked");
    }
    let later_cost = pos.count() - first_cost;
    assert!(later_cost <= first_cost, "{later_cost} > {first_cost}");
    assert_eq!(later_cost, 0, "{:?}", pos.since(first_cost));
    assert_all_signed(&pos);
}

#[tokio::test]
async fn a_customer_created_outside_tillbridge_is_still_found() {
    let pos = Pos::empty().await;
    for i in 0..300 {
        pos.sim.add_user(&staff_customer(i));
    }
    let mut session = pos.session().await;
    session
        .find_customers(&["walk-in1@example.org".into()])
        .await
        .unwrap();
    let before = pos.count();

    let id = pos.sim.add_user(&staff_customer(1_000));
    let found = session
        .find_customers(&[
            "walk-in1000@example.org".into(),
            "nobody@example.org".into(),
        ])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, id.to_string());
    assert_eq!(
        pos.since(before),
        ["GET /users"],
        "one read of the newest users"
    );

    // Now indexed: no request, even in a new run.
    let mut later = pos.session().await;
    let again = later
        .find_customers(&["walk-in1000@example.org".into()])
        .await
        .unwrap();
    assert_eq!(again[0].id, id.to_string());
    assert_eq!(pos.count(), before + 1);
}

#[tokio::test]
async fn a_company_makes_a_business_customer_with_its_contact_person() {
    let pos = Pos::empty().await;
    let mut session = pos.session().await;
    let results = session
        .write_customers(&[
            write(business("buyer@acme.example"), None),
            write(private("ada@example.org"), None),
        ])
        .await
        .unwrap();
    let ids: Vec<String> = results
        .iter()
        .map(|r| {
            let written = r.outcome.clone().unwrap();
            assert_eq!(written.action, WriteAction::Created);
            written.id
        })
        .collect();
    let dump = pos.dump();

    let info = &user(&dump, &ids[0])["userinfo"];
    assert_eq!(info["customertype"], "b2b");
    assert_eq!(info["kvk"], "12345678");
    assert_eq!(info["btw"], "NL001234567B01");
    assert_eq!(info["billingaddress"]["company"], "Acme B.V.");
    assert_eq!(
        info["billingaddress"]["first_name"], "Piet",
        "the contact person"
    );
    assert_eq!(info["billingaddress"]["last_name"], "de Vries");
    assert_eq!(info["billingaddress"]["housenumber"], 12);
    assert_eq!(info["billingaddress"]["housenumber_suffix"], "a");

    let info = &user(&dump, &ids[1])["userinfo"];
    assert_eq!(info["customertype"], "b2c");
    assert!(info["billingaddress"]["company"].is_null());
    assert!(info["kvk"].is_null());
    assert_eq!(user(&dump, &ids[1])["username"], "ada@example.org");
}

#[tokio::test]
async fn an_existing_email_is_updated_never_duplicated() {
    let pos = Pos::empty().await;
    let staff = staff_customer(7);
    let id = pos.sim.add_user(&staff);
    let mut customer = private("walk-in7@example.org");
    customer.email = "WALK-IN7@example.org".into();

    // Without the host knowing the id: the index finds it.
    let mut session = pos.session().await;
    let results = session
        .write_customers(&[write(customer.clone(), None)])
        .await
        .unwrap();
    let written = results[0].outcome.clone().unwrap();
    assert_eq!(
        (written.id.as_str(), written.action),
        (id.to_string().as_str(), WriteAction::Updated)
    );
    // Again, now a business, with the id the host linked.
    customer.company = business("x@y.z").company;
    let again = session
        .write_customers(&[write(customer, Some(&id.to_string()))])
        .await
        .unwrap();
    assert_eq!(
        again[0].outcome.clone().unwrap().action,
        WriteAction::Updated
    );

    let dump = pos.dump();
    assert_eq!(
        dump["users"].as_object().unwrap().len(),
        1,
        "no second user"
    );
    let info = &user(&dump, &id.to_string())["userinfo"];
    assert_eq!(
        info["email"], "WALK-IN7@example.org",
        "the address as the shop writes it"
    );
    assert_eq!(
        info["billingaddress"]["street"], "Dorpsstraat",
        "the old address is replaced"
    );
    assert_eq!(info["customertype"], "b2b");
    assert!(pos.requests().iter().all(|r| r.method != "POST"));
}

#[tokio::test]
async fn the_email_index_holds_no_address_and_one_that_did_is_built_again() {
    let pos = Pos::demo().await;
    let sanne = pos.sim.dump()["users"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, u)| u["userinfo"]["email"] == "sanne.bos@example.nl")
        .map(|(id, _)| id.clone())
        .unwrap();
    // The index as an older connector left it: the addresses themselves, one of them stale.
    pos.kv
        .set_many(&[
            ("users/index".into(), r#"{"max_id": 999}"#.into()),
            ("users/email/sanne.bos@example.nl".into(), "424242".into()),
        ])
        .unwrap();
    let mut session = pos.session().await;
    let found = session
        .find_customers(&["Sanne.Bos@example.nl".into()])
        .await
        .unwrap();
    assert_eq!(found[0].id, sanne, "found in the index built anew");
    let mut created = private("new.customer@example.org");
    created.person.first_name = "Nieuw".into();
    session
        .write_customers(&[write(created, None)])
        .await
        .unwrap();
    let kept = pos.kv.keys("").unwrap();
    let values = pos.kv.get_many(&kept).unwrap();
    for (key, value) in kept.iter().zip(&values) {
        let text = format!("{key} {value:?}");
        assert!(!text.contains('@'), "no address is kept: {text}");
    }
    assert!(
        kept.iter()
            .filter(|k| k.starts_with("users/email/"))
            .count()
            >= 2,
        "the index holds Sanne and the new customer: {kept:?}"
    );
}
