//! `users`: CCV's customers. `POST` needs a unique `username` and a `password`; the customer's data
//! is the `userinfo` Personalinfo. As documented, `GET /users` filters by `approval_status` only:
//! there is **no e-mail filter**, and an `email` parameter is ignored like any unknown one, so
//! finding a customer by e-mail means paging through all users.

use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::format_x_date;
use super::collection::{SortField, list as list_page};
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::{Address, Personalinfo, Store, User};
use super::products::set;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct UserInput {
    username: Option<String>,
    password: Option<String>,
    group_id: Option<u64>,
    /// Accepted, not modelled.
    status: Option<Value>,
    /// Accepted, not modelled.
    product_in_category_discount: Option<Value>,
    userinfo: Option<Value>,
}

/// The `customertype` values (GUESS: CCV writes "consumer (b2c) or business (b2b)").
const CUSTOMER_TYPES: [&str; 2] = ["b2c", "b2b"];

/// Reads Personalinfo from a request: `patch` laid over `base`, so that a PATCH (or an order's
/// `customer` over its user's data) changes only what it names.
pub(super) fn personalinfo(base: &Personalinfo, patch: &Value) -> Result<Personalinfo, CcvError> {
    if !patch.is_object() {
        return Err(CcvError::invalid("Personal info must be an object."));
    }
    let mut merged = serde_json::to_value(base).expect("Personalinfo serializes");
    merge(&mut merged, patch);
    let info: Personalinfo = serde_json::from_value(merged)
        .map_err(|e| CcvError::invalid(format!("Personal info does not fit the schema: {e}")))?;
    if let Some(kind) = &info.customertype
        && !CUSTOMER_TYPES.contains(&kind.as_str())
    {
        return Err(CcvError::invalid(format!(
            "customertype {kind:?} is none of {CUSTOMER_TYPES:?}."
        )));
    }
    address_form("billingaddress", &info.billingaddress)?;
    address_form("deliveryaddress", &info.deliveryaddress)?;
    Ok(info)
}

/// An address is street and house number, or address lines, not both: "Address line 1. Either
/// use address_line_1 and address_line_2 or street and housenumber." (JDK
/// `Internal/Entity/Personalinfo/Input/Child/Billingaddress.php`, and the same on the delivery
/// address; `street`, `housenumber`, `housenumber_suffix` and `address_line_2` each say "Note:
/// see address_line_1"). A null or empty field is not used. The merged result is checked, so a
/// client that switches an address from one form to the other clears the fields of the first.
fn address_form(name: &str, address: &Address) -> Result<(), CcvError> {
    let used = |field: &Option<String>| field.as_deref().is_some_and(|f| !f.trim().is_empty());
    let lines = used(&address.address_line_1) || used(&address.address_line_2);
    let street =
        used(&address.street) || address.housenumber.is_some() || used(&address.housenumber_suffix);
    if lines && street {
        return Err(CcvError::invalid(format!(
            "{name}: either use address_line_1 and address_line_2 or street and housenumber, not both."
        )));
    }
    Ok(())
}

/// JSON merge: objects field by field, anything else replaced.
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(base.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

const SORT_FIELDS: &[SortField<User>] = &[
    ("id", |a, b| a.id.cmp(&b.id)),
    ("username", |a, b| a.username.cmp(&b.username)),
    ("create_date", |a, b| a.create_date.cmp(&b.create_date)),
];

/// `GET /users`, with the one documented filter `approval_status`.
pub fn list(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let approval = request.param("approval_status");
    let items = store
        .users
        .values()
        .filter(|u| approval.is_none_or(|a| u.approval_status == a))
        .collect();
    list_page(request, items, SORT_FIELDS, |u| render(request, u))
}

/// `POST /users`.
pub fn create(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let input: UserInput = request.input()?;
    let (Some(username), Some(password)) = (input.username, input.password) else {
        return Err(CcvError::invalid("username and password are required."));
    };
    check_username_free(store, &username, None)?;
    let userinfo = match &input.userinfo {
        Some(info) => personalinfo(&Personalinfo::default(), info)?,
        None => Personalinfo::default(),
    };
    let id = store.new_id();
    let user = User {
        id,
        username,
        password,
        group_id: input.group_id,
        approval_status: "approved".into(),
        userinfo,
        create_date: request.now,
    };
    let body = render(request, &user);
    store.users.insert(id, user);
    Ok(Reply::Created(body))
}

pub fn get(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let user = store
        .users
        .get(&id)
        .ok_or_else(|| CcvError::not_found("user", id))?;
    Ok(Reply::Ok(render(request, user)))
}

/// `PATCH /users/:id`; `userinfo` is merged into what the user has.
pub fn update(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: UserInput = request.input()?;
    let current = store
        .users
        .get(&id)
        .ok_or_else(|| CcvError::not_found("user", id))?;
    let userinfo = input
        .userinfo
        .as_ref()
        .map(|info| personalinfo(&current.userinfo, info))
        .transpose()?;
    if let Some(username) = &input.username {
        check_username_free(store, username, Some(id))?;
    }
    let user = store.users.get_mut(&id).expect("checked above");
    set(&mut user.username, input.username);
    set(&mut user.password, input.password);
    set(&mut user.userinfo, userinfo);
    if input.group_id.is_some() {
        user.group_id = input.group_id;
    }
    Ok(Reply::NoContent)
}

pub fn delete(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    store
        .users
        .remove(&id)
        .ok_or_else(|| CcvError::not_found("user", id))?;
    Ok(Reply::NoContent)
}

/// Usernames are unique, case-insensitively; a taken one is CCV's `500.40`.
fn check_username_free(store: &Store, username: &str, except: Option<u64>) -> Result<(), CcvError> {
    let taken = store
        .users
        .values()
        .any(|u| Some(u.id) != except && u.username.eq_ignore_ascii_case(username));
    if taken {
        Err(CcvError::already_exists(format!(
            "The username {username:?} already exists."
        )))
    } else {
        Ok(())
    }
}

/// A user as CCV shows it; the password is never shown.
fn render(request: &ApiRequest, u: &User) -> Value {
    json!({
        "href": request.href(&format!("users/{}", u.id)),
        "id": u.id,
        "username": u.username,
        "group_id": u.group_id,
        "approval_status": u.approval_status,
        "creditpoints": 0,
        "create_date": format_x_date(u.create_date),
        "userinfo": u.userinfo,
    })
}
