//! Rewrites article numbers by rule and leaves some articles out (see README.md).

use regex_lite::Regex;
use serde::Deserialize;
use tillbridge_sdk::types::{Order, Problem, Product, SettingKind, SettingSpec, StockLevel};

tillbridge_sdk::transform_bindings!();

use exports::tillbridge::plugin::transformer::{
    Entity, FlowContext, Guest, RecordKinds, TransformInfo, Verdict,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSetting {
    pattern: String,
    replace: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Case {
    Upper,
    Lower,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    skip: Vec<String>,
    #[serde(default)]
    rules: Vec<RuleSetting>,
    strip_prefix: Option<String>,
    prefix: Option<String>,
    suffix: Option<String>,
    case: Option<Case>,
}

/// The settings, declared to the host in the order of [`Settings`]' fields (README.md).
fn declared() -> Vec<SettingSpec> {
    use SettingKind::*;
    vec![
        SettingSpec::new(
            "skip",
            TextList,
            "Patterns of SKUs whose records are left out.",
        )
        .with_default("[]"),
        SettingSpec::new(
            "rules",
            Json,
            "Rewrite rules `{ pattern, replace }`, applied in order.",
        )
        .with_default("[]"),
        SettingSpec::new("strip_prefix", Text, "A prefix taken off every SKU."),
        SettingSpec::new("prefix", Text, "A prefix put before every SKU."),
        SettingSpec::new("suffix", Text, "A suffix put after every SKU."),
        SettingSpec::new("case", Text, "`upper` or `lower`: the SKU's case."),
    ]
}

/// What became of one SKU.
#[derive(Debug, PartialEq)]
enum Rewritten {
    Sku(String),
    /// It matched a `skip` pattern (the pattern is kept for the reason).
    Skipped(String),
}

/// The settings with their patterns compiled.
struct Rewriter {
    skip: Vec<Regex>,
    rules: Vec<(Regex, String)>,
    settings: Settings,
}

fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("sku-rewrite pattern {pattern:?} is not valid: {e}"))
}

impl Rewriter {
    fn new(mut settings: Settings) -> Result<Self, String> {
        let skip = settings
            .skip
            .iter()
            .map(|p| compile(p))
            .collect::<Result<_, _>>()?;
        let rules = std::mem::take(&mut settings.rules)
            .into_iter()
            .map(|r| Ok((compile(&r.pattern)?, r.replace)))
            .collect::<Result<_, String>>()?;
        Ok(Rewriter {
            skip,
            rules,
            settings,
        })
    }

    fn rewrite(&self, sku: &str) -> Result<Rewritten, Problem> {
        if let Some(pattern) = self.skip.iter().find(|p| p.is_match(sku)) {
            return Ok(Rewritten::Skipped(format!(
                "SKU {sku:?} matches skip pattern {:?}",
                pattern.as_str()
            )));
        }
        let mut out = match self.rules.iter().find(|(p, _)| p.is_match(sku)) {
            Some((pattern, replace)) => pattern.replace(sku, replace.as_str()).into_owned(),
            None => sku.to_string(),
        };
        if let Some(strip) = &self.settings.strip_prefix
            && let Some(rest) = out.strip_prefix(strip.as_str())
        {
            out = rest.to_string();
        }
        out = format!(
            "{}{out}{}",
            self.settings.prefix.as_deref().unwrap_or(""),
            self.settings.suffix.as_deref().unwrap_or("")
        );
        match self.settings.case {
            Some(Case::Upper) => out = out.to_uppercase(),
            Some(Case::Lower) => out = out.to_lowercase(),
            None => {}
        }
        if out.trim().is_empty() {
            return Err(Problem {
                message: format!("SKU {sku:?} became empty after the sku-rewrite rules"),
                field: Some("sku".into()),
            });
        }
        Ok(Rewritten::Sku(out))
    }

    fn apply(&self, entity: Entity) -> Verdict {
        let result = match entity {
            Entity::Product(product) => self.product(product),
            Entity::Order(order) => self.order(order).map(Entity::Order).map(Verdict::Keep),
            Entity::StockLevel(level) => self.stock_level(level),
            other => Ok(Verdict::Keep(other)),
        };
        result.unwrap_or_else(Verdict::Fail)
    }

    fn product(&self, mut product: Product) -> Result<Verdict, Problem> {
        match self.rewrite(&product.sku)? {
            Rewritten::Skipped(reason) => return Ok(Verdict::Drop(reason)),
            Rewritten::Sku(sku) => product.sku = sku,
        }
        let mut variants = Vec::with_capacity(product.variants.len());
        for mut variant in product.variants {
            if let Rewritten::Sku(sku) = self.rewrite(&variant.sku)? {
                variant.sku = sku;
                variants.push(variant);
            }
        }
        product.variants = variants;
        Ok(Verdict::Keep(Entity::Product(product)))
    }

    fn order(&self, mut order: Order) -> Result<Order, Problem> {
        let mut lines = Vec::with_capacity(order.lines.len());
        for mut line in order.lines {
            match line
                .sku
                .as_deref()
                .map(|sku| self.rewrite(sku))
                .transpose()?
            {
                Some(Rewritten::Skipped(_)) => continue,
                Some(Rewritten::Sku(sku)) => line.sku = Some(sku),
                None => {}
            }
            lines.push(line);
        }
        order.lines = lines;
        Ok(order)
    }

    fn stock_level(&self, mut level: StockLevel) -> Result<Verdict, Problem> {
        Ok(match self.rewrite(&level.sku)? {
            Rewritten::Skipped(reason) => Verdict::Drop(reason),
            Rewritten::Sku(sku) => {
                level.sku = sku;
                Verdict::Keep(Entity::StockLevel(level))
            }
        })
    }
}

struct Component;

impl Guest for Component {
    fn info() -> TransformInfo {
        TransformInfo {
            name: "sku-rewrite".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Rewrites article numbers by rule and leaves matching articles out".into(),
            kinds: RecordKinds::PRODUCT | RecordKinds::ORDER | RecordKinds::STOCK_LEVEL,
            settings: declared(),
        }
    }

    fn transform(_context: FlowContext, batch: Vec<Entity>) -> Vec<Verdict> {
        let rewriter = tillbridge_sdk::settings::load::<Settings>()
            .map_err(|e| e.describe())
            .and_then(Rewriter::new);
        match rewriter {
            Ok(rewriter) => batch
                .into_iter()
                .map(|entity| rewriter.apply(entity))
                .collect(),
            Err(message) => {
                let problem = Problem {
                    message,
                    field: None,
                };
                batch
                    .iter()
                    .map(|_| Verdict::Fail(problem.clone()))
                    .collect()
            }
        }
    }
}

// Only a WASM build exports the component; natively the crate is built for its unit tests.
#[cfg(target_family = "wasm")]
export!(Component);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_settings_are_the_ones_read() {
        assert_eq!(
            tillbridge_sdk::settings::names(&declared()),
            tillbridge_sdk::settings::field_names::<Settings>()
        );
    }

    fn rewriter(json: &str) -> Rewriter {
        Rewriter::new(tillbridge_sdk::settings::parse(json).unwrap()).unwrap()
    }

    fn sku(r: &Rewriter, sku: &str) -> Rewritten {
        r.rewrite(sku).unwrap()
    }

    #[test]
    fn rules_apply_in_the_documented_order() {
        let r = rewriter(
            r#"{"rules":[{"pattern":"^OLD-(\\d+)$","replace":"NEW-$1"}],"strip_prefix":"NEW-","prefix":"pos-","case":"upper"}"#,
        );
        assert_eq!(sku(&r, "OLD-12"), Rewritten::Sku("POS-12".into()));
        assert_eq!(sku(&r, "x-9"), Rewritten::Sku("POS-X-9".into()));
    }

    #[test]
    fn skip_patterns_win() {
        let r = rewriter(r#"{"skip":["^GIFT-"],"prefix":"A"}"#);
        assert!(matches!(sku(&r, "GIFT-25"), Rewritten::Skipped(_)));
        assert_eq!(sku(&r, "1"), Rewritten::Sku("A1".into()));
    }

    #[test]
    fn an_empty_result_is_a_failure_not_an_empty_sku() {
        let r = rewriter(r#"{"strip_prefix":"SW-"}"#);
        assert_eq!(r.rewrite("SW-").unwrap_err().field.as_deref(), Some("sku"));
    }

    #[test]
    fn bad_patterns_are_named() {
        let settings = tillbridge_sdk::settings::parse(r#"{"skip":["("]}"#).unwrap();
        let Err(message) = Rewriter::new(settings) else {
            panic!("accepted a bad pattern")
        };
        assert!(message.contains("\"(\""), "{message}");
    }
}
