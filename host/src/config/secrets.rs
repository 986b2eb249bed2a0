//! An integration's own secrets (`run --integrations FOLDER --secrets DIR`): the `${VAR}`
//! references of integration NAME are looked up in the file `DIR/NAME` first, then in the process
//! environment. Every integration can then name its credentials alike (`${CCV_SECRET}`) and sees
//! only its own; in Kubernetes, DIR is a Secret mounted as a volume, one key per integration,
//! which the kubelet keeps up to date without a restart.
//!
//! The file is in Docker's `--env-file` format: `VAR=value` lines, `#` comments and blank lines
//! ignored, the value taken literally up to the end of the line (no quotes or `$` expansion:
//! dotenv parsers expand `$`, which would silently change a password such as `pa$$word`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::diagnostics::Problem;
use super::env::{ProcessEnv, Vars};

/// The secrets of one integration, then the process environment.
#[derive(Debug)]
pub struct Secrets {
    file: PathBuf,
    /// `None` when the file does not exist: everything comes from the environment.
    values: Option<BTreeMap<String, String>>,
}

impl Secrets {
    /// Reads an integration's secrets file (`DIR/NAME`). A missing file is no error (the
    /// integration takes everything from the environment); an unreadable or malformed one is,
    /// naming the file and line but never a value.
    pub fn read(file: &Path) -> Result<Secrets> {
        let file = file.to_path_buf();
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Secrets { file, values: None });
            }
            Err(e) => bail!("cannot read the secrets file {}: {e}", file.display()),
        };
        let mut values = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let Some((var, value)) = trimmed.split_once('=').filter(|(var, _)| valid(var)) else {
                bail!(
                    "{}, line {}: not a `NAME=value` line (a name is letters, digits and `_`; \
                     a comment starts with `#`)",
                    file.display(),
                    index + 1
                );
            };
            values.insert(var.to_string(), value.to_string());
        }
        Ok(Secrets {
            file,
            values: Some(values),
        })
    }
}

/// A variable's name as `${NAME}` accepts it.
fn valid(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Vars for Secrets {
    fn get(&self, name: &str) -> Option<String> {
        let own = self.values.as_ref().and_then(|values| values.get(name));
        own.cloned().or_else(|| ProcessEnv.get(name))
    }

    fn missing(&self, name: &str) -> Problem {
        let file = self.file.display();
        let whence = match self.values {
            Some(_) => format!("{file}"),
            None => format!("{file} (which does not exist)"),
        };
        Problem::at::<&str>(
            &[],
            format!("refers to {name}, which is neither in the secrets file {whence} nor in the environment"),
        )
        .hint(format!(
            "add a line `{name}=…` to {file}, or give a default: `${{{name}:-…}}`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(text: Option<&str>) -> (tempfile::TempDir, Result<Secrets>) {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = text {
            std::fs::write(dir.path().join("shop-a"), text).unwrap();
        }
        let read = Secrets::read(&dir.path().join("shop-a"));
        (dir, read)
    }

    #[test]
    fn values_are_taken_literally_and_comments_skipped() {
        let text = "# shop-a's\n\nCCV_SECRET=pa$$word \"quoted\" # not a comment\r\n  EMPTY=\nURL=http://a/?x=1\n";
        let (_dir, read) = secrets(Some(text));
        let secrets = read.unwrap();
        assert_eq!(
            secrets.get("CCV_SECRET").as_deref(),
            Some("pa$$word \"quoted\" # not a comment")
        );
        assert_eq!(secrets.get("EMPTY").as_deref(), Some(""));
        assert_eq!(secrets.get("URL").as_deref(), Some("http://a/?x=1"));
    }

    #[test]
    fn the_environment_comes_after_the_file() {
        // PATH is set in every test process; the file's value wins.
        let (_dir, read) = secrets(Some("PATH=mine\n"));
        assert_eq!(read.unwrap().get("PATH").as_deref(), Some("mine"));
        let (_dir, read) = secrets(None);
        let secrets = read.unwrap();
        assert_eq!(secrets.get("PATH"), std::env::var("PATH").ok());
        assert_eq!(secrets.get("TILLBRIDGE_TEST_NEVER_SET"), None);
    }

    #[test]
    fn a_bad_line_names_the_file_and_line_but_not_its_value() {
        let (dir, read) = secrets(Some("A=1\nCCV SECRET=hunter2\n"));
        let message = read.unwrap_err().to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(
            message.contains(&dir.path().join("shop-a").display().to_string()),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("shop-a")).unwrap();
        let message = Secrets::read(&dir.path().join("shop-a"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("cannot read the secrets file"),
            "{message}"
        );
    }

    #[test]
    fn an_unset_variable_says_where_it_was_looked_for() {
        let (dir, read) = secrets(None);
        let problem = read.unwrap().missing("CCV_SECRET");
        let file = dir.path().join("shop-a").display().to_string();
        assert!(problem.message.contains(&file), "{}", problem.message);
        assert!(
            problem.message.contains("does not exist"),
            "{}",
            problem.message
        );
        assert!(problem.hint.unwrap().contains("CCV_SECRET=…"));
    }
}
