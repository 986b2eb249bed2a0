//! The order marker: the source order number in CCV's `reservationnumber`, in the format the
//! `order_marker` setting gives ("WEB-{number}" by default; "{number}" for orders a previous
//! integration or the staff booked with the bare number).

use tillbridge_sdk::types::PluginError;

const PLACEHOLDER: &str = "{number}";

/// A marker format: the text before and after the order number.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    prefix: String,
    suffix: String,
}

impl Marker {
    /// Reads the `order_marker` setting; it holds `{number}` exactly once.
    pub fn parse(format: &str) -> Result<Marker, PluginError> {
        match format.split_once(PLACEHOLDER) {
            Some((prefix, suffix)) if !suffix.contains(PLACEHOLDER) => Ok(Marker {
                prefix: prefix.to_string(),
                suffix: suffix.to_string(),
            }),
            _ => Err(PluginError::fatal(format!(
                "plugin settings: order_marker {format:?} must hold {PLACEHOLDER} exactly once, \
                 e.g. \"WEB-{PLACEHOLDER}\" or \"{PLACEHOLDER}\""
            ))),
        }
    }

    /// The format as the setting gives it, to tell formats apart in memory.
    pub fn format(&self) -> String {
        format!("{}{PLACEHOLDER}{}", self.prefix, self.suffix)
    }

    /// The marker of an order number.
    pub fn write(&self, number: &str) -> String {
        format!("{}{number}{}", self.prefix, self.suffix)
    }

    /// The order number in a marker of this format; none when the text does not fit it.
    pub fn read<'a>(&self, marker: &'a str) -> Option<&'a str> {
        let number = marker
            .trim()
            .strip_prefix(self.prefix.as_str())?
            .strip_suffix(self.suffix.as_str())?;
        (!number.is_empty()).then_some(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_is_written_and_read_back() {
        let web = Marker::parse("WEB-{number}").unwrap();
        assert_eq!(web.write("10042"), "WEB-10042");
        assert_eq!(web.read("WEB-10042"), Some("10042"));
        assert_eq!(web.read(" WEB-10042 "), Some("10042"));
        assert_eq!(web.read("10042"), None);
        assert_eq!(web.read("WEB-"), None);
        assert_eq!(web.format(), "WEB-{number}");

        let bare = Marker::parse("{number}").unwrap();
        assert_eq!(bare.write("10042"), "10042");
        assert_eq!(bare.read("10042"), Some("10042"));

        let around = Marker::parse("SW[{number}]").unwrap();
        assert_eq!(around.read("SW[7]"), Some("7"));
        assert_eq!(around.read("SW[7"), None);
    }

    #[test]
    fn a_format_without_the_number_is_refused_with_the_fix() {
        for bad in ["WEB-", "{number}-{number}", "WEB-{nummer}"] {
            let PluginError::Fatal(message) = Marker::parse(bad).unwrap_err() else {
                panic!("{bad}")
            };
            assert!(message.contains("order_marker"), "{message}");
        }
    }
}
