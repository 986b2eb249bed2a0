//! Every request is signed as CCV documents it, and a resent request still passes.

use tillbridge::runtime::CallError;
use tillbridge::runtime::bindings::tillbridge::plugin::types::PluginError;
use tillbridge_sim::common::Fault;

use super::support::records::{private, write};
use super::support::{Pos, assert_all_signed};

#[tokio::test]
async fn get_post_patch_and_query_strings_are_accepted() {
    let pos = Pos::empty().await;
    let mut session = pos.session().await;

    let said = session.check().await.unwrap();
    assert!(said.contains("CCV SalesPOS"), "{said}");

    let created = session
        .write_customers(&[write(private("ada@example.org"), None)])
        .await
        .unwrap();
    let id = created[0].outcome.clone().unwrap().id;
    let updated = session
        .write_customers(&[write(private("ada@example.org"), Some(&id))])
        .await
        .unwrap();
    assert!(updated[0].outcome.is_ok(), "{updated:?}");

    let requests = pos.requests();
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    // The webshop, its settings and its packages, the users, a new one, an update.
    assert_eq!(
        methods,
        ["GET", "GET", "GET", "GET", "POST", "PATCH"],
        "{requests:#?}"
    );
    assert!(
        requests[3].query.as_deref().unwrap().contains("orderby=id"),
        "a query string"
    );
    assert!(
        requests.iter().all(|r| (200..300).contains(&r.status)),
        "{requests:#?}"
    );
    assert_all_signed(&pos);
}

#[tokio::test]
async fn the_hosts_resend_of_a_read_passes_the_signature_check() {
    let pos = Pos::empty().await;
    pos.sim.faults().add(
        Fault::status("/api/rest/v1/webshops", 503)
            .method("GET")
            .times(1),
    );
    let said = pos.session().await.check().await.unwrap();
    assert!(said.contains("webshop"), "{said}");
    let statuses: Vec<(u16, bool)> = pos.requests().iter().map(|r| (r.status, r.fault)).collect();
    assert_eq!(
        statuses,
        [(503, true), (200, false), (200, false), (200, false)],
        "resent unchanged, and accepted (then the settings and the packages are read)"
    );
}

#[tokio::test]
async fn wrong_keys_are_an_authentication_error() {
    let pos = Pos::empty().await;
    let mut grants = pos.grants();
    grants
        .secrets
        .insert("secret".into(), "not the secret".into());
    let mut session = pos.session_with(grants).await;
    let error = session.check().await.unwrap_err();
    let CallError::Plugin(PluginError::Auth(message)) = &error else {
        panic!("{error}")
    };
    assert!(
        message.contains("401.30") && message.contains("secret"),
        "{message}"
    );
}

/// Every request names the schemas it wants, as CCV's SDK does (`BaseEndpoint`: `accept`
/// `application/vnd.verto.webshop+json` unless set to `…salespos+json`).
#[tokio::test]
async fn every_request_asks_for_the_media_type_of_the_setting() {
    let mut pos = Pos::demo().await;
    let mut session = pos.session().await;
    session.check().await.unwrap();
    session
        .write_customers(&[write(private("ada@example.org"), None)])
        .await
        .unwrap();
    let asked: Vec<Option<String>> = pos.requests().into_iter().map(|r| r.accept).collect();
    assert!(asked.len() > 2);
    assert!(
        asked
            .iter()
            .all(|a| a.as_deref() == Some("application/vnd.verto.webshop+json")),
        "{asked:?}"
    );

    pos.settings["media_type"] = "salespos".into();
    let from = pos.count();
    pos.session().await.check().await.unwrap();
    assert!(
        pos.requests()[from..]
            .iter()
            .all(|r| r.accept.as_deref() == Some("application/vnd.verto.salespos+json"))
    );
}
