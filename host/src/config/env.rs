//! `${VAR}` references in configuration strings: secrets and addresses come from the environment,
//! not from the file. `${VAR:-default}` gives a default; `$${` writes a literal `${`.

use toml::Value;

use super::diagnostics::Problem;

/// Where variable values come from (the process environment, or a fixed map in the demo and
/// in tests).
pub trait Vars {
    /// The value of a variable, if set.
    fn get(&self, name: &str) -> Option<String>;

    /// What is wrong when `name` is not set, and where to set it.
    fn missing(&self, name: &str) -> Problem {
        Problem::at::<&str>(
            &[],
            format!("refers to the environment variable {name}, which is not set"),
        )
        .hint(format!(
            "set it (`export {name}=…`) before starting tillbridge, or give a default: `${{{name}:-…}}`"
        ))
    }
}

/// The process environment.
pub struct ProcessEnv;

impl Vars for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<F: Fn(&str) -> Option<String>> Vars for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// Replaces every reference in every string of `value`, in place. Each unset variable without a
/// default is one problem, at its key.
pub fn resolve(
    value: &mut Value,
    path: &mut Vec<String>,
    vars: &dyn Vars,
    problems: &mut Vec<Problem>,
) {
    match value {
        Value::String(s) => match expand(s, vars) {
            Ok(expanded) => *s = expanded,
            Err(mut problem) => {
                problem.path = path.clone();
                problems.push(problem);
            }
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                resolve(item, path, vars, problems);
                path.pop();
            }
        }
        Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                path.push(key.clone());
                resolve(item, path, vars, problems);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Expands the references in one string.
pub fn expand(text: &str, vars: &dyn Vars) -> Result<String, Problem> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(end) = tail.find('}') else {
                return Err(
                    Problem::at::<&str>(&[], format!("`{after}` has no closing `}}`"))
                        .hint("write `${NAME}` to use the environment variable NAME"),
                );
            };
            let inner = &tail[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Problem::at::<&str>(
                    &[],
                    format!("`${{{inner}}}` is not a variable reference"),
                )
                .hint(
                    "variable names are letters, digits and `_`, e.g. `${SHOPWARE_CLIENT_SECRET}`",
                ));
            }
            match vars.get(name).or_else(|| default.map(String::from)) {
                Some(value) => out.push_str(&value),
                None => return Err(vars.missing(name)),
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        (name == "SET").then(|| "value".to_string())
    }

    #[test]
    fn references_defaults_and_escapes() {
        assert_eq!(expand("a ${SET} b", &vars).unwrap(), "a value b");
        assert_eq!(expand("${UNSET:-fallback}", &vars).unwrap(), "fallback");
        assert_eq!(
            expand("$${SET} costs $5", &vars).unwrap(),
            "${SET} costs $5"
        );
    }

    #[test]
    fn unset_variables_are_named() {
        let problem = expand("${MISSING}", &vars).unwrap_err();
        assert!(problem.message.contains("MISSING"), "{}", problem.message);
        assert!(expand("${bad name}", &vars).is_err());
        assert!(expand("${OPEN", &vars).is_err());
    }
}
