//! The datamapper's verdicts, handled once for every flow: a batch goes through the flow's field
//! overrides and its transform chain, the records left out are recorded (skipped or failed, with
//! the reason and what came), and the flow goes on with the rest.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Entry, RunContext};
use crate::mapper::Transforms;
use crate::runtime::bindings::exports::tillbridge::plugin::transformer::{Entity, Verdict};
use crate::runtime::bindings::tillbridge::plugin::types::{Category, Order, Product, StockLevel};
use crate::state::Outcome;

/// A record of the canonical model that a flow maps and transforms.
pub trait Canonical: Clone + Serialize + DeserializeOwned {
    /// Its kind in the activity log: "order", "product", "stock", "category".
    const KIND: &'static str;
    /// Its key in the activity log: order number, SKU, category id.
    fn key(&self) -> &str;
    /// As the transforms see it.
    fn into_entity(self) -> Entity;
    /// Back from a transform; `None` when the transform made it another kind of record.
    fn from_entity(entity: Entity) -> Option<Self>;
}

/// Why a record goes no further in this run.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// Left out on purpose (a transform dropped it), with the reason.
    Dropped(String),
    /// Wrong (a mapping or a transform failed it), with the reason.
    Failed(String),
}

macro_rules! canonical {
    ($type:ty, $kind:literal, $variant:ident, $key:ident) => {
        impl Canonical for $type {
            const KIND: &'static str = $kind;
            fn key(&self) -> &str {
                &self.$key
            }
            fn into_entity(self) -> Entity {
                Entity::$variant(self)
            }
            fn from_entity(entity: Entity) -> Option<Self> {
                match entity {
                    Entity::$variant(record) => Some(record),
                    _ => None,
                }
            }
        }
    };
}

canonical!(Order, "order", Order, number);
canonical!(Product, "product", Product, sku);
canonical!(StockLevel, "stock", StockLevel, sku);
canonical!(Category, "category", Category, id);

impl<'a> RunContext<'a> {
    /// The flow's field overrides, then its transform chain, over a batch. Returns the records
    /// kept, changed as the mapping and the transforms say, in order; each record left out is
    /// handed to `reject` as it came, with the reason ([`RunContext::reject`] records it; a flow
    /// that keeps failed records to send later passes its own). A transform that stops (traps,
    /// breaks a bound) stops the run.
    pub async fn map<T: Canonical>(
        &mut self,
        transforms: &mut Transforms,
        records: Vec<T>,
        mut reject: impl FnMut(&mut Self, &T, Rejection) -> Result<()>,
    ) -> Result<Vec<T>> {
        let mut came = Vec::with_capacity(records.len());
        let mut mapped = Vec::with_capacity(records.len());
        for record in records {
            match self.overrides.apply(record.clone()) {
                Ok(changed) => {
                    came.push(record);
                    mapped.push(changed);
                }
                Err(e) => reject(self, &record, Rejection::Failed(format!("{e:#}")))?,
            }
        }
        if mapped.is_empty() || self.flow.transforms.is_empty() {
            return Ok(mapped);
        }
        let context = self.flow_context();
        let entities = mapped.into_iter().map(Canonical::into_entity).collect();
        let verdicts = match transforms.apply(&context, entities).await {
            Ok(verdicts) => verdicts,
            Err(e) => bail!("a transform of flow {} stopped: {e}", self.name),
        };
        let mut kept = Vec::with_capacity(came.len());
        for (record, verdict) in came.into_iter().zip(verdicts) {
            let rejection = match verdict {
                Verdict::Keep(entity) => match T::from_entity(entity) {
                    Some(changed) => {
                        kept.push(changed);
                        continue;
                    }
                    None => Rejection::Failed(format!(
                        "a transform turned the {} into another kind of record",
                        T::KIND
                    )),
                },
                Verdict::Drop(reason) => Rejection::Dropped(reason),
                Verdict::Fail(problem) => Rejection::Failed(problem.message),
            };
            reject(self, &record, rejection)?;
        }
        Ok(kept)
    }

    /// Records a record the mapping left out: skipped when dropped, failed when failed, with the
    /// reason and what came.
    pub fn reject<T: Canonical>(&mut self, record: &T, rejection: Rejection) -> Result<()> {
        self.record(rejection_entry(record, rejection), |_| Ok(()))
    }

    /// Sessions of the flow's transforms, for one run.
    pub async fn transforms(&self) -> Result<Transforms> {
        let mut chain = Vec::new();
        for name in &self.flow.transforms {
            let grants = self.integration.transform_grants(name);
            let session = self.integration.plugins[name]
                .session(grants)
                .await
                .with_context(|| format!("cannot start transform {name}"))?;
            chain.push((name.clone(), session));
        }
        Ok(Transforms::new(chain))
    }
}

/// The activity entry of a record the mapping left out.
pub fn rejection_entry<T: Canonical>(record: &T, rejection: Rejection) -> Entry {
    let (outcome, reason) = match rejection {
        Rejection::Dropped(reason) => (Outcome::Skipped, reason),
        Rejection::Failed(reason) => (Outcome::Failed, reason),
    };
    Entry::new(T::KIND, record.key(), outcome, reason).came(record)
}
