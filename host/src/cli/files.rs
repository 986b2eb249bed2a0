//! What the commands that write files for the user (`init`, `new`) share: templates rendered
//! with line-oriented block tags, so that a `{% if %}` line leaves no blank line behind.

use minijinja::Environment;
use minijinja::syntax::SyntaxConfig;

/// A template environment for files: block tags trim their line, and a file keeps its final
/// newline.
pub fn templates() -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    Ok(env)
}
