//! Configuration errors that name the file, the line, the key and what would be right.

use std::fmt;
use std::path::{Path, PathBuf};

/// One thing wrong in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line (from 1) and column (from 1) of the key, when known.
    pub position: Option<(usize, usize)>,
    /// The key path, e.g. `["flows", "orders", "schedule"]`.
    pub path: Vec<String>,
    /// What is wrong.
    pub message: String,
    /// What would be right.
    pub hint: Option<String>,
}

impl Problem {
    /// A problem at a key path.
    pub fn at<S: AsRef<str>>(path: &[S], message: impl Into<String>) -> Self {
        let path = path.iter().map(|s| s.as_ref().to_string()).collect();
        Problem {
            position: None,
            path,
            message: message.into(),
            hint: None,
        }
    }

    /// The key path as TOML writes it: `flows.orders.settings.payment_methods."Credit card"`.
    pub fn key(&self) -> String {
        let bare = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        self.path
            .iter()
            .map(|s| if bare(s) { s.clone() } else { format!("{s:?}") })
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The same problem at `parent` followed by `key` (for problems found without knowing where).
    pub fn prefixed(mut self, parent: &[String], key: &str) -> Self {
        let mut path = parent.to_vec();
        path.push(key.to_string());
        path.append(&mut self.path);
        self.path = path;
        self
    }

    /// Adds what would be right.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Everything wrong in one configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// The problems, in the order of the file.
    pub problems: Vec<Problem>,
}

impl ConfigError {
    /// An error with one problem.
    pub fn one(file: &Path, problem: Problem) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            problems: vec![problem],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.file.display())?;
            if let Some((line, column)) = p.position {
                write!(f, ":{line}:{column}")?;
            }
            if p.path.is_empty() {
                write!(f, ": {}", p.message)?;
            } else {
                write!(f, ": {}: {}", p.key(), p.message)?;
            }
            if let Some(hint) = &p.hint {
                write!(f, "\n    fix: {hint}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
