//! The entities the simulator serves, with the fields of the official definitions that an
//! integration meets (`OrderDefinition`, `ProductDefinition`, …). Fields of later versions carry
//! `since`, so each API version serves its own schema.

use serde_json::{Value, json};

mod catalogue;
mod orders;
mod system;

use super::definition::{EntityDef, Field, Kind::*, field};

pub(super) fn entity(name: &'static str, fields: Vec<Field>) -> EntityDef {
    EntityDef {
        name,
        fields,
        associations: Vec::new(),
        mapping_key: None,
        versioned: false,
    }
}

/// `id`, and `versionId` for versioned entities.
pub(super) fn key(versioned: bool) -> Vec<Field> {
    let mut fields = vec![field("id", Id).required()];
    if versioned {
        fields.push(field("versionId", Version));
    }
    fields
}

/// The fields every entity ends with.
pub(super) fn stamps() -> [Field; 2] {
    [
        field("createdAt", DateTime),
        field("updatedAt", DateTime).protected(),
    ]
}

pub(super) fn custom_fields() -> Field {
    field("customFields", Json)
}

pub(super) fn with(mut fields: Vec<Field>, more: impl IntoIterator<Item = Field>) -> Vec<Field> {
    fields.extend(more);
    fields
}

pub(super) fn truthy() -> Value {
    json!(true)
}
pub(super) fn falsy() -> Value {
    json!(false)
}
pub(super) fn zero() -> Value {
    json!(0)
}
pub(super) fn empty_list() -> Value {
    json!([])
}

/// Every entity definition.
pub fn all() -> Vec<EntityDef> {
    let mut defs = Vec::new();
    defs.extend(orders::all());
    defs.extend(catalogue::all());
    defs.extend(system::all());
    defs
}
