//! The Shopware version, read once from `GET /api/_info/version`, and every behaviour that
//! differs by version, decided in one place.

use serde::Deserialize;
use tillbridge_sdk::types::PluginError;

/// How many rows a search or a sync request carries at most. 6.6+ refuses searches over 500
/// rows; 6.4 and 6.5 have no cap, but 500 keeps answers and PHP's memory small there too.
pub const MAX_ROWS: u32 = 500;

/// What `stock` means in a shop (FLOWS.md §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StockMode {
    /// Up to 6.5 without the stock-handling flag: `stock` is physical and Shopware subtracts
    /// open orders into `availableStock`, the sellable quantity.
    Legacy,
    /// 6.6+ (and 6.5 with `STOCK_HANDLING=1`): `stock` is the sellable quantity.
    Sellable,
}

/// How the sync API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncFormat {
    /// 6.4: record by record; with `fail-on-error: false` good records are written and each
    /// bad one is reported in `data.{operation}.result[i].errors`.
    PerRecord,
    /// 6.5+: the whole request is one transaction; a bad record fails it with a 400 whose
    /// pointers name the operation and the row.
    Atomic,
}

/// A Shopware version such as 6.6.10.16.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// As the shop reported it.
    pub text: String,
    parts: [u32; 4],
}

impl Version {
    /// Reads "6.6.10.16" (a suffix such as "-dev" or "RC1" is ignored).
    pub fn parse(text: &str) -> Result<Version, PluginError> {
        let mut parts = [0u32; 4];
        let mut any = false;
        for (slot, piece) in parts.iter_mut().zip(text.trim().split('.')) {
            let digits: String = piece.chars().take_while(char::is_ascii_digit).collect();
            match digits.parse() {
                Ok(n) => {
                    *slot = n;
                    any = true;
                }
                Err(_) => break,
            }
        }
        if !any || parts[0] != 6 {
            return Err(PluginError::fatal(format!(
                "the shop reports version {text:?}; this connector speaks Shopware 6.4 to 6.7"
            )));
        }
        Ok(Version {
            text: text.trim().to_string(),
            parts,
        })
    }

    /// Whether this is `major.minor.patch` or later.
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        self.parts[..3] >= [major, minor, patch][..]
    }

    /// Whether the shop is older than 6.4, which this connector does not speak.
    pub fn is_supported(&self) -> bool {
        self.at_least(6, 4, 0)
    }

    /// The stock mode, unless the settings say otherwise (6.5 with the flag cannot be told
    /// apart from the outside).
    pub fn stock_mode(&self, setting: Option<StockMode>) -> StockMode {
        setting.unwrap_or(if self.at_least(6, 6, 0) {
            StockMode::Sellable
        } else {
            StockMode::Legacy
        })
    }

    /// The sync API's answer format.
    pub fn sync_format(&self) -> SyncFormat {
        if self.at_least(6, 5, 0) {
            SyncFormat::Atomic
        } else {
            SyncFormat::PerRecord
        }
    }

    /// Whether orders have a primary transaction (6.7.1+): then it, not the latest one, holds
    /// the payment state that counts.
    pub fn has_primary_transaction(&self) -> bool {
        self.at_least(6, 7, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviour_follows_the_version() {
        let v64 = Version::parse("6.4.20.2").unwrap();
        let v66 = Version::parse("6.6.10.16").unwrap();
        let v670 = Version::parse("6.7.0.1").unwrap();
        let v67 = Version::parse("6.7.10.0").unwrap();
        assert_eq!(v64.stock_mode(None), StockMode::Legacy);
        assert_eq!(v66.stock_mode(None), StockMode::Sellable);
        assert_eq!(
            v64.stock_mode(Some(StockMode::Sellable)),
            StockMode::Sellable
        );
        assert_eq!(v64.sync_format(), SyncFormat::PerRecord);
        assert_eq!(v66.sync_format(), SyncFormat::Atomic);
        assert!(!v66.has_primary_transaction() && !v670.has_primary_transaction());
        assert!(v67.has_primary_transaction());
        assert!(Version::parse("6.5.8.0-dev").unwrap().at_least(6, 5, 8));
    }

    #[test]
    fn other_versions_are_named() {
        assert!(Version::parse("5.7.19").is_err());
        assert!(Version::parse("banana").is_err());
        assert!(!Version::parse("6.3.5.0").unwrap().is_supported());
    }
}
