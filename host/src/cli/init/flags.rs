//! The wizard's answers as options: the defaults of the interactive questions, and every answer
//! of `--non-interactive`, checked against what the systems really offer.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, anyhow, bail};

use super::setup::{Endpoint, Probe, Setup, System, probe};
use crate::config::{FlowKind, StockCalculation};
use crate::runtime::bindings::exports::tillbridge::plugin::connector::{Choice, ChoiceList};

/// The answers, as options (each also from its environment variable where named).
#[derive(Debug, Clone, clap::Args)]
pub struct Answers {
    /// The webshop's base URL.
    #[arg(long, env = "SHOPWARE_URL")]
    shopware_url: Option<String>,
    /// The Shopware integration's access key id.
    #[arg(long, env = "SHOPWARE_CLIENT_ID")]
    shopware_client_id: Option<String>,
    /// The Shopware integration's secret access key.
    #[arg(long, env = "SHOPWARE_CLIENT_SECRET", hide_env_values = true)]
    shopware_client_secret: Option<String>,
    /// The point of sale's base URL.
    #[arg(long, env = "CCV_URL")]
    ccv_url: Option<String>,
    /// The CCV API public key.
    #[arg(long, env = "CCV_PUBLIC_KEY")]
    ccv_public_key: Option<String>,
    /// The CCV API secret key.
    #[arg(long, env = "CCV_SECRET", hide_env_values = true)]
    ccv_secret: Option<String>,
    /// The flows to set up, of: orders, stock, products, categories.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "orders,stock,products,categories"
    )]
    pub flows: Vec<String>,
    /// Orders: send orders whose latest payment is in one of these states (Shopware's technical
    /// names).
    #[arg(long, value_delimiter = ',', default_value = "paid")]
    pub payment_states: Vec<String>,
    /// Orders: also send orders in one of these order states.
    #[arg(long, value_delimiter = ',')]
    pub order_states: Vec<String>,
    /// Orders: book every order on this point-of-sale customer id instead of creating customers.
    #[arg(long)]
    pub default_debtor: Option<String>,
    /// Orders: a webshop payment method and the point of sale's payment method id its orders
    /// are booked with, as NAME=ID; repeat for each.
    #[arg(long = "payment-method", value_name = "NAME=ID")]
    pub payment_methods: Vec<String>,
    /// Stock: available_minus_reserved, available or physical.
    #[arg(long, default_value = "available_minus_reserved")]
    pub stock_calculation: String,
    /// Stock: pieces kept back from the webshop (0 to 1000000).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..=1_000_000))]
    pub stock_buffer: i64,
    /// Products: overwrite texts in the point of sale on update.
    #[arg(long)]
    pub update_product_info: bool,
    /// Keep names, e-mail addresses, addresses and companies out of the activity log.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub redact_personal_data: bool,
}

impl Answers {
    /// What the options say about a system (for defaults, or to use as they are).
    pub fn endpoint(&self, system: System) -> Endpoint {
        let (url, key, secret) = match system {
            System::Shopware => (
                &self.shopware_url,
                &self.shopware_client_id,
                &self.shopware_client_secret,
            ),
            System::Ccv => (&self.ccv_url, &self.ccv_public_key, &self.ccv_secret),
        };
        let given = |v: &Option<String>| v.clone().unwrap_or_default();
        Endpoint {
            url: given(url),
            key: given(key),
            secret: given(secret),
        }
    }

    /// The flows the options choose.
    pub fn flow_kinds(&self) -> Result<Vec<String>> {
        self.flows
            .iter()
            .map(|name| {
                let kind: FlowKind = toml::Value::String(name.trim().to_string())
                    .try_into()
                    .map_err(|_| {
                        anyhow!("--flows: {name:?} is not a flow; choose from orders, stock, products, categories")
                    })?;
                Ok(kind.to_string())
            })
            .collect()
    }

    /// The stock calculation the options choose.
    pub fn calculation(&self) -> Result<StockCalculation> {
        toml::Value::String(self.stock_calculation.clone())
            .try_into()
            .map_err(|_| {
                anyhow!(
                    "--stock-calculation: {:?} is not one of available_minus_reserved, available, physical",
                    self.stock_calculation
                )
            })
    }
}

/// `--non-interactive`: connects to both systems with the options' details and takes every
/// answer from the options, refusing a state or payment method the systems do not have.
pub async fn read(path: &Path, answers: &Answers) -> Result<Setup> {
    let mut setup = Setup {
        flows: answers.flow_kinds()?,
        calculation: answers.calculation()?,
        buffer: answers.stock_buffer,
        update_product_info: answers.update_product_info,
        redact: answers.redact_personal_data,
        default_debtor: answers.default_debtor.clone(),
        ..Setup::default()
    };
    let mut probes = BTreeMap::new();
    for system in [System::Shopware, System::Ccv] {
        let endpoint = answers.endpoint(system);
        if endpoint.url.is_empty() || endpoint.key.is_empty() || endpoint.secret.is_empty() {
            let [url, key, secret] = system.options();
            bail!(
                "{} needs {} (or {} in the environment)",
                system.name(),
                listed(&[url.0, key.0, secret.0].map(|o| format!("--{o}"))),
                listed(&[url.1, key.1, secret.1].map(String::from)),
            );
        }
        let probe = probe(path, system, &endpoint).await.map_err(|reason| {
            anyhow!("cannot use {} at {}: {reason}", system.name(), endpoint.url)
        })?;
        println!("ok      {}: {}", system.connection(), probe.found);
        *setup.endpoint_mut(system) = Some(endpoint);
        probes.insert(system.connection(), probe);
    }
    let (shop, pos) = (&probes["shop"], &probes["pos"]);
    setup.payment_states = known(
        &answers.payment_states,
        shop.list(ChoiceList::PaymentStates),
        "--payment-states",
        "Shopware's payment states",
    )?;
    setup.order_states = known(
        &answers.order_states,
        shop.list(ChoiceList::OrderStates),
        "--order-states",
        "Shopware's order states",
    )?;
    for pair in &answers.payment_methods {
        let (name, id) = pair.split_once('=').ok_or_else(|| {
            anyhow!("--payment-method {pair:?} is not NAME=ID, e.g. \"PayPal=2\"")
        })?;
        let name = one_of(
            name.trim(),
            shop.list(ChoiceList::PaymentMethods),
            "--payment-method",
            "Shopware's payment methods",
        )?;
        let id = one_of(
            id.trim(),
            pos.list(ChoiceList::PaymentMethods),
            "--payment-method",
            "CCV's payment method ids",
        )?;
        setup.payment_methods.insert(name, id);
    }
    setup.payment_labels = labels(pos);
    Ok(setup)
}

/// The labels of the point of sale's payment methods by id.
pub fn labels(pos: &Probe) -> BTreeMap<String, String> {
    pos.list(ChoiceList::PaymentMethods)
        .iter()
        .map(|c| (c.id.clone(), c.label.clone()))
        .collect()
}

/// Each given value, if the system offers it.
fn known(given: &[String], offered: &[Choice], option: &str, what: &str) -> Result<Vec<String>> {
    given
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| one_of(v, offered, option, what))
        .collect()
}

/// "a, b and c".
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `value` as the system names it (matched by id or label, without regard to case), or an error
/// listing what the system offers.
fn one_of(value: &str, offered: &[Choice], option: &str, what: &str) -> Result<String> {
    offered
        .iter()
        .find(|c| c.id.eq_ignore_ascii_case(value))
        .or_else(|| offered.iter().find(|c| c.label.eq_ignore_ascii_case(value)))
        .map(|c| c.id.clone())
        .ok_or_else(|| {
            let ids: Vec<String> = offered
                .iter()
                .map(|c| {
                    if c.label == c.id {
                        c.id.clone()
                    } else {
                        format!("{} ({})", c.id, c.label)
                    }
                })
                .collect();
            anyhow!(
                "{option}: {value:?} is not one of {what}: {}",
                ids.join(", ")
            )
        })
}
