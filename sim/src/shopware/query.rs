//! Query strings as PHP reads them (`filter[0][type]=equals&limit=10`), for criteria in GET
//! lists and for form-encoded token requests.

use serde_json::{Value, json};

/// PHP's `max_input_nesting_level` (default 64, php-src `main/main.c`): a variable with more
/// bracket levels is dropped whole, and the request goes on without it (php-src
/// `main/php_variables.c`, `php_register_variable_ex`; test `tests/basic/027.phpt`).
pub const MAX_NESTING: usize = 64;

/// PHP's `max_input_vars` (default 1000, php-src `main/main.c`): the variables after the first
/// 1000 are ignored (php-src `main/php_variables.c`, `php_default_treat_data`).
pub const MAX_VARS: usize = 1000;

/// A query string as PHP reads it (`filter[0][type]=equals&limit=10`), as JSON: brackets nest,
/// lists come out as arrays. As in PHP, a variable nested deeper than [`MAX_NESTING`] is dropped
/// and only the first [`MAX_VARS`] variables count, so no request can nest without bound.
pub fn query_to_json(query: &str) -> Value {
    let mut root = json!({});
    for pair in query.split('&').filter(|p| !p.is_empty()).take(MAX_VARS) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key);
        let value = Value::String(decode(value));
        let (head, rest) = match key.find('[') {
            Some(i) => (&key[..i], &key[i..]),
            None => (key.as_str(), ""),
        };
        let mut path = vec![head.to_string()];
        let mut rest = rest;
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(end) = stripped.find(']') else { break };
            path.push(stripped[..end].to_string());
            rest = &stripped[end + 1..];
        }
        if path.len() > MAX_NESTING + 1 {
            if let Some(map) = root.as_object_mut() {
                map.remove(head);
            }
            continue;
        }
        insert(&mut root, &path, value);
    }
    listify(root)
}

fn insert(node: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if !node.is_object() {
        *node = json!({});
    }
    let map = node.as_object_mut().expect("object");
    let key = if first.is_empty() {
        map.len().to_string()
    } else {
        first.clone()
    };
    if rest.is_empty() {
        map.insert(key, value);
    } else {
        insert(map.entry(key).or_insert(json!({})), rest, value);
    }
}

/// Objects whose keys are 0, 1, 2, … become arrays.
fn listify(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sequential =
                !map.is_empty() && (0..map.len()).all(|i| map.contains_key(&i.to_string()));
            if sequential {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap_or(0), listify(v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, listify(v))).collect())
            }
        }
        other => other,
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes.get(i + 1..i + 3).and_then(hex_byte) {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Two hex digits as the byte they write (PHP's `urldecode`); anything else is not an escape.
fn hex_byte(digits: &[u8]) -> Option<u8> {
    let digit = |d: u8| char::from(d).to_digit(16);
    Some((digit(digits[0])? * 16 + digit(digits[1])?) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_nest_like_php() {
        let parsed = query_to_json(
            "limit=5&filter[0][type]=equals&filter[0][field]=name&filter[0][value]=a%20b&sort=-createdAt",
        );
        assert_eq!(
            parsed,
            json!({"limit": "5", "sort": "-createdAt", "filter": [{"type": "equals", "field": "name", "value": "a b"}]})
        );
    }

    #[test]
    fn a_variable_nested_deeper_than_php_allows_is_dropped_whole() {
        let deep = |levels: usize| format!("c{}=123", "[]".repeat(levels));
        // php-src tests/basic/027.phpt: `c` goes, the variables around it stay.
        let parsed = query_to_json(&format!("a=1&c[x]=kept&{}&d=123", deep(MAX_NESTING + 1)));
        assert_eq!(parsed, json!({"a": "1", "d": "123"}));
        let at_the_limit = query_to_json(&deep(MAX_NESTING));
        let mut node = &at_the_limit["c"];
        for _ in 0..MAX_NESTING {
            node = &node[0];
        }
        assert_eq!(node, "123");
        // A 9 KB bomb is one more dropped variable, not a stack overflow.
        assert_eq!(
            query_to_json(&format!("a=1&{}", deep(4600))),
            json!({"a": "1"})
        );
    }

    #[test]
    fn only_the_first_thousand_variables_count() {
        let query: Vec<String> = (0..MAX_VARS + 5).map(|i| format!("v{i}=x")).collect();
        let parsed = query_to_json(&query.join("&"));
        assert_eq!(parsed.as_object().unwrap().len(), MAX_VARS);
        assert!(parsed.get(format!("v{}", MAX_VARS - 1)).is_some());
        assert!(parsed.get(format!("v{MAX_VARS}")).is_none());
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::Map;

        use super::*;

        /// Criteria-like values: strings in objects and lists, a few levels deep.
        fn value() -> impl Strategy<Value = Value> {
            ".{0,8}"
                .prop_map(Value::String)
                .prop_recursive(4, 32, 3, |inner| {
                    prop_oneof![
                        prop::collection::vec(inner.clone(), 1..3).prop_map(Value::Array),
                        prop::collection::btree_map("[a-z][a-z_]{0,5}", inner, 1..3)
                            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
                    ]
                })
        }

        /// Writes `value` as PHP's `http_build_query` does: `name[key][0]=text`, encoded.
        fn print(name: &str, value: &Value, out: &mut Vec<String>) {
            let encode = |text: &str| {
                text.bytes()
                    .map(|b| match b {
                        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            };
            match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        print(&format!("{name}[{i}]"), item, out);
                    }
                }
                Value::Object(map) => {
                    for (key, item) in map {
                        print(&format!("{name}[{key}]"), item, out);
                    }
                }
                Value::String(text) => out.push(format!("{}={}", encode(name), encode(text))),
                other => unreachable!("{other}"),
            }
        }

        fn depth(value: &Value) -> usize {
            match value {
                Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
                Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
                _ => 0,
            }
        }

        proptest! {
            /// What PHP's query builder writes reads back as the same value.
            #[test]
            fn a_printed_query_parses_back(
                params in prop::collection::btree_map("[a-z][a-z_]{0,5}", value(), 1..4),
            ) {
                let mut pairs = Vec::new();
                for (name, value) in &params {
                    print(name, value, &mut pairs);
                }
                let expected = Value::Object(params.into_iter().collect());
                prop_assert_eq!(query_to_json(&pairs.join("&")), expected);
            }

            /// Any query string parses, no deeper than PHP allows.
            #[test]
            fn any_query_parses_within_the_nesting_bound(query in "([a-z%\\[\\]=&+é]|[0-9A-F]){0,300}") {
                let parsed = query_to_json(&query);
                prop_assert!(depth(&parsed) <= MAX_NESTING + 2, "{parsed}");
            }
        }
    }
}
