//! The kinds of flow, their schedules and the settings each kind takes (FLOWS.md §1–§3).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Problem, deserialize_at};

/// What a flow moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowKind {
    /// Orders, webshop → point of sale.
    Orders,
    /// Stock levels, point of sale → webshop.
    Stock,
    /// Products, either way.
    Products,
    /// The category tree, webshop → point of sale.
    Categories,
}

impl FlowKind {
    /// The name used in flows.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::Orders => "orders",
            FlowKind::Stock => "stock",
            FlowKind::Products => "products",
            FlowKind::Categories => "categories",
        }
    }
}

impl fmt::Display for FlowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a flow runs: a cron expression, read as crontab(5) reads it (in UTC).
#[derive(Debug, Clone)]
pub struct Schedule {
    /// As written in flows.toml.
    pub expression: String,
    /// As parsed.
    pub cron: croner::Cron,
}

impl Schedule {
    /// Every five minutes, as the original integration polls.
    pub fn default_expression() -> String {
        "*/5 * * * *".into()
    }

    /// Reads a cron expression as crontab users write it: five fields (minute hour day month
    /// weekday), weekday 0 or 7 is Sunday and 1-5 is Monday to Friday, names (MON, JAN) and
    /// nicknames (@daily) are understood, and a day of the month and a weekday both given match
    /// either (as Vixie cron does). Six or seven fields add seconds first and a year last.
    pub fn parse(expression: &str) -> Result<Schedule, Problem> {
        let fields = expression.split_whitespace().count();
        if !(5..=7).contains(&fields) && !expression.trim_start().starts_with('@') {
            return Err(Problem::at::<&str>(
                &[],
                format!("{expression:?} has {fields} fields; a cron expression has 5 (minute hour day month weekday), or 6–7 with seconds and year"),
            )
            .hint("every five minutes is \"*/5 * * * *\"; every day at 06:30 is \"30 6 * * *\""));
        }
        croner::Cron::from_str(expression)
            .map(|cron| Schedule { expression: expression.to_string(), cron })
            .map_err(|e| {
                Problem::at::<&str>(&[], format!("{expression:?} is not a valid cron expression: {e}"))
                    .hint("fields are minute (0-59) hour (0-23) day (1-31) month (1-12) weekday (0-7, 0 and 7 are Sunday, or SUN-SAT); e.g. \"*/5 * * * *\" or \"0 9 * * 1-5\"")
            })
    }

    /// The next time it fires after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&after, false).ok()
    }

    /// The next `n` times it fires after `after`.
    pub fn next_times(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        self.cron.iter_after(after).take(n).collect()
    }
}

/// The settings of a flow, by its kind.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowSettings {
    /// An orders flow.
    Orders(OrdersSettings),
    /// A stock flow.
    Stock(StockSettings),
    /// A products flow.
    Products(ProductsSettings),
    /// A categories flow.
    Categories(CategoriesSettings),
}

impl FlowSettings {
    /// Reads a flow's `settings` table for its kind; `at` is the flow's key path.
    pub(super) fn read(
        kind: FlowKind,
        table: toml::Table,
        at: &[String],
    ) -> Result<FlowSettings, Problem> {
        let mut path = at.to_vec();
        path.push("settings".into());
        let value = toml::Value::Table(table);
        let settings = match kind {
            FlowKind::Orders => FlowSettings::Orders(deserialize_at(value, &path)?),
            FlowKind::Stock => FlowSettings::Stock(deserialize_at(value, &path)?),
            FlowKind::Products => FlowSettings::Products(deserialize_at(value, &path)?),
            FlowKind::Categories => FlowSettings::Categories(deserialize_at(value, &path)?),
        };
        if let FlowSettings::Orders(orders) = &settings {
            orders.check(&path)?;
        }
        Ok(settings)
    }
}

/// Settings of an orders flow (FLOWS.md §1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersSettings {
    /// Send orders in one of these order states (§1.1); empty: any.
    #[serde(default)]
    pub order_states: Vec<String>,
    /// Send orders whose payment state (the latest transaction's) is one of these (§1.1).
    #[serde(default = "OrdersSettings::default_payment_states")]
    pub payment_states: Vec<String>,
    /// Never fetch orders changed before this date (`2026-01-01` or RFC 3339) (§1.2).
    pub start_date: Option<String>,
    /// At most this many orders per run (§1.3).
    #[serde(default = "OrdersSettings::default_batch_size")]
    pub batch_size: u32,
    /// The target's store / sales channel for every order (§1.4).
    pub store: Option<String>,
    /// The target's store per source sales channel name (§1.4); wins over `store`.
    #[serde(default)]
    pub store_map: BTreeMap<String, String>,
    /// Book every order on this customer id instead of creating customers (§1.5.4).
    pub default_debtor: Option<String>,
    /// Source payment method name → target payment method id (§1.6).
    #[serde(default)]
    pub payment_methods: BTreeMap<String, String>,
    /// Source payment method name → target payment condition (§1.6).
    #[serde(default)]
    pub payment_conditions: BTreeMap<String, String>,
    /// The status orders are booked in, as the target names it.
    pub order_status: Option<String>,
    /// An order the target could not confirm (a passing failure) is tried again after this many
    /// seconds, doubled for each further failure and jittered.
    #[serde(default = "OrdersSettings::default_retry_after_secs")]
    pub retry_after_secs: u64,
    /// After this many attempts such an order is no longer tried automatically: it waits for
    /// `tillbridge retry` or the dashboard.
    #[serde(default = "OrdersSettings::default_retry_attempts")]
    pub retry_attempts: u32,
}

impl OrdersSettings {
    fn default_payment_states() -> Vec<String> {
        vec!["paid".into()]
    }

    fn default_batch_size() -> u32 {
        100
    }

    fn default_retry_after_secs() -> u64 {
        300
    }

    fn default_retry_attempts() -> u32 {
        8
    }

    /// The start date as a time, when set.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        self.start_date.as_deref().and_then(|s| parse_date(s).ok())
    }

    fn check(&self, at: &[String]) -> Result<(), Problem> {
        if let Some(date) = &self.start_date {
            parse_date(date).map_err(|message| {
                Problem::at(&[at, &["start_date".to_string()]].concat(), message).hint(
                    "write a date like \"2026-01-01\" or a time like \"2026-01-01T00:00:00Z\"",
                )
            })?;
        }
        Ok(())
    }
}

fn parse_date(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
        .map_err(|_| {
            format!("start_date {text:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time")
        })
}

/// How the quantity a stock flow writes is calculated (FLOWS.md §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StockCalculation {
    /// Available stock minus sales reservations (the default).
    #[default]
    AvailableMinusReserved,
    /// What the source calls available.
    Available,
    /// Physical stock as it is.
    Physical,
}

/// Settings of a stock flow (FLOWS.md §2).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockSettings {
    /// The calculation.
    #[serde(default)]
    pub calculation: StockCalculation,
    /// A safety buffer subtracted from the calculated quantity.
    #[serde(default)]
    pub buffer: i64,
    /// Never write less than zero.
    #[serde(default = "yes")]
    pub floor_at_zero: bool,
    /// Whether the target manages stock for the articles (§2.3).
    #[serde(default = "yes")]
    pub manage_stock: bool,
    /// Levels per write batch.
    #[serde(default = "StockSettings::default_batch_size")]
    pub batch_size: u32,
}

impl StockSettings {
    fn default_batch_size() -> u32 {
        500
    }
}

fn yes() -> bool {
    true
}

/// Whether a product field is written on update (FLOWS.md §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldPolicy {
    /// Written on create and on every update.
    Always,
    /// Written on create only, so enrichment in the target is kept.
    CreateOnly,
}

/// Settings of a products flow (FLOWS.md §3).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductsSettings {
    /// Overwrite texts and other enriched fields on update (the "update product information"
    /// switch); stock and price are updated regardless.
    #[serde(default)]
    pub update_product_info: bool,
    /// Per-field choices that override the switch: field → `always` or `create_only`.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldPolicy>,
    /// Variant-defining option groups: source group → target attribute (§3.4). Unmapped groups
    /// keep their name.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Properties (information fields): source group → target field or property (§3.4). Only
    /// mapped properties are sent.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Link products to their categories in the target (§3.5).
    #[serde(default = "yes")]
    pub link_categories: bool,
    /// Products per read page and write batch.
    #[serde(default = "ProductsSettings::default_batch_size")]
    pub batch_size: u32,
    /// Hours between reads of the whole source catalogue; the runs between read only the
    /// products changed since the last run. 0: every run reads everything.
    #[serde(default = "ProductsSettings::default_full_sweep_hours")]
    pub full_sweep_hours: u32,
    /// How many minutes before the last run's start a changed-since read begins: room for the
    /// clocks of this host and the source to differ, and for changes committed late.
    #[serde(default = "ProductsSettings::default_overlap_minutes")]
    pub overlap_minutes: u32,
}

impl ProductsSettings {
    fn default_batch_size() -> u32 {
        100
    }

    fn default_full_sweep_hours() -> u32 {
        24
    }

    fn default_overlap_minutes() -> u32 {
        10
    }
}

/// Settings of a categories flow (FLOWS.md §3.5).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoriesSettings {
    /// Only this subtree (a path of names, e.g. ["Home", "Clothing"]); empty: the whole tree.
    #[serde(default)]
    pub root: Vec<String>,
}
