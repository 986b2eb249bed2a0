//! What the wizard learns, and how it learns it from the systems themselves: each system is
//! reached through its connector, which checks the connection and reads the lists the merchant
//! chooses from (payment methods, states).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::render;
use crate::builtin;
use crate::cli::check;
use crate::config::{Config, StockCalculation};
use crate::integration::Integration;
use crate::runtime::bindings::exports::tillbridge::plugin::connector::{Choice, ChoiceList};

/// One of the two systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    /// The webshop.
    Shopware,
    /// The point of sale.
    Ccv,
}

impl System {
    /// Its name for the merchant.
    pub fn name(self) -> &'static str {
        match self {
            System::Shopware => "Shopware",
            System::Ccv => "CCV SalesPOS",
        }
    }

    /// Its connection's name in flows.toml.
    pub fn connection(self) -> &'static str {
        match self {
            System::Shopware => "shop",
            System::Ccv => "pos",
        }
    }

    /// What its key and secret are called, for the merchant.
    pub fn credential_names(self) -> [&'static str; 2] {
        match self {
            System::Shopware => [
                "integration access key id (Settings › System › Integrations)",
                "integration secret access key",
            ],
            System::Ccv => ["API public key", "API secret key"],
        }
    }

    /// Its options of `tillbridge init` and their environment variables: URL, key, secret
    /// (flows.toml takes the key and the secret from the same variables).
    pub fn options(self) -> [(&'static str, &'static str); 3] {
        match self {
            System::Shopware => [
                ("shopware-url", "SHOPWARE_URL"),
                ("shopware-client-id", "SHOPWARE_CLIENT_ID"),
                ("shopware-client-secret", "SHOPWARE_CLIENT_SECRET"),
            ],
            System::Ccv => [
                ("ccv-url", "CCV_URL"),
                ("ccv-public-key", "CCV_PUBLIC_KEY"),
                ("ccv-secret", "CCV_SECRET"),
            ],
        }
    }

    /// The lists the wizard offers from it.
    fn lists(self) -> &'static [ChoiceList] {
        match self {
            System::Shopware => &[
                ChoiceList::PaymentMethods,
                ChoiceList::PaymentStates,
                ChoiceList::OrderStates,
            ],
            System::Ccv => &[ChoiceList::PaymentMethods],
        }
    }
}

/// Where a system is and the credentials that open it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Endpoint {
    /// Its base URL.
    pub url: String,
    /// The key (Shopware's access key id, CCV's public key).
    #[serde(skip)]
    pub key: String,
    /// The secret.
    #[serde(skip)]
    pub secret: String,
}

/// Everything the wizard learnt: what flows.toml and the env file are made from.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    /// The webshop.
    pub shop: Option<Endpoint>,
    /// The point of sale.
    pub pos: Option<Endpoint>,
    /// The flows to set up, by kind: "orders", "stock", "products", "categories".
    pub flows: Vec<String>,
    /// Orders: payment states that send an order.
    pub payment_states: Vec<String>,
    /// Orders: order states that send an order.
    pub order_states: Vec<String>,
    /// Orders: one customer every order is booked on, instead of matching customers.
    pub default_debtor: Option<String>,
    /// Orders: webshop payment method name → point-of-sale payment method id.
    pub payment_methods: BTreeMap<String, String>,
    /// What the merchant sees for each point-of-sale payment method id (for comments).
    pub payment_labels: BTreeMap<String, String>,
    /// Stock: the calculation.
    pub calculation: StockCalculation,
    /// Stock: kept back from the webshop.
    pub buffer: i64,
    /// Products: overwrite texts on update.
    pub update_product_info: bool,
    /// Keep personal data out of the activity log.
    pub redact: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            shop: None,
            pos: None,
            flows: Vec::new(),
            payment_states: vec!["paid".into()],
            order_states: Vec::new(),
            default_debtor: None,
            payment_methods: BTreeMap::new(),
            payment_labels: BTreeMap::new(),
            calculation: StockCalculation::default(),
            buffer: 0,
            update_product_info: false,
            redact: true,
        }
    }
}

impl Setup {
    /// The environment flows.toml reads its secrets from: variable → value.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        for (system, endpoint) in [(System::Shopware, &self.shop), (System::Ccv, &self.pos)] {
            if let Some(endpoint) = endpoint {
                let [_, key, secret] = system.options();
                env.push((key.1, endpoint.key.clone()));
                env.push((secret.1, endpoint.secret.clone()));
            }
        }
        env
    }

    /// The endpoint of a system.
    pub fn endpoint_mut(&mut self, system: System) -> &mut Option<Endpoint> {
        match system {
            System::Shopware => &mut self.shop,
            System::Ccv => &mut self.pos,
        }
    }

    /// The configuration as `tillbridge validate` reads it, with the secrets from [`Setup::env`].
    pub fn load(&self, path: &Path, text: &str) -> anyhow::Result<Config> {
        let env = self.env();
        let vars = move |name: &str| env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        Ok(Config::parse(path, text, &vars, &builtin::names())?)
    }
}

/// What a system answered: its own words on what it is, and the lists it offers.
pub struct Probe {
    /// "Shopware 6.6.10.16, 1 sales channel(s), …".
    pub found: String,
    /// The lists read from it.
    pub lists: Vec<(ChoiceList, Vec<Choice>)>,
}

impl Probe {
    /// A list read from the system (empty when it has none).
    pub fn list(&self, which: ChoiceList) -> &[Choice] {
        self.lists
            .iter()
            .find(|(list, _)| *list == which)
            .map_or(&[], |(_, choices)| choices.as_slice())
    }
}

/// A list's name in words, e.g. "payment methods".
fn list_name(list: ChoiceList) -> &'static str {
    match list {
        ChoiceList::PaymentMethods => "payment methods",
        ChoiceList::OrderStates => "order states",
        ChoiceList::PaymentStates => "payment states",
    }
}

/// Reaches a system through its connector, as flows.toml at `path` will: checks the
/// connection and reads the lists the merchant chooses from. The error is the reason, in words.
pub async fn probe(path: &Path, system: System, endpoint: &Endpoint) -> Result<Probe, String> {
    let mut setup = Setup::default();
    *setup.endpoint_mut(system) = Some(endpoint.clone());
    let text = render::flows_toml(&setup, "").map_err(|e| format!("{e:#}"))?;
    let config = setup.load(path, &text).map_err(|e| format!("{e:#}"))?;
    let integration = Integration::open(config).map_err(|e| format!("{e:#}"))?;
    let mut session = check::session(&integration, system.connection())
        .await
        .map_err(|e| e.to_string())?;
    let found = session.check().await.map_err(|e| e.to_string())?;
    let mut lists = Vec::new();
    for &list in system.lists() {
        let choices = session
            .choices(list)
            .await
            .map_err(|e| format!("cannot read the {}: {e}", list_name(list)))?;
        lists.push((list, choices));
    }
    Ok(Probe { found, lists })
}
