//! Street, house number and suffix: Shopware keeps them in one `street` field ("Dorpsstraat
//! 12a"); the canonical address keeps them apart, because point-of-sale and accounting systems
//! do. Splitting is a heuristic over Dutch, Belgian and German forms:
//!
//! | Shopware `street`           | street               | number | suffix  |
//! |-----------------------------|----------------------|--------|---------|
//! | Dorpsstraat 12a             | Dorpsstraat          | 12     | a       |
//! | Meir 45 bus 2               | Meir                 | 45     | bus 2   |
//! | Hauptstraße 5-7             | Hauptstraße          | 5-7    |         |
//! | Straße des 17. Juni 135     | Straße des 17. Juni  | 135    |         |
//! | 1e Oosterparkstraat 12 III  | 1e Oosterparkstraat  | 12     | III     |
//! | Kerkstraat 12 3 hoog        | Kerkstraat           | 12     | 3 hoog  |
//!
//! The house number is the last token that starts with a digit, is not an ordinal ("17."), is
//! not a box number ("bus 2") and is not a floor ("3 hoog"). What cannot be split stays whole in
//! `street`.

use serde_json::Value;
use tillbridge_sdk::types::Address;

/// Words after which a number is a box or apartment, not the house number.
const BOX_WORDS: [&str; 10] = [
    "bus", "box", "bte", "boîte", "app", "app.", "apt", "apt.", "unit", "postbus",
];
/// Words after a number that make it a floor, not the house number.
const FLOOR_WORDS: [&str; 5] = ["hoog", "hg", "etage", "verdieping", "og"];

/// A street line split into street, house number and suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Street {
    /// The street name.
    pub street: String,
    /// The house number ("12", "5-7").
    pub number: Option<String>,
    /// What follows the number ("a", "bus 2", "III").
    pub suffix: Option<String>,
}

/// Splits "Dorpsstraat 12a" into street, number and suffix (see the module documentation).
pub fn split(line: &str) -> Street {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let whole = || Street {
        street: tokens.join(" "),
        number: None,
        suffix: None,
    };
    let starts_with_digit = |t: &str| t.chars().next().is_some_and(|c| c.is_ascii_digit());
    let candidate = (1..tokens.len()).rev().find(|&i| {
        let token = tokens[i];
        let previous = tokens[i - 1].to_lowercase();
        let next = tokens.get(i + 1).map(|t| t.to_lowercase());
        starts_with_digit(token)
            && !token.ends_with('.')
            && !BOX_WORDS.contains(&previous.as_str())
            && !next.as_deref().is_some_and(|n| FLOOR_WORDS.contains(&n))
    });
    let Some(at) = candidate else {
        // "12 Downing Street": the number first.
        if tokens.len() > 1 && tokens[0].bytes().all(|b| b.is_ascii_digit()) {
            return Street {
                street: tokens[1..].join(" "),
                number: Some(tokens[0].to_string()),
                suffix: None,
            };
        }
        return whole();
    };
    let (number, attached) = split_number(tokens[at]);
    let mut suffix: Vec<&str> = Vec::new();
    if !attached.is_empty() {
        suffix.push(attached);
    }
    suffix.extend(&tokens[at + 1..]);
    Street {
        street: tokens[..at].join(" "),
        number: Some(number.to_string()),
        suffix: (!suffix.is_empty()).then(|| suffix.join(" ")),
    }
}

/// "12a" → ("12", "a"); "5-7" → ("5-7", ""); "12-A" → ("12", "A"); "12/3" → ("12/3", "").
fn split_number(token: &str) -> (&str, &str) {
    let bytes = token.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        // Digits, and a dash or slash between digits ("5-7", "12/3").
        let joins_digits =
            matches!(bytes[end], b'-' | b'/') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
        if !(bytes[end].is_ascii_digit() || joins_digits) {
            break;
        }
        end += 1;
    }
    let rest = token[end..].trim_start_matches(['-', '/']);
    (&token[..end], rest)
}

// No capability of this world writes addresses yet (the connector exports no customers or
// orders sink); `join` is here, tested, for the one that will.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "for a customers or orders sink")
)]
/// Joins street, number and suffix into Shopware's one line: "Dorpsstraat 12a" (a one-letter
/// suffix is written against the number), "Meir 45 bus 2".
pub fn join(street: &str, number: Option<&str>, suffix: Option<&str>) -> String {
    let street = street.trim();
    let number = number.map(str::trim).filter(|n| !n.is_empty());
    let suffix = suffix.map(str::trim).filter(|s| !s.is_empty());
    match (number, suffix) {
        (None, None) => street.to_string(),
        (None, Some(suffix)) => format!("{street} {suffix}"),
        (Some(number), None) => format!("{street} {number}"),
        (Some(number), Some(suffix))
            if suffix.chars().count() == 1 && suffix.chars().all(char::is_alphabetic) =>
        {
            format!("{street} {number}{suffix}")
        }
        (Some(number), Some(suffix)) => format!("{street} {number} {suffix}"),
    }
}

fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The canonical address of a Shopware `order_address` (with its `country` loaded).
pub fn from_order_address(address: &Value) -> Address {
    let line = split(address["street"].as_str().unwrap_or_default());
    let additional: Vec<String> = [
        "department",
        "additionalAddressLine1",
        "additionalAddressLine2",
    ]
    .iter()
    .filter_map(|f| text(&address[*f]))
    .collect();
    Address {
        company: text(&address["company"]),
        first_name: text(&address["firstName"]).unwrap_or_default(),
        last_name: text(&address["lastName"]).unwrap_or_default(),
        street: line.street,
        house_number: line.number,
        house_number_suffix: line.suffix,
        additional_line: (!additional.is_empty()).then(|| additional.join(", ")),
        postcode: text(&address["zipcode"]).unwrap_or_default(),
        city: text(&address["city"]).unwrap_or_default(),
        country: text(&address["country"]["iso"])
            .unwrap_or_default()
            .to_uppercase(),
        phone: text(&address["phoneNumber"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> (String, Option<String>, Option<String>) {
        let s = split(line);
        (s.street, s.number, s.suffix)
    }

    fn expect(line: &str, street: &str, number: Option<&str>, suffix: Option<&str>) {
        assert_eq!(
            parts(line),
            (
                street.to_string(),
                number.map(str::to_string),
                suffix.map(str::to_string)
            ),
            "{line}"
        );
    }

    #[test]
    fn dutch_belgian_and_german_forms() {
        expect("Dorpsstraat 12a", "Dorpsstraat", Some("12"), Some("a"));
        expect("Dorpsstraat 12 a", "Dorpsstraat", Some("12"), Some("a"));
        expect("Dorpsstraat 12-A", "Dorpsstraat", Some("12"), Some("A"));
        expect("Meir 45 bus 2", "Meir", Some("45"), Some("bus 2"));
        expect("Meir 45 box 2", "Meir", Some("45"), Some("box 2"));
        expect("Hauptstraße 5-7", "Hauptstraße", Some("5-7"), None);
        expect("Kerkweg 7", "Kerkweg", Some("7"), None);
        expect("Rue Neuve 12/3", "Rue Neuve", Some("12/3"), None);
        expect(
            "Straße des 17. Juni 135",
            "Straße des 17. Juni",
            Some("135"),
            None,
        );
        expect(
            "1e Oosterparkstraat 12 III",
            "1e Oosterparkstraat",
            Some("12"),
            Some("III"),
        );
        expect(
            "Kerkstraat 12 3 hoog",
            "Kerkstraat",
            Some("12"),
            Some("3 hoog"),
        );
        expect("Plein 1944 12", "Plein 1944", Some("12"), None);
        expect(
            "Laan van Meerdervoort 12bis",
            "Laan van Meerdervoort",
            Some("12"),
            Some("bis"),
        );
    }

    #[test]
    fn lines_without_a_number_stay_whole() {
        expect("Dorpsstraat", "Dorpsstraat", None, None);
        expect("  Grote   Markt ", "Grote Markt", None, None);
        expect("", "", None, None);
        expect("12 Downing Street", "Downing Street", Some("12"), None);
    }

    #[test]
    fn joining_gives_back_the_line() {
        for line in [
            "Dorpsstraat 12a",
            "Meir 45 bus 2",
            "Hauptstraße 5-7",
            "Kerkweg 7",
            "Straße des 17. Juni 135",
            "1e Oosterparkstraat 12 III",
            "Kerkstraat 12 3 hoog",
            "Laan 3 bis",
            "Dorpsstraat",
        ] {
            let s = split(line);
            assert_eq!(
                join(&s.street, s.number.as_deref(), s.suffix.as_deref()),
                line
            );
        }
        assert_eq!(join("Meir", Some("45"), Some(" ")), "Meir 45");
    }

    #[test]
    fn an_order_address_becomes_canonical() {
        let address = serde_json::json!({
            "firstName": "Lucas", "lastName": "Peeters", "street": "Meir 45 bus 2",
            "zipcode": "2000", "city": "Antwerpen", "company": "", "department": "Inkoop",
            "additionalAddressLine1": "c/o Jan", "phoneNumber": null, "country": {"iso": "be"}});
        let canonical = from_order_address(&address);
        assert_eq!(canonical.street, "Meir");
        assert_eq!(canonical.house_number.as_deref(), Some("45"));
        assert_eq!(canonical.house_number_suffix.as_deref(), Some("bus 2"));
        assert_eq!(
            canonical.additional_line.as_deref(),
            Some("Inkoop, c/o Jan")
        );
        assert_eq!(canonical.company, None);
        assert_eq!(canonical.country, "BE");
    }
}
