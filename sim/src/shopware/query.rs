//! Query strings as PHP reads them (`filter[0][type]=equals&limit=10`), for criteria in GET
//! lists and for form-encoded token requests.

use serde_json::{Value, json};

/// A query string as PHP reads it (`filter[0][type]=equals&limit=10`), as JSON: brackets nest,
/// lists come out as arrays.
pub fn query_to_json(query: &str) -> Value {
    let mut root = json!({});
    for pair in query.split('&').filter(|p| !p.is_empty()) {
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
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
}
