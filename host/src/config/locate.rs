//! Finding where a key is in the TOML text, so that every error can name its line.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The line and column (both from 1) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The position of the deepest part of `path` (dotted keys and array indices) that exists in
/// the document: the key itself when it is there, else its nearest parent.
pub fn position_of(text: &str, path: &[String]) -> Option<(usize, usize)> {
    let root = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = root.get_ref();
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    let mut found: Option<usize> = None;
    for segment in path {
        if let Some(v) = value {
            match v.get_ref() {
                DeValue::Table(t) => table = t,
                DeValue::Array(items) => {
                    let Some(item) = segment.parse::<usize>().ok().and_then(|i| items.get(i))
                    else {
                        break;
                    };
                    found = Some(item.span().start);
                    value = Some(item);
                    continue;
                }
                _ => break,
            }
        }
        let Some((key, v)) = table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == segment.as_str())
        else {
            break;
        };
        found = Some(key.span().start);
        value = Some(v);
    }
    found.map(|offset| line_col(text, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn finds_keys_in_tables_inline_tables_and_arrays() {
        let text = "[a]\nx = 1\n\n[a.b]\ny = { z = 2 }\nlist = [\"p\", \"q\"]\n";
        assert_eq!(position_of(text, &path("a.x")), Some((2, 1)));
        assert_eq!(position_of(text, &path("a.b.y.z")), Some((5, 7)));
        assert_eq!(position_of(text, &path("a.b.list.1")), Some((6, 14)));
        // A missing key points at its nearest parent.
        assert_eq!(position_of(text, &path("a.b.missing")), Some((4, 4)));
    }
}
