//! Which replica runs which integration: `--shard I/N`.

use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Shard `index` of `count`: the integrations whose name hashes to `index` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

impl Shard {
    /// Every integration (the default: one replica).
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// The shard an integration named `name` belongs to among `count`. The first eight bytes of
    /// the SHA-256 of the name: stable across releases and machines (std's hasher is not), since
    /// moving an integration to another replica moves its work (and, on separate disks, its state).
    pub fn of(name: &str, count: u64) -> u64 {
        let digest = Sha256::digest(name.as_bytes());
        let first: [u8; 8] = digest[..8].try_into().expect("a SHA-256 has 32 bytes");
        u64::from_be_bytes(first) % count
    }

    /// Whether this shard runs the integration named `name`.
    pub fn runs(&self, name: &str) -> bool {
        Self::of(name, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let usage = "write it as I/N, shard I of N replicas counted from 0 (such as 0/2 and 1/2)";
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not a shard: {usage}"))?;
        let number = |part: &str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| format!("{part:?} in {text:?} is not a whole number: {usage}"))
        };
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 {
            return Err(format!(
                "{text:?}: there is at least one shard (N ≥ 1): {usage}"
            ));
        }
        if index >= count {
            return Err(format!(
                "{text:?}: shards of {count} are 0 to {}: {usage}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned: a change of the hash would move integrations (and their work) between replicas.
    #[test]
    fn the_shard_of_a_name_never_changes() {
        let pinned: Vec<u64> = ["acme", "bakery-noord", "shop-001", "shop-002", "zeeland"]
            .iter()
            .map(|name| Shard::of(name, 7))
            .collect();
        assert_eq!(pinned, PINNED);
    }

    const PINNED: [u64; 5] = [2, 4, 2, 2, 0];

    #[test]
    fn shards_split_names_into_disjoint_complete_sets() {
        let names: Vec<String> = (0..200).map(|i| format!("shop-{i:03}")).collect();
        let shards: Vec<Shard> = (0..3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for name in &names {
            assert_eq!(shards.iter().filter(|s| s.runs(name)).count(), 1, "{name}");
        }
        for shard in &shards {
            let count = names.iter().filter(|n| shard.runs(n)).count();
            assert!((40..=95).contains(&count), "{shard}: {count} of 200");
        }
        assert!(names.iter().all(|n| Shard::ALL.runs(n)));
    }

    #[test]
    fn a_wrong_shard_says_how_to_write_one() {
        for (text, says) in [
            ("2/2", "shards of 2 are 0 to 1"),
            ("0/0", "at least one shard"),
            ("1", "is not a shard"),
            ("a/2", "not a whole number"),
            ("-1/2", "not a whole number"),
        ] {
            let error = text.parse::<Shard>().unwrap_err();
            assert!(
                error.contains(says) && error.contains("I/N"),
                "{text}: {error}"
            );
        }
        assert_eq!("1/2".parse::<Shard>().unwrap().to_string(), "1/2");
    }
}
