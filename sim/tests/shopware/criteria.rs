//! Search criteria: total-count modes, limits per version, to-many filters, associations,
//! sorting, paging.

use serde_json::{Value, json};
use tillbridge_sim::dataset::Dataset;

use crate::support::*;

#[tokio::test]
async fn total_count_mode_decides_what_total_means() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let sort = json!([{"field": "orderNumber", "order": "ASC"}]);
    let none = api
        .search("order", json!({"limit": 3, "page": 3, "sort": sort}))
        .await;
    assert_eq!(numbers(&none), ["10007", "10008"]);
    assert_eq!(none.body["total"], 2, "mode 0: the rows on this page");
    let exact = api
        .search(
            "order",
            json!({"limit": 3, "page": 1, "sort": sort, "total-count-mode": 1}),
        )
        .await;
    assert_eq!(exact.body["total"], 8, "mode 1: all matches");
    let next = api
        .search(
            "order",
            json!({"limit": 1, "page": 2, "sort": sort, "total-count-mode": "next-pages"}),
        )
        .await;
    assert_eq!(
        next.body["total"], 7,
        "mode 2: at most limit*6+1 rows from this page on"
    );
    assert_eq!(numbers(&next), ["10002"]);
    let out_of_range = api
        .search(
            "order",
            json!({"limit": 3, "sort": sort, "total-count-mode": 9}),
        )
        .await;
    assert_eq!(
        out_of_range.body["total"], 3,
        "unknown modes fall back to 0"
    );
}

#[tokio::test]
async fn pages_split_at_their_borders_without_overlap() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let mut seen = Vec::new();
    for page in 1.. {
        let res = api
            .search(
                "order",
                json!({"limit": 3, "page": page, "sort": [{"field": "orderDateTime", "order": "DESC"}]}),
            )
            .await;
        let page_numbers = numbers(&res);
        seen.extend(page_numbers.clone());
        if page_numbers.len() < 3 {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            "10008", "10007", "10006", "10005", "10004", "10003", "10002", "10001"
        ]
    );
}

#[tokio::test]
async fn limits_on_6_6_and_6_7_default_to_500_and_refuse_more() {
    for version in [ApiVersion::V6_6, ApiVersion::V6_7] {
        let sim = start(version, Seed::Dataset(Dataset::generated(600, 10, 0.5, 7))).await;
        let api = Api::login(&sim).await;
        let all = api.search("product", json!({"total-count-mode": 1})).await;
        assert_eq!(all.body["data"].as_array().unwrap().len(), 500);
        assert!(all.body["total"].as_u64().unwrap() > 600);
        let over = api.search("product", json!({"limit": 501})).await;
        assert_eq!(over.status, 400);
        assert_eq!(over.code(), "FRAMEWORK__QUERY_LIMIT_EXCEEDED");
        assert_eq!(over.pointer(), "/limit");
        assert_eq!(
            over.body["errors"][0]["detail"],
            "The limit must be lower than or equal to MAX_LIMIT(=500). Given: 501"
        );
    }
}

#[tokio::test]
async fn on_6_4_a_search_without_limit_returns_everything() {
    let sim = start(
        ApiVersion::V6_4,
        Seed::Dataset(Dataset::generated(600, 10, 0.5, 7)),
    )
    .await;
    let api = Api::login(&sim).await;
    let all = api.search("product", json!({})).await;
    let count = all.body["data"].as_array().unwrap().len();
    assert!(count > 600, "all {count} products and variants");
    assert_eq!(all.body["total"], count);
    assert_eq!(
        api.search("product", json!({"limit": 1000})).await.status,
        200
    );
}

#[tokio::test]
async fn page_and_limit_below_one_are_refused() {
    let (_sim, api) = demo(ApiVersion::V6_4).await;
    let res = api.search("order", json!({"page": 0})).await;
    assert_eq!(
        (res.status, res.code(), res.pointer()),
        (400, "FRAMEWORK__INVALID_PAGE_QUERY", "/page")
    );
    let res = api.search("order", json!({"limit": -5})).await;
    assert_eq!(
        (res.status, res.code(), res.pointer()),
        (400, "FRAMEWORK__INVALID_LIMIT_QUERY", "/limit")
    );
}

#[tokio::test]
async fn filters_on_to_many_paths_match_when_any_row_matches() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let paid = api
        .search(
            "order",
            json!({"filter": [{"type": "equals", "field": "transactions.stateMachineState.technicalName", "value": "paid"}],
                   "sort": [{"field": "orderNumber"}]}),
        )
        .await;
    assert_eq!(
        numbers(&paid),
        ["10001", "10002", "10003", "10004", "10006", "10007"],
        "10007's paid transaction was cancelled later, but it still matches"
    );
    let mug = api
        .search(
            "order",
            json!({"filter": [{"type": "equals", "field": "lineItems.payload.productNumber", "value": "tb-mug-01"}],
                   "sort": [{"field": "orderNumber"}]}),
        )
        .await;
    assert_eq!(
        numbers(&mug),
        ["10001", "10002", "10005", "10006"],
        "case-insensitive"
    );
}

#[tokio::test]
async fn multi_not_range_and_text_filters_combine() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .search(
            "order",
            json!({"filter": [
                {"type": "multi", "operator": "or", "queries": [
                    {"type": "equals", "field": "orderCustomer.email", "value": "ADA.JANSEN@example.nl"},
                    {"type": "prefix", "field": "orderCustomer.lastName", "value": "pee"}]},
                {"type": "not", "queries": [{"type": "equals", "field": "stateMachineState.technicalName", "value": "cancelled"}]},
                {"type": "range", "field": "amountTotal", "parameters": {"gte": 20}}],
               "sort": [{"field": "orderNumber"}]}),
        )
        .await;
    assert_eq!(numbers(&res), ["10001", "10004", "10007", "10008"]);
    let products = api
        .search(
            "product",
            json!({"filter": [{"type": "contains", "field": "name", "value": "MUG"},
                              {"type": "equalsAny", "field": "productNumber", "value": "TB-MUG-01|TB-BOOK-01"}]}),
        )
        .await;
    assert_eq!(products.body["data"][0]["productNumber"], "TB-MUG-01");
    assert_eq!(products.body["total"], 1);
}

#[tokio::test]
async fn sorting_takes_several_fields_and_directions() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .search(
            "order",
            json!({"sort": [{"field": "orderCustomer.email", "order": "ASC"}, {"field": "orderNumber", "order": "DESC"}]}),
        )
        .await;
    assert_eq!(
        numbers(&res),
        [
            "10008", "10005", "10001", "10002", "10007", "10004", "10006", "10003"
        ]
    );
}

#[tokio::test]
async fn associations_load_nested_with_their_own_criteria() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let order = api
        .one(
            "order",
            json!({"filter": [{"type": "equals", "field": "orderNumber", "value": "10004"}],
                   "associations": {
                       "transactions": {"sort": [{"field": "createdAt", "order": "DESC"}], "limit": 1,
                                        "associations": {"paymentMethod": {}}},
                       "billingAddress": {"associations": {"country": {}}},
                       "lineItems": {"filter": [{"type": "equals", "field": "quantity", "value": 5}]}}}),
        )
        .await;
    let transactions = order["transactions"].as_array().unwrap();
    assert_eq!(transactions.len(), 1, "the association's own limit");
    assert_eq!(
        transactions[0]["stateMachineState"]["technicalName"], "paid",
        "the newest"
    );
    assert_eq!(transactions[0]["paymentMethod"]["name"], "iDEAL");
    assert_eq!(order["billingAddress"]["country"]["iso"], "BE");
    assert_eq!(
        order["lineItems"],
        json!([]),
        "the association's own filter"
    );
}

#[tokio::test]
async fn unknown_fields_and_filter_types_are_refused() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .search(
            "order",
            json!({"filter": [{"type": "equals", "field": "nonsense", "value": 1}]}),
        )
        .await;
    assert_eq!((res.status, res.code()), (400, "FRAMEWORK__UNMAPPED_FIELD"));
    let res = api
        .search(
            "order",
            json!({"filter": [{"type": "fuzzy", "field": "orderNumber", "value": 1}]}),
        )
        .await;
    assert_eq!((res.status, res.pointer()), (400, "/filter/0/type"));
    let res = api
        .search("order", json!({"associations": {"nope": {}}}))
        .await;
    assert_eq!(res.code(), "FRAMEWORK__ASSOCIATION_NOT_FOUND");
}

#[tokio::test]
async fn search_ids_and_get_lists_take_criteria_too() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let ids = api
        .post(
            "/api/search-ids/order",
            json!({"filter": [{"type": "equals", "field": "orderNumber", "value": "10003"}]}),
        )
        .await;
    assert_eq!(
        ids.body,
        json!({"total": 1, "data": [keys::order("10003")]})
    );
    let list = api.get("/api/order?limit=2&page=2&sort=-orderNumber").await;
    assert_eq!(numbers(&list), ["10006", "10005"]);
    let filtered = api
        .get("/api/product?filter[0][type]=equals&filter[0][field]=productNumber&filter[0][value]=TB-BOOK-01")
        .await;
    assert_eq!(filtered.body["data"][0]["productNumber"], "TB-BOOK-01");
}

#[tokio::test]
async fn aggregations_are_keyed_by_name() {
    let (_sim, api) = demo(ApiVersion::V6_6).await;
    let res = api
        .search(
            "order",
            json!({"limit": 1, "aggregations": [{"name": "orders", "type": "count", "field": "id"},
                                              {"name": "states", "type": "terms", "field": "stateMachineState.technicalName"}]}),
        )
        .await;
    assert_eq!(res.body["aggregations"]["orders"]["count"], 8);
    let buckets: Vec<(Value, Value)> = res.body["aggregations"]["states"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["key"].clone(), b["count"].clone()))
        .collect();
    assert!(buckets.contains(&(json!("open"), json!(6))), "{buckets:?}");
}
