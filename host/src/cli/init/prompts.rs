//! The wizard's questions on a terminal (dialoguer). Options given on the command line are the
//! defaults of the questions they answer.

use std::path::Path;

use anyhow::{Result, bail};
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, MultiSelect, Password, Select};

use super::flags::{self, Answers};
use super::setup::{Endpoint, Probe, Setup, System, probe};
use crate::config::StockCalculation;
use crate::runtime::bindings::exports::tillbridge::plugin::connector::{Choice, ChoiceList};

/// The flows, as offered.
const FLOWS: [(&str, &str); 4] = [
    ("orders", "orders: webshop → point of sale"),
    ("stock", "stock: point of sale → webshop"),
    ("products", "products: webshop → point of sale"),
    ("categories", "categories: webshop → point of sale"),
];

/// The stock calculations, as offered.
const CALCULATIONS: [(StockCalculation, &str); 3] = [
    (
        StockCalculation::AvailableMinusReserved,
        "available minus reserved (sales not yet collected)",
    ),
    (
        StockCalculation::Available,
        "available, as the point of sale says",
    ),
    (StockCalculation::Physical, "physical stock as it is"),
];

/// Whether to replace a file that exists.
pub fn overwrite(path: &Path) -> Result<bool> {
    Ok(Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(format!("{} exists. Replace it?", path.display()))
        .default(false)
        .interact()?)
}

/// Asks every question, testing each system's connection as soon as its details are in.
pub async fn ask(path: &Path, answers: &Answers) -> Result<Setup> {
    let theme = ColorfulTheme::default();
    println!("tillbridge set-up: the webshop, the point of sale, then the flows.");
    let mut setup = Setup::default();
    let shop = connect(&theme, path, System::Shopware, answers).await?;
    let pos = connect(&theme, path, System::Ccv, answers).await?;

    let chosen = answers.flow_kinds()?;
    let picked = MultiSelect::with_theme(&theme)
        .with_prompt("Which flows? (space to choose, enter to go on)")
        .items_checked(
            FLOWS
                .iter()
                .map(|(kind, label)| (*label, chosen.iter().any(|c| c == kind))),
        )
        .interact()?;
    setup.flows = picked.iter().map(|&i| FLOWS[i].0.to_string()).collect();

    if setup.flows.iter().any(|f| f == "orders") {
        setup.payment_states = pick_many(
            &theme,
            "Send orders whose latest payment is",
            shop.list(ChoiceList::PaymentStates),
            &answers.payment_states,
        )?;
        setup.order_states = pick_many(
            &theme,
            "… or whose order state is (none: payment alone decides)",
            shop.list(ChoiceList::OrderStates),
            &answers.order_states,
        )?;
        let one_debtor = Confirm::with_theme(&theme)
            .with_prompt("Book every order on one fixed customer, instead of finding or creating each customer by e-mail?")
            .default(answers.default_debtor.is_some())
            .interact()?;
        if one_debtor {
            let id: String = Input::with_theme(&theme)
                .with_prompt("That customer's id in CCV")
                .with_initial_text(answers.default_debtor.clone().unwrap_or_default())
                .interact_text()?;
            setup.default_debtor = Some(id.trim().to_string());
        }
        map_payment_methods(&theme, &mut setup, &shop, &pos)?;
    }
    if setup.flows.iter().any(|f| f == "stock") {
        let default = answers.calculation()?;
        let chosen = Select::with_theme(&theme)
            .with_prompt("The stock the webshop gets")
            .items(CALCULATIONS.iter().map(|(_, label)| *label))
            .default(
                CALCULATIONS
                    .iter()
                    .position(|(c, _)| *c == default)
                    .unwrap_or(0),
            )
            .interact()?;
        setup.calculation = CALCULATIONS[chosen].0;
        setup.buffer = Input::with_theme(&theme)
            .with_prompt("A safety buffer kept back from the webshop (pieces)")
            .default(answers.stock_buffer)
            .validate_with(|pieces: &i64| {
                if (0..=1_000_000).contains(pieces) {
                    Ok(())
                } else {
                    Err("a number of pieces from 0 to 1000000")
                }
            })
            .interact_text()?;
    }
    if setup.flows.iter().any(|f| f == "products") {
        setup.update_product_info = Confirm::with_theme(&theme)
            .with_prompt("On update, overwrite product texts in the point of sale (no: texts enriched there are kept)?")
            .default(answers.update_product_info)
            .interact()?;
    }
    setup.redact = Confirm::with_theme(&theme)
        .with_prompt(
            "Keep names, e-mail addresses, addresses and companies out of the activity log?",
        )
        .default(answers.redact_personal_data)
        .interact()?;
    *setup.endpoint_mut(System::Shopware) = Some(shop.endpoint);
    *setup.endpoint_mut(System::Ccv) = Some(pos.endpoint);
    Ok(setup)
}

/// A system that answered, with the details it answered to.
struct Connected {
    endpoint: Endpoint,
    probe: Probe,
}

impl Connected {
    fn list(&self, which: ChoiceList) -> &[Choice] {
        self.probe.list(which)
    }
}

/// Asks for a system's details until its connection works (or the merchant gives up).
async fn connect(
    theme: &ColorfulTheme,
    path: &Path,
    system: System,
    answers: &Answers,
) -> Result<Connected> {
    let mut given = answers.endpoint(system);
    let [key_name, secret_name] = system.credential_names();
    loop {
        let url: String = Input::with_theme(theme)
            .with_prompt(format!("{} URL", system.name()))
            .with_initial_text(given.url.clone())
            .interact_text()?;
        let key: String = Input::with_theme(theme)
            .with_prompt(format!("{} {key_name}", system.name()))
            .with_initial_text(given.key.clone())
            .interact_text()?;
        let secret = Password::with_theme(theme)
            .with_prompt(format!("{} {secret_name}", system.name()))
            .interact()?;
        let endpoint = Endpoint {
            url: url.trim().to_string(),
            key: key.trim().to_string(),
            secret,
        };
        println!("testing the connection to {} …", endpoint.url);
        match probe(path, system, &endpoint).await {
            Ok(probe) => {
                println!("  ok: {}", probe.found);
                return Ok(Connected { endpoint, probe });
            }
            Err(reason) => {
                println!("  failed: {reason}");
                let again = Confirm::with_theme(theme)
                    .with_prompt("Enter the details again?")
                    .default(true)
                    .interact()?;
                if !again {
                    bail!(
                        "{} at {} cannot be used: {reason}",
                        system.name(),
                        endpoint.url
                    );
                }
                given = endpoint;
            }
        }
    }
}

/// Several of a system's values; `defaults` are checked (by id, without regard to case).
fn pick_many(
    theme: &ColorfulTheme,
    prompt: &str,
    offered: &[Choice],
    defaults: &[String],
) -> Result<Vec<String>> {
    if offered.is_empty() {
        return Ok(defaults.to_vec());
    }
    let picked = MultiSelect::with_theme(theme)
        .with_prompt(format!("{prompt} (space to choose, enter to go on)"))
        .items_checked(offered.iter().map(|c| {
            let checked = defaults
                .iter()
                .any(|d| d.trim().eq_ignore_ascii_case(&c.id));
            (c.label.as_str(), checked)
        }))
        .interact()?;
    Ok(picked.into_iter().map(|i| offered[i].id.clone()).collect())
}

/// For each webshop payment method, the point of sale's that its orders are booked with (the
/// one with the same name first), or none.
fn map_payment_methods(
    theme: &ColorfulTheme,
    setup: &mut Setup,
    shop: &Connected,
    pos: &Connected,
) -> Result<()> {
    let targets = pos.list(ChoiceList::PaymentMethods);
    if targets.is_empty() {
        return Ok(());
    }
    let mut items: Vec<String> = targets
        .iter()
        .map(|c| format!("{} (id {})", c.label, c.id))
        .collect();
    items.push("(not mapped)".into());
    for method in shop.list(ChoiceList::PaymentMethods) {
        let same = targets
            .iter()
            .position(|t| t.label.eq_ignore_ascii_case(&method.id))
            .unwrap_or(targets.len());
        let chosen = Select::with_theme(theme)
            .with_prompt(format!(
                "Orders paid with \"{}\" are booked in CCV with",
                method.label
            ))
            .items(&items)
            .default(same)
            .interact()?;
        if let Some(target) = targets.get(chosen) {
            setup
                .payment_methods
                .insert(method.id.clone(), target.id.clone());
        }
    }
    setup.payment_labels = flags::labels(&pos.probe);
    Ok(())
}
