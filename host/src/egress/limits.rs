//! Which rate limit a request falls under. A limit names its requests by an operation pattern, a
//! method and a path as the connector labels its requests (`GET /productqueries`,
//! `PATCH /attributecombinations/{id}`); connectors declare theirs (WIT `operation-limit`) and
//! flows.toml overrides them. Every operation a pattern matches is limited on its own, as CCV
//! counts "each method in each resource".

use std::fmt;
use std::time::Duration;

/// One segment of a pattern's path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// This text exactly.
    Literal(String),
    /// Any one segment: `*` or `{name}`.
    Any,
}

/// Which requests a limit counts: `GET /productqueries`, `GET /products/{id}`, `GET *` (every
/// read), `* *` (every request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// Upper case; none for `*`.
    method: Option<String>,
    /// None for a path of just `*` (any path).
    path: Option<Vec<Segment>>,
}

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

impl Pattern {
    /// Reads `METHOD PATH`; the error says what is wrong in words for flows.toml.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let Some((method, path)) = text.trim().split_once(' ') else {
            return Err(format!(
                "{text:?} is not an operation: write a method and a path, separated by a space"
            ));
        };
        let method = method.to_ascii_uppercase();
        let method = match method.as_str() {
            "*" => None,
            m if METHODS.contains(&m) => Some(method),
            _ => {
                return Err(format!(
                    "{text:?} does not start with an HTTP method ({} or *)",
                    METHODS.join(", ")
                ));
            }
        };
        let path = match path.trim() {
            "*" => None,
            p if p.starts_with('/') => Some(
                p.split('/')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        if s == "*" || (s.starts_with('{') && s.ends_with('}')) {
                            Segment::Any
                        } else {
                            Segment::Literal(s.to_string())
                        }
                    })
                    .collect(),
            ),
            _ => {
                return Err(format!(
                    "the path of {text:?} must start with / (or be * for every path)"
                ));
            }
        };
        Ok(Pattern { method, path })
    }

    /// Whether a request of `method` labelled `operation` is one of these. The label's path is
    /// what follows its method ("GET /products/{id}"); a label of another shape is its own path.
    pub fn matches(&self, method: &str, operation: &str) -> bool {
        if self
            .method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method))
        {
            return false;
        }
        let Some(segments) = &self.path else {
            return true;
        };
        let path = match operation.split_once(' ') {
            Some((word, rest)) if word.eq_ignore_ascii_case(method) => rest,
            _ => operation,
        };
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        parts.len() == segments.len()
            && segments
                .iter()
                .zip(&parts)
                .all(|(segment, part)| match segment {
                    Segment::Literal(text) => text == part,
                    Segment::Any => true,
                })
    }

    /// How narrowly it names its requests: a path before none, then more literal segments, then
    /// a method before `*`.
    fn specificity(&self) -> (bool, usize, bool) {
        let literals = self.path.as_ref().map_or(0, |segments| {
            segments
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count()
        });
        (self.path.is_some(), literals, self.method.is_some())
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = match &self.path {
            None => "*".to_string(),
            Some(segments) => segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(text) => format!("/{text}"),
                    Segment::Any => "/*".to_string(),
                })
                .collect(),
        };
        write!(f, "{} {path}", self.method.as_deref().unwrap_or("*"))
    }
}

/// So many requests per window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    /// At most this many requests …
    pub requests: u32,
    /// … in any window this long.
    pub window: Duration,
}

/// Limits by pattern, from the connector and from flows.toml.
#[derive(Debug, Clone, Default)]
pub struct LimitTable {
    /// (pattern, allowance, whether flows.toml set it).
    entries: Vec<(Pattern, Allowance, bool)>,
}

impl LimitTable {
    /// Adds a limit the connector declares.
    pub fn declared(&mut self, pattern: Pattern, allowance: Allowance) {
        self.entries.push((pattern, allowance, false));
    }

    /// Adds a limit flows.toml sets: it wins over a declared one as specific as it.
    pub fn configured(&mut self, pattern: Pattern, allowance: Allowance) {
        self.entries.push((pattern, allowance, true));
    }

    /// The limit of a request of `method` labelled `operation`: the most specific pattern that
    /// matches it; at equal specificity flows.toml's, then the one added last. None: unlimited.
    pub fn allowance(&self, method: &str, operation: &str) -> Option<Allowance> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, (pattern, _, _))| pattern.matches(method, operation))
            .max_by_key(|(order, (pattern, _, configured))| {
                (pattern.specificity(), *configured, *order)
            })
            .map(|(_, (_, allowance, _))| *allowance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_minute(requests: u32) -> Allowance {
        Allowance {
            requests,
            window: Duration::from_secs(60),
        }
    }

    fn pattern(text: &str) -> Pattern {
        Pattern::parse(text).unwrap()
    }

    #[test]
    fn patterns_read_methods_paths_and_wildcards() {
        assert!(pattern("GET /productqueries").matches("GET", "GET /productqueries"));
        assert!(!pattern("GET /productqueries").matches("GET", "GET /products"));
        assert!(pattern("get /products/{id}").matches("GET", "GET /products/{id}"));
        assert!(
            pattern("PATCH /attributecombinations/*")
                .matches("PATCH", "PATCH /attributecombinations/{id}")
        );
        assert!(pattern("GET *").matches("GET", "oauth token"));
        assert!(!pattern("GET *").matches("POST", "POST /orders"));
        assert!(pattern("* *").matches("DELETE", "DELETE /x"));
        assert_eq!(pattern("get /a/{id}").to_string(), "GET /a/*");
        for bad in ["GET", "FETCH /x", "GET x", ""] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_most_specific_limit_counts_and_flows_toml_wins_a_tie() {
        let mut table = LimitTable::default();
        table.declared(pattern("GET *"), per_minute(150));
        table.declared(pattern("GET /productqueries"), per_minute(30));
        table.configured(pattern("GET *"), per_minute(100));
        assert_eq!(
            table.allowance("GET", "GET /productqueries"),
            Some(per_minute(30)),
            "a whole-method override does not lift a narrower declared limit"
        );
        assert_eq!(
            table.allowance("GET", "GET /products"),
            Some(per_minute(100))
        );
        assert_eq!(table.allowance("POST", "POST /products"), None);
        table.configured(pattern("GET /productqueries"), per_minute(20));
        assert_eq!(
            table.allowance("GET", "GET /productqueries"),
            Some(per_minute(20))
        );
    }
}
