//! OAuth client credentials, bearer tokens, expiry, and Shopware's 401 bodies.

use std::time::Duration;

use serde_json::json;
use tillbridge_sim::dataset;

use crate::support::*;

#[tokio::test]
async fn client_credentials_give_a_bearer_token_in_json_and_form_bodies() {
    let sim = start(ApiVersion::V6_6, Seed::Empty).await;
    let api = Api::anonymous(&sim);
    let res = api
        .post(
            "/api/oauth/token",
            json!({"grant_type": "client_credentials", "client_id": dataset::SHOPWARE_CLIENT_ID, "client_secret": dataset::SHOPWARE_CLIENT_SECRET}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["token_type"], "Bearer");
    assert_eq!(res.body["expires_in"], 600);
    let token = res.body["access_token"].as_str().unwrap();
    assert_eq!(token.matches('.').count(), 2, "a JWT-shaped token");

    let form = reqwest::Client::new()
        .post(format!("{}/api/oauth/token", sim.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            dataset::SHOPWARE_CLIENT_ID,
            dataset::SHOPWARE_CLIENT_SECRET
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    assert_eq!(sim.token_requests(), 2);
}

#[tokio::test]
async fn wrong_client_credentials_are_refused_with_league_code_4() {
    let sim = start(ApiVersion::V6_6, Seed::Empty).await;
    let res = Api::anonymous(&sim)
        .post(
            "/api/oauth/token",
            json!({"grant_type": "client_credentials", "client_id": dataset::SHOPWARE_CLIENT_ID, "client_secret": "wrong"}),
        )
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(
        res.body,
        json!({"errors": [{"code": "4", "status": "401", "title": "Client authentication failed", "detail": null}]})
    );
    assert_eq!(sim.token_requests(), 0);
}

#[tokio::test]
async fn a_request_without_a_token_fails_with_code_9() {
    let sim = start(ApiVersion::V6_6, Seed::Empty).await;
    let res = Api::anonymous(&sim).get("/api/_info/version").await;
    assert_eq!(res.status, 401);
    assert_eq!(res.code(), "9");
    assert_eq!(
        res.body["errors"][0]["title"],
        "The resource owner or authorization server denied the request."
    );
    assert_eq!(
        res.body["errors"][0]["detail"],
        "Missing token in \"Authorization\" header"
    );
}

#[tokio::test]
async fn malformed_and_unknown_tokens_are_refused() {
    let sim = start(ApiVersion::V6_6, Seed::Empty).await;
    let mut api = Api::anonymous(&sim);
    api.token = Some("not-a-jwt".into());
    let res = api.get("/api/_info/version").await;
    assert_eq!(res.status, 401);
    assert_eq!(
        res.body["errors"][0]["detail"],
        "The JWT string must have two dots"
    );
    api.token = Some("a.b.c".into());
    let res = api.get("/api/_info/version").await;
    assert_eq!(res.status, 401);
    assert_eq!(
        res.body["errors"][0]["detail"],
        "Access token could not be verified"
    );
}

#[tokio::test]
async fn an_expired_token_forces_a_refresh() {
    let sim = ShopwareSim::start(ShopwareOptions {
        token_ttl: Duration::from_millis(1200),
        ..ShopwareOptions::default()
    })
    .await
    .unwrap();
    let api = Api::login(&sim).await;
    assert_eq!(api.get("/api/_info/version").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1400)).await;
    let res = api.get("/api/_info/version").await;
    assert_eq!(res.status, 401, "the token expired");
    assert_eq!(
        res.body["errors"][0]["detail"],
        "Access token could not be verified"
    );
    let fresh = Api::login(&sim).await;
    assert_eq!(fresh.get("/api/_info/version").await.status, 200);
    assert_eq!(sim.token_requests(), 2);
}

#[tokio::test]
async fn the_password_grant_issues_refresh_tokens_that_work_once() {
    let sim = start(ApiVersion::V6_6, Seed::Empty).await;
    let api = Api::anonymous(&sim);
    let res = api
        .post(
            "/api/oauth/token",
            json!({"grant_type": "password", "client_id": "administration", "scopes": "write", "username": "admin", "password": "shopware"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let refresh = res.body["refresh_token"].as_str().unwrap().to_string();
    let body = json!({"grant_type": "refresh_token", "client_id": "administration", "refresh_token": refresh});
    assert_eq!(api.post("/api/oauth/token", body.clone()).await.status, 200);
    let again = api.post("/api/oauth/token", body).await;
    assert_eq!(again.status, 401);
    assert_eq!(
        again.body["errors"][0]["title"],
        "The refresh token is invalid."
    );
    assert_eq!(again.body["errors"][0]["detail"], "Token has been revoked");
    let wrong = api
        .post(
            "/api/oauth/token",
            json!({"grant_type": "password", "client_id": "administration", "username": "admin", "password": "nope"}),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (400, "6"));
}

#[tokio::test]
async fn info_version_reports_the_simulated_version() {
    for (version, full) in [
        (ApiVersion::V6_4, "6.4.20.2"),
        (ApiVersion::V6_6, "6.6.10.16"),
        (ApiVersion::V6_7, "6.7.10.0"),
    ] {
        let sim = start(version, Seed::Empty).await;
        let api = Api::login(&sim).await;
        assert_eq!(
            api.get("/api/_info/version").await.body,
            json!({"version": full})
        );
        assert_eq!(sim.startup_line()["api_version"], full);
    }
    assert_eq!("6.4".parse::<ApiVersion>().unwrap(), ApiVersion::V6_4);
    assert!("6.5".parse::<ApiVersion>().is_err());
}
