//! The datamapper: what happens to a record between reading it and writing it.
//!
//! 1. The default mapping: the connectors read each system into the canonical model and write
//!    it back out, so the canonical fields FLOWS.md lists (customer name, addresses, lines with
//!    SKU, quantity and price; product name, SKU, texts, price, stock, EAN, currency) map by
//!    default, with nothing to configure.
//! 2. Field overrides from flows.toml (`[flows.NAME.mapping]`): a canonical field path and a
//!    template (minijinja) over the record, e.g. `comment = "Webshop order {{ number }}"`.
//! 3. The flow's transform plugins, in order.
//!
//! Value maps (payment methods and conditions, stores) are flow settings and are applied by the
//! flow where the value is used.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::runtime::bindings::exports::tillbridge::plugin::transformer::{
    Entity, FlowContext, Verdict,
};
use crate::runtime::bindings::tillbridge::plugin::types::Problem;
use crate::runtime::{CallError, Session};

/// The field overrides of one flow, compiled.
pub struct Overrides {
    env: minijinja::Environment<'static>,
    fields: Vec<(String, Vec<String>)>,
}

impl Overrides {
    /// Compiles `mapping` (field path → template); an error names the field.
    pub fn new(mapping: &BTreeMap<String, String>) -> Result<Overrides> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // Templates are named after their field: a field path ending in `.html` or `.json` must
        // not switch on minijinja's escaping for that name.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        let mut fields = Vec::new();
        for (field, template) in mapping {
            env.add_template_owned(field.clone(), template.clone())
                .with_context(|| {
                    format!("mapping for {field}: {template:?} is not a valid template")
                })?;
            fields.push((field.clone(), field.split('.').map(String::from).collect()));
        }
        Ok(Overrides { env, fields })
    }

    /// Whether there is nothing to override.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Applies the overrides to a record; the templates see the record as it came.
    pub fn apply<T: Serialize + DeserializeOwned>(&self, record: T) -> Result<T> {
        if self.fields.is_empty() {
            return Ok(record);
        }
        let original = serde_json::to_value(&record)?;
        let mut changed = original.clone();
        for (field, path) in &self.fields {
            let rendered = self
                .env
                .get_template(field)
                .and_then(|t| t.render(minijinja::value::Serde(&original)))
                .with_context(|| format!("mapping for {field}"))?;
            set_path(&mut changed, path, rendered)
                .with_context(|| format!("mapping for {field}"))?;
        }
        serde_json::from_value(changed)
            .context("the mapped record does not fit the canonical model")
    }
}

/// Sets a field by its path (`customer.email`, `lines.0.sku`). A string field gets the text; a
/// field of another type gets the text read as JSON (`true`, `12`).
fn set_path(value: &mut Value, path: &[String], text: String) -> Result<()> {
    let mut at = value;
    for segment in path {
        at = match at {
            Value::Object(map) => map.get_mut(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        }
        .with_context(|| format!("the record has no field {segment:?} there"))?;
    }
    *at = match at {
        Value::String(_) | Value::Null => Value::String(text),
        _ => match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => bail!("{text:?} does not fit a field of type {}", kind_of(at)),
        },
    };
    Ok(())
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "text",
        Value::Array(_) => "list",
        Value::Object(_) => "record",
    }
}

/// The transform plugins of a flow for one run, applied in order.
pub struct Transforms {
    chain: Vec<(String, Session)>,
}

impl Transforms {
    /// The chain for a run (sessions opened by the caller).
    pub fn new(chain: Vec<(String, Session)>) -> Self {
        Transforms { chain }
    }

    /// Runs a batch through every transform: a record dropped or failed by one goes no further.
    /// One verdict per record, in order.
    pub async fn apply(
        &mut self,
        context: &FlowContext,
        batch: Vec<Entity>,
    ) -> Result<Vec<Verdict>, CallError> {
        let mut verdicts: Vec<Verdict> = batch.into_iter().map(Verdict::Keep).collect();
        for (name, session) in &mut self.chain {
            // The records still kept move into the call and their answers take their places:
            // no copy of a batch per transform.
            let mut positions = Vec::new();
            let mut kept = Vec::new();
            for (i, verdict) in verdicts.iter_mut().enumerate() {
                if matches!(verdict, Verdict::Keep(_))
                    && let Verdict::Keep(entity) =
                        std::mem::replace(verdict, Verdict::Drop(String::new()))
                {
                    positions.push(i);
                    kept.push(entity);
                }
            }
            if kept.is_empty() {
                break;
            }
            let answers = session.transform(context, &kept).await?;
            if answers.len() != kept.len() {
                let problem = Problem {
                    message: format!(
                        "transform {name} answered {} times for {} records",
                        answers.len(),
                        kept.len()
                    ),
                    field: None,
                };
                for i in positions {
                    verdicts[i] = Verdict::Fail(problem.clone());
                }
                break;
            }
            for (i, answer) in positions.into_iter().zip(answers) {
                verdicts[i] = match answer {
                    Verdict::Drop(reason) => Verdict::Drop(format!("{name}: {reason}")),
                    Verdict::Fail(problem) => Verdict::Fail(Problem {
                        message: format!("{name}: {}", problem.message),
                        field: problem.field,
                    }),
                    keep => keep,
                };
            }
        }
        Ok(verdicts)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Record {
        number: String,
        comment: Option<String>,
        paid: bool,
        lines: Vec<Line>,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Line {
        sku: String,
    }

    fn record() -> Record {
        Record {
            number: "10001".into(),
            comment: None,
            paid: false,
            lines: vec![Line { sku: "a-1".into() }],
        }
    }

    fn overrides(pairs: &[(&str, &str)]) -> Result<Overrides> {
        Overrides::new(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn templates_set_fields_from_the_record() {
        let o = overrides(&[
            ("comment", "Webshop order {{ number }}"),
            ("lines.0.sku", "{{ lines[0].sku | upper }}"),
            ("paid", "true"),
        ])
        .unwrap();
        let mapped = o.apply(record()).unwrap();
        assert_eq!(mapped.comment.as_deref(), Some("Webshop order 10001"));
        assert_eq!(mapped.lines[0].sku, "A-1");
        assert!(mapped.paid);
    }

    #[test]
    fn mistakes_name_the_field() {
        let err = overrides(&[("comment", "{{ number")]).err().unwrap();
        assert!(
            format!("{err:#}").contains("mapping for comment"),
            "{err:#}"
        );
        let o = overrides(&[("nothing.here", "x")]).unwrap();
        assert!(format!("{:#}", o.apply(record()).unwrap_err()).contains("nothing"));
        let o = overrides(&[("comment", "{{ no_such_field }}")]).unwrap();
        assert!(
            o.apply(record()).is_err(),
            "an undefined variable is an error, not an empty text"
        );
        let o = overrides(&[("paid", "maybe")]).unwrap();
        assert!(format!("{:#}", o.apply(record()).unwrap_err()).contains("boolean"));
    }

    proptest::proptest! {
        #[test]
        fn text_without_template_syntax_is_written_as_it_is(
            text in "[^{}%#]*[^{}%#\r\n]|",
        ) {
            let mapped = overrides(&[("comment", &text)]).unwrap().apply(record()).unwrap();
            proptest::prop_assert_eq!(mapped.comment.as_deref(), Some(text.as_str()));
        }

        #[test]
        fn a_field_renders_its_value_unescaped(number in "\\PC*[^\r\n]|") {
            let o = overrides(&[("comment", "{{ number }}"), ("lines.0.sku", "{{ number }}")])
                .unwrap();
            let mapped = o.apply(Record { number: number.clone(), ..record() }).unwrap();
            proptest::prop_assert_eq!(mapped.comment.as_deref(), Some(number.as_str()));
            proptest::prop_assert_eq!(&mapped.lines[0].sku, &number);
        }

        #[test]
        fn no_template_or_field_path_makes_mapping_panic(
            field in "[a-z0-9.]{0,12}",
            template in "\\PC{0,40}",
        ) {
            if let Ok(o) = overrides(&[(&field, &template)]) {
                let _ = o.apply(record());
            }
        }
    }
}
