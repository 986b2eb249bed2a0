//! The integration's role: which privileges (`order:read`, `product:update`, …) a request
//! needs, as `AclCriteriaValidator` and `AclWriteValidator` decide; writes check theirs in the
//! writer.

use std::collections::BTreeSet;

use super::Shared;
use super::criteria::Criteria;
use super::definition::{Definitions, EntityDef};
use super::error::ApiError;

/// The read privileges a criteria needs: the entity, every association loaded and every
/// entity a filter or sorting path passes (`AclCriteriaValidator`).
fn read_privileges(
    defs: &Definitions,
    def: &EntityDef,
    criteria: &Criteria,
    out: &mut BTreeSet<String>,
) {
    out.insert(format!("{}:read", def.name));
    for path in criteria.field_paths() {
        let mut current = def;
        for part in path {
            match current.association(part) {
                Some(association) => {
                    current = defs.entity(association.entity);
                    out.insert(format!("{}:read", current.name));
                }
                None => break,
            }
        }
    }
    for (name, nested) in &criteria.associations {
        if let Some(association) = def.association(name) {
            read_privileges(defs, defs.entity(association.entity), nested, out);
        }
    }
}

pub fn check_read(
    shared: &Shared,
    defs: &Definitions,
    def: &EntityDef,
    criteria: &Criteria,
) -> Result<(), ApiError> {
    let Some(granted) = shared.privileges() else {
        return Ok(());
    };
    let mut needed = BTreeSet::new();
    read_privileges(defs, def, criteria, &mut needed);
    let missing: Vec<&String> = needed.iter().filter(|p| !granted.contains(*p)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::missing_privileges(missing))
    }
}
