//! What CCV adds to a variant's order row. A row posted with `attribute_combination_id` gets the
//! combination's attribute values "added to this row" (CCV's order row input schema): its `price`
//! is the price per unit without them. To book the webshop's price, a variant's row therefore
//! carries the webshop's price less the combination's surcharge (`netto_extra_price`, "the sum of
//! all extra prices of the attribute values", in the shop's VAT convention like every product
//! price), so that price + surcharge, and the row's total, are the webshop's.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use tillbridge_sdk::decimal::{self, Decimal};
use tillbridge_sdk::types::PluginError;

use crate::exports::tillbridge::plugin::orders_sink::OrderSubmission;
use crate::settings::Ccv;
use crate::shop;
use crate::wire::{Combination, parse_id};

thread_local! {
    /// The surcharges read in this session (one run): product id → its combinations' surcharges.
    /// A run reads each product's once however many batches book it; the next run reads them
    /// again, so a surcharge changed in CCV is booked right from the next run on.
    static READ: RefCell<HashMap<u64, Vec<(u64, Decimal)>>> = RefCell::new(HashMap::new());
}

/// The surcharges of the combinations some orders book.
#[derive(Debug, Default)]
pub struct Surcharges {
    /// Combination id → its `netto_extra_price`.
    by_combination: HashMap<u64, Decimal>,
    /// Whether CCV's prices (and so surcharges) include VAT.
    include_vat: bool,
}

impl Surcharges {
    /// Reads the surcharges of every variant the submissions book: one
    /// `GET /products/:id/attributecombinations` per configurable product not read before in
    /// this run, none without variants.
    pub fn of<'a>(
        ccv: &Ccv,
        submissions: impl IntoIterator<Item = &'a OrderSubmission>,
    ) -> Result<Surcharges, PluginError> {
        let mut products = BTreeSet::new();
        for reference in submissions.into_iter().flat_map(|s| &s.products) {
            if reference.variant_id.is_some() {
                products.insert(parse_id(&reference.id, "product")?);
            }
        }
        let mut surcharges = Surcharges::default();
        if products.is_empty() {
            return Ok(surcharges);
        }
        surcharges.include_vat = shop::shop(ccv)?.prices_include_vat;
        for product in products {
            if let Some(known) = READ.with_borrow(|read| read.get(&product).cloned()) {
                surcharges.by_combination.extend(known);
                continue;
            }
            let path = format!("products/{product}/attributecombinations");
            let combinations: Vec<Combination> = match ccv.api.all(&path, &[]) {
                Ok(combinations) => combinations,
                // Gone: its orders fail by name (the combination is not found).
                Err(failure) if failure.no_such_id() => Vec::new(),
                Err(failure) => return Err(failure.into()),
            };
            let read: Vec<(u64, Decimal)> = combinations
                .into_iter()
                .map(|c| (c.id, c.netto_extra_price))
                .collect();
            surcharges.by_combination.extend(read.iter().copied());
            READ.with_borrow_mut(|known| known.insert(product, read));
        }
        Ok(surcharges)
    }

    /// What CCV adds per unit to a row of `combination`, in the order's terms (`tax_rate` %,
    /// prices including VAT or not); none when CCV has no such combination.
    pub fn per_unit(
        &self,
        combination: u64,
        tax_rate: Decimal,
        order_includes_tax: bool,
    ) -> Option<Decimal> {
        let extra = *self.by_combination.get(&combination)?;
        Some(match (self.include_vat, order_includes_tax) {
            (true, false) => decimal::net_from_gross(extra, tax_rate, 4),
            (false, true) => decimal::gross_from_net(extra, tax_rate, 2),
            _ => extra,
        })
    }

    /// Surcharges as given, for tests of the order body.
    #[cfg(test)]
    pub fn known(by_combination: &[(u64, &str)], include_vat: bool) -> Surcharges {
        Surcharges {
            by_combination: by_combination
                .iter()
                .map(|(id, extra)| (*id, extra.parse().expect("a decimal")))
                .collect(),
            include_vat,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_surcharge_is_given_in_the_orders_vat_terms() {
        let amount = |text: &str| Some(text.parse::<Decimal>().unwrap());
        let gross = Surcharges::known(&[(7, "2.42")], true);
        let rate = Decimal::from(21);
        assert_eq!(gross.per_unit(7, rate, true), amount("2.42"));
        assert_eq!(gross.per_unit(7, rate, false), amount("2"));
        assert_eq!(gross.per_unit(8, rate, true), None);
        let net = Surcharges::known(&[(7, "2")], false);
        assert_eq!(net.per_unit(7, rate, true), amount("2.42"));
    }
}
