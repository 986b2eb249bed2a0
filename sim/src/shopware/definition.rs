//! Entity definitions: what fields and associations each entity has, which are required,
//! write-protected, translated or inherited. The store, search, writer and encoders are generic
//! and read everything they need from here, as Shopware's DAL reads its `EntityDefinition`s.

use std::collections::HashMap;

use super::ApiVersion;

/// The storage type of a field, which decides validation on write and encoding on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The primary key.
    Id,
    /// A reference to another entity's id.
    Fk,
    /// The version of a versioned entity, or of a referenced versioned entity.
    Version,
    /// Short text.
    Str,
    /// Long text (HTML allowed).
    Text,
    /// Integer.
    Int,
    /// Number (PHP float).
    Float,
    /// Boolean.
    Bool,
    /// Any JSON.
    Json,
    /// A JSON list of strings.
    List,
    /// Date and time, RFC 3339.
    DateTime,
    /// A date without time.
    Date,
    /// A product price list: `[{currencyId, net, gross, linked}]`.
    Price,
    /// A calculated price (line items, transactions, shipping costs).
    CalculatedPrice,
    /// An order's cart price.
    CartPrice,
    /// A cash rounding configuration.
    Rounding,
}

/// A field of an entity.
#[derive(Debug, Clone)]
pub struct Field {
    /// The property name, as in the API.
    pub name: &'static str,
    /// The storage type.
    pub kind: Kind,
    /// For foreign keys: the entity referenced.
    pub target: Option<&'static str>,
    /// Must be given (or inherited) on create.
    pub required: bool,
    /// Cannot be written through the API ("This field is write-protected.").
    pub protected: bool,
    /// Stored per language.
    pub translated: bool,
    /// Variants take it from their parent when unset (products).
    pub inherited: bool,
    /// For state fields: the state machine; only state transitions change them.
    pub state_machine: Option<&'static str>,
    /// Set on create when not given.
    pub default: Option<fn() -> serde_json::Value>,
    /// The first version that has the field.
    pub since: ApiVersion,
}

/// How an association reaches its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Through a foreign key of this entity.
    ManyToOne {
        /// The local foreign key field.
        fk: &'static str,
    },
    /// One row of the other entity points here (e.g. `order.orderCustomer`).
    OneToOne {
        /// The other entity's foreign key field.
        remote_fk: &'static str,
    },
    /// Rows of the other entity point here.
    OneToMany {
        /// The other entity's foreign key field.
        remote_fk: &'static str,
    },
    /// Through a mapping entity (`product_category`, …).
    ManyToMany {
        /// The mapping entity.
        mapping: &'static str,
        /// The mapping's field that points to this entity.
        local: &'static str,
        /// The mapping's field that points to the other entity.
        remote: &'static str,
    },
}

/// An association of an entity.
#[derive(Debug, Clone)]
pub struct Association {
    /// The property name, e.g. `lineItems`.
    pub name: &'static str,
    /// The entity it reaches.
    pub entity: &'static str,
    /// How it reaches it.
    pub relation: Relation,
    /// Loaded even when the criteria does not ask for it (state machine states of orders).
    pub autoload: bool,
    /// Variants take the parent's when they have none (products).
    pub inherited: bool,
    /// Deleting this entity deletes the rows (one-to-many, one-to-one and mappings).
    pub cascade: bool,
    /// The first version that has it.
    pub since: ApiVersion,
}

/// The definition of one entity.
#[derive(Debug, Clone)]
pub struct EntityDef {
    /// The entity name, e.g. `order_line_item`.
    pub name: &'static str,
    /// The fields, in the order Shopware lists them.
    pub fields: Vec<Field>,
    /// The associations.
    pub associations: Vec<Association>,
    /// For mapping entities (no id of their own): the fields of the primary key.
    pub mapping_key: Option<[&'static str; 2]>,
    /// Whether draft versions of it can exist (`sw-version-id`).
    pub versioned: bool,
}

impl EntityDef {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The association called `name`.
    pub fn association(&self, name: &str) -> Option<&Association> {
        self.associations.iter().find(|a| a.name == name)
    }

    /// Whether some field is stored per language.
    pub fn is_translated(&self) -> bool {
        self.fields.iter().any(|f| f.translated)
    }

    /// Whether the entity takes part in variant inheritance (has a `parentId` to itself and
    /// inherited fields).
    pub fn has_inheritance(&self) -> bool {
        self.fields.iter().any(|f| f.inherited)
    }
}

/// Starts a field definition.
pub fn field(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        target: None,
        required: false,
        protected: false,
        translated: false,
        inherited: false,
        state_machine: None,
        default: None,
        since: ApiVersion::V6_4,
    }
}

/// A foreign key to `target`.
pub fn fk(name: &'static str, target: &'static str) -> Field {
    Field {
        target: Some(target),
        ..field(name, Kind::Fk)
    }
}

impl Field {
    /// Required on create.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Write-protected.
    pub fn protected(mut self) -> Self {
        self.protected = true;
        self
    }

    /// Stored per language.
    pub fn translated(mut self) -> Self {
        self.translated = true;
        self
    }

    /// Inherited by variants.
    pub fn inherited(mut self) -> Self {
        self.inherited = true;
        self
    }

    /// A state field of `machine`.
    pub fn state(mut self, machine: &'static str) -> Self {
        self.state_machine = Some(machine);
        self
    }

    /// Filled with `value()` on create when missing.
    pub fn default(mut self, value: fn() -> serde_json::Value) -> Self {
        self.default = Some(value);
        self
    }

    /// Only from `version` on.
    pub fn since(mut self, version: ApiVersion) -> Self {
        self.since = version;
        self
    }
}

fn association(name: &'static str, entity: &'static str, relation: Relation) -> Association {
    Association {
        name,
        entity,
        relation,
        autoload: false,
        inherited: false,
        cascade: false,
        since: ApiVersion::V6_4,
    }
}

/// A many-to-one association through the local foreign key `fk`.
pub fn many_to_one(name: &'static str, entity: &'static str, fk: &'static str) -> Association {
    association(name, entity, Relation::ManyToOne { fk })
}

/// A one-to-one association: one row of `entity` points here through `remote_fk`.
pub fn one_to_one(
    name: &'static str,
    entity: &'static str,
    remote_fk: &'static str,
) -> Association {
    Association {
        cascade: true,
        ..association(name, entity, Relation::OneToOne { remote_fk })
    }
}

/// A one-to-many association: rows of `entity` point here through `remote_fk`.
pub fn one_to_many(
    name: &'static str,
    entity: &'static str,
    remote_fk: &'static str,
) -> Association {
    Association {
        cascade: true,
        ..association(name, entity, Relation::OneToMany { remote_fk })
    }
}

/// A many-to-many association through `mapping`.
pub fn many_to_many(
    name: &'static str,
    entity: &'static str,
    mapping: &'static str,
    local: &'static str,
    remote: &'static str,
) -> Association {
    Association {
        cascade: true,
        ..association(
            name,
            entity,
            Relation::ManyToMany {
                mapping,
                local,
                remote,
            },
        )
    }
}

impl Association {
    /// Loaded without being asked for.
    pub fn autoload(mut self) -> Self {
        self.autoload = true;
        self
    }

    /// Inherited by variants.
    pub fn inherited(mut self) -> Self {
        self.inherited = true;
        self
    }

    /// Deleting this entity leaves the rows alone.
    pub fn no_cascade(mut self) -> Self {
        self.cascade = false;
        self
    }

    /// Only from `version` on.
    pub fn since(mut self, version: ApiVersion) -> Self {
        self.since = version;
        self
    }

    /// Whether it reaches many rows.
    pub fn is_to_many(&self) -> bool {
        matches!(
            self.relation,
            Relation::OneToMany { .. } | Relation::ManyToMany { .. }
        )
    }
}

/// All entity definitions of one API version.
#[derive(Debug)]
pub struct Definitions {
    entities: HashMap<&'static str, EntityDef>,
}

impl Definitions {
    /// The definitions as `version` has them (fields and associations of later versions left out).
    pub fn new(version: ApiVersion) -> Self {
        let entities = super::entities::all()
            .into_iter()
            .map(|mut def| {
                def.fields.retain(|f| f.since <= version);
                def.associations.retain(|a| a.since <= version);
                (def.name, def)
            })
            .collect();
        Definitions { entities }
    }

    /// The entity called `name` (`order_line_item`).
    pub fn get(&self, name: &str) -> Option<&EntityDef> {
        self.entities.get(name)
    }

    /// The entity called `name`; panics when unknown (for names the simulator itself uses).
    pub fn entity(&self, name: &str) -> &EntityDef {
        self.entities
            .get(name)
            .unwrap_or_else(|| panic!("unknown entity {name}"))
    }

    /// The entity served under the route segment `segment` (`order-line-item`).
    pub fn by_route(&self, segment: &str) -> Option<&EntityDef> {
        if segment.contains('_') {
            return None;
        }
        self.entities.get(segment.replace('-', "_").as_str())
    }

    /// Every entity name, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.entities.keys().copied().collect();
        names.sort_unstable();
        names
    }
}
