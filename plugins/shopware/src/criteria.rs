//! Building blocks of search criteria (Shopware's `filter` JSON), named for what they ask.

use serde::Serialize;
use serde_json::{Value, json};

/// `field = value` (ids, names and states; text compares case-insensitively).
pub fn equals(field: &str, value: impl Serialize) -> Value {
    json!({"type": "equals", "field": field, "value": value})
}

/// `field` is one of `values`.
pub fn equals_any<T: Serialize>(field: &str, values: &[T]) -> Value {
    json!({"type": "equalsAny", "field": field, "value": values})
}

/// `field >= value`.
pub fn at_least(field: &str, value: impl Serialize) -> Value {
    json!({"type": "range", "field": field, "parameters": {"gte": value}})
}

/// `field > value`.
pub fn above(field: &str, value: impl Serialize) -> Value {
    json!({"type": "range", "field": field, "parameters": {"gt": value}})
}

/// One of `queries` holds.
pub fn any_of(queries: Vec<Value>) -> Value {
    json!({"type": "multi", "operator": "or", "queries": queries})
}

/// All of `queries` hold.
pub fn all_of(queries: Vec<Value>) -> Value {
    json!({"type": "multi", "operator": "and", "queries": queries})
}

/// The next page of a keyset walk over `autoIncrement`, a number every order, product and
/// category gets once and keeps: unlike an offset, it neither skips nor repeats a row when rows
/// are added or change while the walk goes on. (Ids cannot be walked: Shopware stores them as
/// binary and compares range filters with the text as given.)
pub fn keyset(after: u64, limit: u32) -> Value {
    json!({
        "filter": [above("autoIncrement", after)],
        "sort": [{"field": "autoIncrement", "order": "ASC"}],
        "limit": limit,
        // "next-pages" counts a few pages ahead: enough to know whether there is a next one,
        // without the exact count every page (pitfall 3: without it, total is the page size).
        "total-count-mode": "next-pages",
    })
}

/// The `autoIncrement` of a row.
pub fn auto_increment(row: &Value) -> u64 {
    row["autoIncrement"].as_u64().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyset_page_is_sorted_filtered_and_counted() {
        let page = keyset(41, 50);
        assert_eq!(page["filter"][0]["parameters"]["gt"], 41);
        assert_eq!(page["sort"][0]["field"], "autoIncrement");
        assert_eq!(page["total-count-mode"], "next-pages");
        assert_eq!(
            any_of(vec![equals("a", 1), equals_any("b", &["x"])])["queries"][1]["value"][0],
            "x"
        );
    }

    mod properties {
        use std::collections::BTreeSet;

        use proptest::prelude::*;

        use super::*;

        /// A page as Shopware answers the criteria: the rows the `gt` filter keeps, sorted by the
        /// sort field ascending, at most `limit`.
        fn answer(rows: &BTreeSet<u64>, criteria: &Value) -> Vec<u64> {
            let after = criteria["filter"][0]["parameters"]["gt"].as_u64().unwrap();
            let limit = criteria["limit"].as_u64().unwrap() as usize;
            assert_eq!(criteria["sort"][0]["order"], "ASC");
            rows.range(after + 1..).take(limit).copied().collect()
        }

        proptest! {
            /// A keyset walk visits every row once, whatever the numbers and the page size.
            #[test]
            fn a_keyset_walk_sees_every_row_exactly_once(
                rows in prop::collection::btree_set(1u64..1_000_000, 0..300),
                limit in 1u32..60,
            ) {
                let (mut seen, mut after) = (Vec::new(), 0);
                loop {
                    let page = answer(&rows, &keyset(after, limit));
                    let Some(&last) = page.last() else { break };
                    seen.extend(page);
                    after = auto_increment(&json!({"autoIncrement": last}));
                }
                prop_assert_eq!(seen, rows.into_iter().collect::<Vec<_>>());
            }

            /// Any field name and value travel through the JSON unchanged.
            #[test]
            fn filters_carry_any_field_and_value(field in ".*", value in ".*", n in any::<i64>()) {
                let criteria = all_of(vec![equals(&field, &value), any_of(vec![at_least(&field, n), equals_any(&field, &[&value])])]);
                let back: Value = serde_json::from_str(&criteria.to_string()).unwrap();
                prop_assert_eq!(&back["queries"][0]["field"], &json!(field));
                prop_assert_eq!(&back["queries"][0]["value"], &json!(value));
                prop_assert_eq!(&back["queries"][1]["queries"][0]["parameters"]["gte"], &json!(n));
                prop_assert_eq!(&back["queries"][1]["queries"][1]["value"][0], &json!(value));
            }
        }
    }
}
