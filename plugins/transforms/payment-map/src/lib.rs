//! Maps webshop payment method names to point-of-sale payment method ids (see README.md).

use std::collections::BTreeMap;

use serde::Deserialize;
use tillbridge_sdk::types::{Order, Problem, SettingKind, SettingSpec};

tillbridge_sdk::transform_bindings!();

use exports::tillbridge::plugin::transformer::{
    Entity, FlowContext, Guest, RecordKinds, TransformInfo, Verdict,
};

/// What to do with an order whose payment method has no mapping.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Unmapped {
    #[default]
    Fail,
    Keep,
    Drop,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    map: BTreeMap<String, String>,
    #[serde(default)]
    fallback: Option<String>,
    #[serde(default)]
    unmapped: Unmapped,
}

/// The settings, declared to the host in the order of [`Settings`]' fields (README.md).
fn declared() -> Vec<SettingSpec> {
    vec![
        SettingSpec::new(
            "map",
            SettingKind::TextMap,
            "Payment method name (as the source's orders carry it) → the target's id.",
        )
        .required(),
        SettingSpec::new(
            "fallback",
            SettingKind::Text,
            "The id for a payment method the map does not name.",
        ),
        SettingSpec::new(
            "unmapped",
            SettingKind::Text,
            "Without a fallback, an unmapped order: `fail`, `keep` or `drop`.",
        )
        .with_default(r#""fail""#),
    ]
}

/// The settings with names normalised once, so that each lookup is cheap.
struct PaymentMap {
    ids: BTreeMap<String, String>,
    fallback: Option<String>,
    unmapped: Unmapped,
}

fn normalise(name: &str) -> String {
    name.trim().to_lowercase()
}

impl PaymentMap {
    fn new(settings: Settings) -> Self {
        let ids = settings
            .map
            .into_iter()
            .map(|(name, id)| (normalise(&name), id))
            .collect();
        PaymentMap {
            ids,
            fallback: settings.fallback,
            unmapped: settings.unmapped,
        }
    }

    fn apply(&self, entity: Entity) -> Verdict {
        match entity {
            Entity::Order(order) => self.map_order(order),
            other => Verdict::Keep(other),
        }
    }

    fn map_order(&self, mut order: Order) -> Verdict {
        let source = order.payment_method.clone();
        let mapped = source
            .as_deref()
            .and_then(|name| self.ids.get(&normalise(name)));
        match mapped.or(self.fallback.as_ref()) {
            Some(id) => {
                order.payment_method = Some(id.clone());
                Verdict::Keep(Entity::Order(order))
            }
            None => {
                let what = match &source {
                    Some(name) => format!("payment method {name:?} has no mapping"),
                    None => "the order has no payment method and there is no fallback".to_string(),
                };
                match self.unmapped {
                    Unmapped::Keep => Verdict::Keep(Entity::Order(order)),
                    Unmapped::Drop => Verdict::Drop(format!("order {}: {what}", order.number)),
                    Unmapped::Fail => Verdict::Fail(Problem {
                        message: format!("{what}: add it to `map` in the payment-map settings"),
                        field: Some("payment-method".into()),
                    }),
                }
            }
        }
    }
}

struct Component;

impl Guest for Component {
    fn info() -> TransformInfo {
        TransformInfo {
            name: "payment-map".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "Replaces each order's payment method name with the target's payment method id"
                    .into(),
            kinds: RecordKinds::ORDER,
            settings: declared(),
        }
    }

    fn transform(_context: FlowContext, batch: Vec<Entity>) -> Vec<Verdict> {
        match tillbridge_sdk::settings::load::<Settings>() {
            Ok(settings) => {
                let map = PaymentMap::new(settings);
                batch.into_iter().map(|entity| map.apply(entity)).collect()
            }
            Err(e) => {
                let problem = Problem {
                    message: e.describe(),
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

    fn order(method: Option<&str>) -> Order {
        let mut order = tillbridge_sdk::samples::order("10001");
        order.payment_method = method.map(String::from);
        order
    }

    fn settings(json: &str) -> PaymentMap {
        PaymentMap::new(tillbridge_sdk::settings::parse(json).unwrap())
    }

    fn method_after(map: &PaymentMap, method: Option<&str>) -> Verdict {
        map.apply(Entity::Order(order(method)))
    }

    #[test]
    fn names_match_ignoring_case_and_spaces() {
        let map = settings(r#"{"map":{"PayPal":"3"}}"#);
        let Verdict::Keep(Entity::Order(o)) = method_after(&map, Some("  paypal ")) else {
            panic!()
        };
        assert_eq!(o.payment_method.as_deref(), Some("3"));
    }

    #[test]
    fn unmapped_names_fail_by_default_naming_the_method() {
        let map = settings(r#"{"map":{"PayPal":"3"}}"#);
        let Verdict::Fail(p) = method_after(&map, Some("Klarna")) else {
            panic!()
        };
        assert!(p.message.contains("\"Klarna\""), "{}", p.message);
    }

    #[test]
    fn fallback_and_drop() {
        let map = settings(r#"{"map":{},"fallback":"1"}"#);
        let Verdict::Keep(Entity::Order(o)) = method_after(&map, None) else {
            panic!()
        };
        assert_eq!(o.payment_method.as_deref(), Some("1"));
        let map = settings(r#"{"map":{},"unmapped":"drop"}"#);
        assert!(matches!(method_after(&map, Some("Cash")), Verdict::Drop(_)));
    }

    #[test]
    fn unknown_settings_are_refused() {
        assert!(tillbridge_sdk::settings::parse::<Settings>(r#"{"mapping":{}}"#).is_err());
    }
}
