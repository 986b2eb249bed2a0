//! Every number flows.toml takes has a range. A value outside it is refused when the file is read
//! (so `validate`, `check`, `once` and `run` all refuse it) with the key, the range and a sensible
//! value, instead of overflowing later or quietly switching a safeguard off. (The durations of
//! `[notify]` are bounded where they are read, in its own check.)

use std::fmt::Display;
use std::ops::RangeInclusive;

use super::{Config, FlowSettings, Problem};

/// The numbers of `config` outside their ranges.
pub(super) fn problems(config: &Config) -> Vec<Problem> {
    let mut found = Found(Vec::new());
    found.check(
        &["host", "retention_days"],
        config.host.retention_days,
        1..=3650,
        "30 keeps a month of activity; 3650 is ten years",
    );
    for (name, plugin) in &config.plugins {
        let at = |key: &'static str| ["plugins", name.as_str(), key];
        if let Some(mb) = plugin.memory_mb {
            // A WASM component's linear memory is 32-bit: 4 GiB is all it can address.
            found.check(
                &at("memory_mb"),
                mb,
                1..=4096,
                "leave it out for the default, or give the MiB the plugin needs, e.g. 256",
            );
        }
        if let Some(ms) = plugin.cpu_budget_ms {
            found.check(
                &at("cpu_budget_ms"),
                ms,
                1..=3_600_000,
                "leave it out for the default, or give milliseconds, e.g. 10000",
            );
        }
        if let Some(secs) = plugin.call_timeout_secs {
            found.check(
                &at("call_timeout_secs"),
                secs,
                1..=86_400,
                "leave it out for the default, or give seconds, e.g. 900",
            );
        }
    }
    for (name, flow) in &config.flows {
        let at = |key: &'static str| ["flows", name.as_str(), "settings", key];
        match &flow.settings {
            FlowSettings::Orders(orders) => {
                found.check(
                    &at("batch_size"),
                    orders.batch_size,
                    1..=100_000,
                    "100 is a good batch size",
                );
                found.check(
                    &at("retry_after_secs"),
                    orders.retry_after_secs,
                    0..=86_400,
                    "300 tries a passing failure again after five minutes, then ten, twenty...",
                );
                found.check(
                    &at("retry_attempts"),
                    orders.retry_attempts,
                    1..=100,
                    "8 tries an order eight times before it waits for you",
                );
            }
            FlowSettings::Stock(stock) => {
                found.check(
                    &at("batch_size"),
                    stock.batch_size,
                    1..=10_000,
                    "500 is a good batch size",
                );
                found.check(
                    &at("buffer"),
                    stock.buffer,
                    0..=1_000_000,
                    "the number of pieces kept back from the target, e.g. 2, or 0 for none",
                );
            }
            FlowSettings::Products(products) => {
                found.check(
                    &at("batch_size"),
                    products.batch_size,
                    1..=1_000,
                    "100 is a good batch size",
                );
                found.check(
                    &at("full_sweep_hours"),
                    products.full_sweep_hours,
                    0..=8_760,
                    "24 reads the whole catalogue daily; 0 reads it on every run",
                );
                found.check(
                    &at("overlap_minutes"),
                    products.overlap_minutes,
                    0..=1_440,
                    "10 covers a few minutes' clock difference; 0 only for a source on this machine's clock",
                );
            }
            FlowSettings::Categories(_) => {}
        }
    }
    found.0
}

/// The problems found so far.
struct Found(Vec<Problem>);

impl Found {
    fn check<T: PartialOrd + Display>(
        &mut self,
        at: &[&str],
        value: T,
        range: RangeInclusive<T>,
        fix: &str,
    ) {
        if !range.contains(&value) {
            let (low, high) = range.into_inner();
            self.0.push(
                Problem::at(at, format!("{value} is outside {low}..={high}"))
                    .hint(format!("write a number from {low} to {high}: {fix}")),
            );
        }
    }
}
