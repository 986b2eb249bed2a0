//! Every page and action needs the token; actions need the CSRF token too; no page shows a
//! secret; personal data is masked when the activity log is redacted.

use reqwest::StatusCode;
use tillbridge::state::{Outcome, PendingState};
use tillbridge_sim::dataset;

use super::board::{Board, demo_pair};
use crate::flows::harness::finished;

/// Every page and chart of a board whose orders ran once (run 1).
const PAGES: [&str; 10] = [
    "/",
    "/flows/orders",
    "/runs",
    "/runs/1",
    "/search?q=10006",
    "/waiting",
    "/waiting/skip?flow=orders&key=10006",
    "/charts/records.svg",
    "/charts/failures.svg",
    "/api/runs",
];

async fn board_after_orders() -> Board {
    let pair = demo_pair().await;
    let report = pair.run("orders").await;
    assert_eq!(
        finished(&report).run.counts.get(&Outcome::Parked),
        Some(&1),
        "order 10006 waits for its poster"
    );
    Board::start(pair).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_needs_the_token_and_a_browser_signs_in_once() {
    let board = board_after_orders().await;
    for path in PAGES {
        let answer = board.anonymous(path, &[]).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{path} without the token"
        );
        assert!(
            !answer.body.contains("10001"),
            "{path} shows data without the token"
        );
        let wrong = board
            .anonymous(path, &[("authorization", "Bearer not-the-token-at-all")])
            .await;
        assert_eq!(
            wrong.status,
            StatusCode::UNAUTHORIZED,
            "{path} with a wrong token"
        );
        assert_eq!(
            board.get(path).await.status,
            StatusCode::OK,
            "{path} with the token"
        );
    }
    let wrong = board.anonymous("/runs?token=guess", &[]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("not the dashboard"), "{}", wrong.body);

    // The address tillbridge prints signs the browser in and leads on without the token.
    let sign_in = board
        .anonymous(&format!("/runs?flow=orders&token={}", board.token), &[])
        .await;
    assert_eq!(sign_in.status, StatusCode::SEE_OTHER);
    assert_eq!(sign_in.header("location"), "/runs?flow=orders");
    let cookie = sign_in.header("set-cookie").to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(
        !cookie.contains(&board.token),
        "the cookie is not the token"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let page = board.anonymous("/runs", &[("cookie", &session)]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("#1"), "{}", page.body);
    // The JSON API takes the bearer token only, never the browser's cookie.
    let api = board.anonymous("/api/runs", &[("cookie", &session)]).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    // The style sheet and the sign-in page are open; the headers keep the pages to themselves.
    let login = board.anonymous("/login", &[]).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(
        login
            .header("content-security-policy")
            .contains("default-src 'none'")
    );
    assert_eq!(login.header("x-frame-options"), "DENY");
    assert_eq!(login.header("referrer-policy"), "no-referrer");
    assert_eq!(
        board.anonymous("/static/style.css", &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_without_the_right_csrf_token_is_refused_and_does_nothing() {
    let board = board_after_orders().await;
    let runs_before = board
        .pair
        .state
        .read()
        .unwrap()
        .recent_runs(100)
        .unwrap()
        .len();
    for (action, key) in [
        ("run", ""),
        ("dry-run", ""),
        ("retry", "10006"),
        ("skip", "10006"),
    ] {
        for csrf in [None, Some("0".repeat(64))] {
            let mut fields = vec![("flow", "orders"), ("key", key)];
            if let Some(csrf) = &csrf {
                fields.push(("csrf", csrf));
            }
            let answer = board.post(&format!("/actions/{action}"), &fields).await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{action} with {csrf:?}"
            );
            assert!(answer.body.contains("CSRF"), "{}", answer.body);
        }
    }
    // Without the token at all, even the right CSRF token does nothing.
    let csrf = board.csrf().await;
    let response = reqwest::Client::new()
        .post(format!("{}/actions/skip", board.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&flow=orders&key=10006"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    board.settled("orders").await;
    let read = board.pair.state.read().unwrap();
    assert_eq!(
        read.recent_runs(100).unwrap().len(),
        runs_before,
        "no run started"
    );
    let waiting = read
        .pending_one("orders", "10006")
        .unwrap()
        .expect("still waiting");
    assert_eq!(
        waiting.state,
        PendingState::Parked,
        "neither retried nor skipped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_ever_shows_a_secret() {
    let board = board_after_orders().await;
    let csrf = board.csrf().await;
    let plan = board
        .post("/actions/dry-run", &[("csrf", &csrf), ("flow", "orders")])
        .await;
    assert_eq!(plan.status, StatusCode::SEE_OTHER);
    board.settled("orders").await;
    let secrets = [
        dataset::SHOPWARE_CLIENT_ID,
        dataset::SHOPWARE_CLIENT_SECRET,
        dataset::CCV_PUBLIC_KEY,
        dataset::CCV_SECRET,
        board.token.as_str(),
    ];
    let mut pages: Vec<String> = PAGES.iter().map(|p| p.to_string()).collect();
    pages.extend(["/flows/products", "/flows/stock", "/flows/categories"].map(String::from));
    pages.push(plan.header("location").to_string());
    // A secret typed into the search box is not shown back either.
    pages.extend(secrets.iter().map(|s| format!("/search?q={s}")));
    for path in &pages {
        let body = board.get(path).await.body;
        for secret in secrets {
            assert!(!body.contains(secret), "{path} shows a secret");
        }
    }
    let echoed = board
        .page(&format!("/search?q={}", dataset::CCV_SECRET))
        .await;
    assert!(
        echoed.contains("[secret]"),
        "the search says what was replaced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_masked_when_the_log_is_redacted() {
    let customers = [
        "sanne.bos@example.nl",
        "ada.jansen@example.nl",
        "Kerkweg",
        "Dorpsstraat",
        "Utrecht",
        "Bakkerij De Vries B.V.",
    ];
    let pages = [
        "/runs/1",
        "/waiting",
        "/search?q=10006",
        "/search?q=example.nl",
    ];

    // Without redaction the pages show who ordered: the assertions below can fail.
    let board = board_after_orders().await;
    let shown: String = bodies(&board, &pages).await;
    assert!(
        customers.iter().all(|c| shown.contains(c)),
        "control: shown unredacted"
    );
    drop(board);

    let mut pair = demo_pair().await;
    pair.reconfigure(|text| text.replace("[host]\n", "[host]\nredact_personal_data = true\n"));
    finished(&pair.run("orders").await);
    let board = Board::start(pair).await;
    let shown = bodies(&board, &pages).await;
    for personal in customers {
        assert!(!shown.contains(personal), "{personal} is shown");
    }
    let pseudonym = board.pair.state.pseudonym("sanne.bos@example.nl");
    assert!(
        shown.contains(&pseudonym),
        "a customer is named by the keyed hash of its address"
    );
    assert!(shown.contains("10006"), "business data is still shown");
}

/// The pages' bodies, one after another.
async fn bodies(board: &Board, pages: &[&str]) -> String {
    let mut all = String::new();
    for page in pages {
        all.push_str(&board.page(page).await);
    }
    all
}
