//! `orders`: created with their rows (see [`super::orderrows`]), read with the documented filters,
//! patched (status, paid, …), never deleted. The POS numbers orders itself when they are
//! completed. How orders move stock is in [`super::stock`].
//!
//! Totals (GUESS: CCV does not document its arithmetic): a row's total is (price − discount) ×
//! count; with `order_row_taxes_included` (the default) row prices include VAT and the tax is the
//! part of each row total, otherwise it is added on top; each row's tax is rounded to cents.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::format_x_date;
use super::collection::{SortField, list as list_page, sub_resource};
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::{Order, Personalinfo, STATUS_RESERVED, Store};
use super::orderrows::{RowInput, build_row, give_ids, product_row, render_row};
use super::products::{parse_bool, set};
use super::{money, stock, users};

/// The order input schema of `POST /orders`. There is no `paymethod_id`: CCV's documented schema
/// has none, so it is refused like any unknown property.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct OrderInput {
    orderrows: Option<Vec<RowInput>>,
    user_id: Option<u64>,
    customer: Option<Value>,
    is_completed: Option<bool>,
    status: Option<u8>,
    paid: Option<bool>,
    taxes_included: Option<bool>,
    order_row_taxes_included: Option<bool>,
    shipping_taxes_included: Option<bool>,
    is_intra_community_order: Option<bool>,
    is_platform_sale: Option<bool>,
    currency: Option<String>,
    orderedinlng: Option<String>,
    #[serde(deserialize_with = "money::optional")]
    total_shipping: Option<Decimal>,
    #[serde(deserialize_with = "money::optional")]
    paymethod_costs: Option<Decimal>,
    #[serde(deserialize_with = "money::optional")]
    extra_costs: Option<Decimal>,
    extra_costs_description: Option<String>,
    invoicenumber: Option<u64>,
    reservationnumber: Option<String>,
    deliver_date: Option<String>,
    deliver_method: Option<String>,
    /// Accepted, not modelled.
    takeoutslot: Option<Value>,
    track_and_trace_code: Option<String>,
    track_and_trace_carrier: Option<String>,
    safety_deposit_returned: Option<bool>,
}

/// What `PATCH /orders/:id` takes.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct OrderPatch {
    status: Option<u8>,
    paid: Option<bool>,
    customer: Option<Value>,
    reservationnumber: Option<String>,
    invoicenumber: Option<u64>,
    deliver_date: Option<String>,
    deliver_method: Option<String>,
    track_and_trace_code: Option<String>,
    track_and_trace_carrier: Option<String>,
    safety_deposit_returned: Option<bool>,
    #[serde(deserialize_with = "money::optional")]
    total_shipping: Option<Decimal>,
    #[serde(deserialize_with = "money::optional")]
    paymethod_costs: Option<Decimal>,
    #[serde(deserialize_with = "money::optional")]
    extra_costs: Option<Decimal>,
    extra_costs_description: Option<String>,
    /// "When the boolean 'mail' is set, the note will be appended to the email which is send to
    /// the customer" (JDK `Orders/Patch/Patch.php`): text for the customer, not an internal note
    /// (those are `POST /orders/:id/ordernotes`). What CCV does with a note without `mail` is not
    /// documented; the simulator keeps it nowhere (GUESS).
    note: Option<String>,
    /// "If TRUE, notify the customer of the status change. Also see 'note' and
    /// 'track_and_trace_code'": the simulator records the e-mail on the order.
    mail: Option<bool>,
}

fn check_status(status: u8) -> Result<u8, CcvError> {
    if (1..=14).contains(&status) {
        Ok(status)
    } else {
        Err(CcvError::invalid(format!(
            "status {status} is not between 1 and 14."
        )))
    }
}

/// `POST /orders`.
pub fn create(store: &mut Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let input: OrderInput = request.input()?;
    let rows = input.orderrows.unwrap_or_default();
    if rows.is_empty() {
        return Err(CcvError::invalid(
            "orderrows is required and may not be empty.",
        ));
    }
    let base = match input.user_id {
        Some(id) => store
            .users
            .get(&id)
            .ok_or_else(|| CcvError::invalid(format!("user_id {id} is no user.")))?
            .userinfo
            .clone(),
        None => Personalinfo::default(),
    };
    let customer = match &input.customer {
        Some(patch) => users::personalinfo(&base, patch)?,
        None => base,
    };
    let is_completed = input.is_completed.unwrap_or(true);
    let status = match input.status {
        Some(status) => Some(check_status(status)?),
        None => Some(1),
    }
    .filter(|_| is_completed);
    let mut order = new_order(0, request.now);
    order.rows = rows
        .into_iter()
        .map(|row| build_row(store, row))
        .collect::<Result<_, _>>()?;
    order.is_completed = is_completed;
    order.status = status;
    order.user_id = input.user_id;
    order.customer = customer;
    set(&mut order.paid, input.paid);
    set(&mut order.taxes_included, input.taxes_included);
    set(
        &mut order.order_row_taxes_included,
        input.order_row_taxes_included,
    );
    set(
        &mut order.shipping_taxes_included,
        input.shipping_taxes_included,
    );
    set(
        &mut order.is_intra_community_order,
        input.is_intra_community_order,
    );
    set(&mut order.is_platform_sale, input.is_platform_sale);
    set(&mut order.currency, input.currency);
    set(&mut order.orderedinlng, input.orderedinlng);
    set(&mut order.total_shipping, input.total_shipping);
    set(&mut order.paymethod_costs, input.paymethod_costs);
    set(&mut order.extra_costs, input.extra_costs);
    set(
        &mut order.extra_costs_description,
        input.extra_costs_description,
    );
    set(&mut order.deliver_method, input.deliver_method);
    set(&mut order.track_and_trace_code, input.track_and_trace_code);
    set(
        &mut order.safety_deposit_returned,
        input.safety_deposit_returned,
    );
    order.invoicenumber = input.invoicenumber;
    order.reservationnumber = input.reservationnumber;
    order.deliver_date = input.deliver_date;
    order.track_and_trace_carrier = input.track_and_trace_carrier;
    // Checked before the order takes an id and a number, so a refused order leaves no gap.
    stock::check_totals(&order)?;
    order.id = store.new_id();
    order.ordernumber = is_completed.then(|| next_ordernumber(store));
    let id = order.id;
    stock::insert_order(store, order)?;
    Ok(Reply::Created(render(store, request, &store.orders[&id])))
}

/// A sale at the till of one article, with no customer: an order of the POS's own in `status`
/// (14 for a reservation, 7 for a sale that is done), numbered like any completed order.
pub(super) fn till_sale(
    store: &mut Store,
    article: stock::Article,
    count: Decimal,
    status: u8,
    now: DateTime<Utc>,
) -> Result<u64, CcvError> {
    let mut row = product_row(store, article.product_id, article.combination_id)?;
    row.count = count;
    give_ids(store, &mut row);
    let mut order = new_order(store.new_id(), now);
    order.status = Some(check_status(status)?);
    order.paid = status != STATUS_RESERVED;
    order.ordernumber = Some(next_ordernumber(store));
    order.rows = vec![row];
    let id = order.id;
    stock::insert_order(store, order)?;
    Ok(id)
}

/// The next number the POS gives a completed order.
pub(super) fn next_ordernumber(store: &mut Store) -> u64 {
    let number = store.next_ordernumber;
    store.next_ordernumber += 1;
    number
}

/// An order with CCV's defaults and no rows.
pub(super) fn new_order(id: u64, now: DateTime<Utc>) -> Order {
    Order {
        id,
        ordernumber: None,
        create_date: now,
        status: Some(1),
        is_completed: true,
        paid: false,
        user_id: None,
        customer: Personalinfo::default(),
        paymethod_id: None,
        taxes_included: true,
        order_row_taxes_included: true,
        shipping_taxes_included: true,
        is_intra_community_order: false,
        is_platform_sale: false,
        currency: "EUR".into(),
        orderedinlng: "nl".into(),
        total_shipping: Decimal::ZERO,
        paymethod_costs: Decimal::ZERO,
        extra_costs: Decimal::ZERO,
        extra_costs_description: String::new(),
        invoicenumber: None,
        reservationnumber: None,
        deliver_date: None,
        deliver_method: "pickup".into(),
        track_and_trace_code: String::new(),
        track_and_trace_carrier: None,
        transaction_id: None,
        safety_deposit_returned: false,
        customer_mails: Vec::new(),
        rows: Vec::new(),
    }
}

const SORT_FIELDS: &[SortField<Order>] = &[
    ("id", |a, b| a.id.cmp(&b.id)),
    ("ordernumber", |a, b| a.ordernumber.cmp(&b.ordernumber)),
    ("create_date", |a, b| a.create_date.cmp(&b.create_date)),
    ("deliver_date", |a, b| a.deliver_date.cmp(&b.deliver_date)),
];

/// `GET /orders` with the documented filters `ordernumber`, `status`, `is_paid`,
/// `min_create_date`, `max_create_date` (a date or a date-time, inclusive), `is_completed`
/// (default true: baskets are not listed), `paymethod_id`, `transaction_id`, `deliver_date`.
pub fn list(store: &Store, request: &ApiRequest) -> Result<Reply, CcvError> {
    let p = |name: &'static str| request.param(name);
    let number = |name: &'static str| -> Result<Option<u64>, CcvError> {
        p(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| CcvError::invalid(format!("{name} must be a number, not {v:?}.")))
            })
            .transpose()
    };
    let ordernumber = number("ordernumber")?;
    let status = number("status")?;
    let paymethod = number("paymethod_id")?;
    let is_paid = p("is_paid").map(|v| parse_bool("is_paid", v)).transpose()?;
    let completed = p("is_completed")
        .map(|v| parse_bool("is_completed", v))
        .transpose()?
        .unwrap_or(true);
    let min_date = p("min_create_date")
        .map(|v| parse_date("min_create_date", v, false))
        .transpose()?;
    let max_date = p("max_create_date")
        .map(|v| parse_date("max_create_date", v, true))
        .transpose()?;
    let items = store
        .orders
        .values()
        .filter(|o| o.is_completed == completed)
        .filter(|o| ordernumber.is_none_or(|n| o.ordernumber == Some(n)))
        .filter(|o| status.is_none_or(|s| o.status.map(u64::from) == Some(s)))
        .filter(|o| paymethod.is_none_or(|m| o.paymethod_id == Some(m)))
        .filter(|o| is_paid.is_none_or(|paid| o.paid == paid))
        .filter(|o| min_date.is_none_or(|d| o.create_date >= d))
        .filter(|o| max_date.is_none_or(|d| o.create_date <= d))
        .filter(|o| p("transaction_id").is_none_or(|t| o.transaction_id.as_deref() == Some(t)))
        .filter(|o| p("deliver_date").is_none_or(|d| o.deliver_date.as_deref() == Some(d)))
        .collect();
    list_page(request, items, SORT_FIELDS, |o| render(store, request, o))
}

/// A date filter: `2024-05-01` (the whole day counts) or an ISO 8601 date-time.
fn parse_date(name: &str, value: &str, end_of_day: bool) -> Result<DateTime<Utc>, CcvError> {
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let time = if end_of_day {
            day.and_hms_opt(23, 59, 59)
        } else {
            day.and_hms_opt(0, 0, 0)
        };
        return Ok(time.expect("a valid time").and_utc());
    }
    DateTime::parse_from_rfc3339(value)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            CcvError::invalid(format!(
                "{name} must be a date such as 2024-05-01, not {value:?}."
            ))
        })
}

pub fn get(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let order = store
        .orders
        .get(&id)
        .ok_or_else(|| CcvError::not_found("order", id))?;
    Ok(Reply::Ok(render(store, request, order)))
}

/// `PATCH /orders/:id`: status, paid, customer data, delivery and bookkeeping fields, and an
/// e-mail to the customer (`mail`, with the `note`).
pub fn update(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let patch: OrderPatch = request.input()?;
    let status = patch.status.map(check_status).transpose()?;
    let changed = stock::change_order(store, id, |_, order| {
        if let Some(customer) = &patch.customer {
            order.customer = users::personalinfo(&order.customer, customer)?;
        }
        if status.is_some() {
            order.status = status;
        }
        set(&mut order.paid, patch.paid);
        set(&mut order.deliver_method, patch.deliver_method);
        set(&mut order.track_and_trace_code, patch.track_and_trace_code);
        set(
            &mut order.safety_deposit_returned,
            patch.safety_deposit_returned,
        );
        set(&mut order.total_shipping, patch.total_shipping);
        set(&mut order.paymethod_costs, patch.paymethod_costs);
        set(&mut order.extra_costs, patch.extra_costs);
        set(
            &mut order.extra_costs_description,
            patch.extra_costs_description,
        );
        for (field, value) in [
            (&mut order.reservationnumber, patch.reservationnumber),
            (&mut order.deliver_date, patch.deliver_date),
            (
                &mut order.track_and_trace_carrier,
                patch.track_and_trace_carrier,
            ),
        ] {
            if value.is_some() {
                *field = value;
            }
        }
        if patch.invoicenumber.is_some() {
            order.invoicenumber = patch.invoicenumber;
        }
        if patch.mail == Some(true) {
            order
                .customer_mails
                .push(customer_mail(order, patch.note.as_deref()));
        }
        Ok(())
    });
    changed.ok_or_else(|| CcvError::not_found("order", id))??;
    Ok(Reply::NoContent)
}

/// The e-mail a customer gets about an order's status: the status, the track and trace code when
/// there is one, and the note appended.
fn customer_mail(order: &Order, note: Option<&str>) -> String {
    let number = order
        .ordernumber
        .map_or_else(|| order.id.to_string(), |n| n.to_string());
    let status = order.status.map_or_else(|| "-".into(), |s| s.to_string());
    let mut mail = format!("Your order {number} has status {status}.");
    if !order.track_and_trace_code.is_empty() {
        mail.push_str(&format!(
            "\nTrack and trace: {}",
            order.track_and_trace_code
        ));
    }
    if let Some(note) = note.filter(|n| !n.is_empty()) {
        mail.push_str(&format!("\n\n{note}"));
    }
    mail
}

// ----- rendering --------------------------------------------------------------------------------

/// An order's totals.
pub(super) struct Totals {
    orderrows: Decimal,
    discounts: Decimal,
    tax: Decimal,
    price: Decimal,
}

/// An order's totals; none when one does not fit a decimal (checked before an order is kept, see
/// [`super::stock`]).
pub(super) fn totals(order: &Order) -> Option<Totals> {
    let hundred = Decimal::ONE_HUNDRED;
    let zero = Totals {
        orderrows: Decimal::ZERO,
        discounts: Decimal::ZERO,
        tax: Decimal::ZERO,
        price: Decimal::ZERO,
    };
    let mut totals = order.rows.iter().try_fold(zero, |sum, r| {
        let row = r.amounts()?;
        let share = if order.order_row_taxes_included {
            row.total
                .checked_mul(r.tax)?
                .checked_div(hundred.checked_add(r.tax)?)?
        } else {
            row.total.checked_mul(r.tax)?.checked_div(hundred)?
        };
        Some(Totals {
            orderrows: sum.orderrows.checked_add(row.total)?,
            discounts: sum.discounts.checked_add(row.total_discount)?,
            tax: sum.tax.checked_add(money::cents(share))?,
            price: Decimal::ZERO,
        })
    })?;
    let on_top = if order.order_row_taxes_included {
        Decimal::ZERO
    } else {
        totals.tax
    };
    totals.price = [
        on_top,
        order.total_shipping,
        order.paymethod_costs,
        order.extra_costs,
    ]
    .into_iter()
    .try_fold(totals.orderrows, Decimal::checked_add)?;
    Some(totals)
}

/// An order as `GET /orders/:id` shows it.
pub(super) fn render(store: &Store, request: &ApiRequest, o: &Order) -> Value {
    let id = o.id;
    let totals = totals(o).expect("an order's totals were checked when it was written");
    let paymethod = o.paymethod_id.and_then(|p| store.paymethods.get(&p));
    let mut body = json!({
        "href": request.href(&format!("orders/{id}")),
        "id": id,
        "ordernumber_prefix": null,
        "ordernumber": o.ordernumber,
        "ordernumber_full": o.ordernumber.map(|n| n.to_string()),
        "invoicenumber": o.invoicenumber,
        "transaction_id": o.transaction_id,
        "create_date": format_x_date(o.create_date),
        "deliver_method": o.deliver_method,
        "deliver_date": o.deliver_date,
        "is_platform_sale": o.is_platform_sale,
        "orderedinlng": o.orderedinlng,
        "status": o.status,
        "is_completed": o.is_completed,
        "basket_href": (!o.is_completed).then(|| request.href(&format!("orders/{id}/basket"))),
        "paid": o.paid,
        "safety_deposit_returned": o.safety_deposit_returned,
        "paymethod_id": o.paymethod_id,
        "paymethod": paymethod.map(|p| p.method.as_str()),
        "paymethod_label": paymethod.map(|p| p.label.as_str()),
        "track_and_trace_code": o.track_and_trace_code,
        "track_and_trace_carrier": o.track_and_trace_carrier,
        "reservationnumber": o.reservationnumber,
        "user": o.user_id.map(|u| json!({ "id": u, "href": request.href(&format!("users/{u}")) })),
        "customer": o.customer,
        "orderrows": sub_resource(request, "orderrows", &format!("orders/{id}/orderrows"), || {
            o.rows.iter().map(|r| render_row(request, id, r)).collect()
        }),
        // A link only (JDK `Orders/Child/Ordernotes.php`); the notes are their own resource.
        "ordernotes": { "href": request.href(&format!("orders/{id}/ordernotes")) },
    });
    let amounts = json!({
        "taxes_included": o.taxes_included,
        "order_row_taxes_included": o.order_row_taxes_included,
        "shipping_taxes_included": o.shipping_taxes_included,
        "is_intra_community_order": o.is_intra_community_order,
        "total_orderrow_price": money::to_json(totals.orderrows),
        "total_shipping": money::to_json(o.total_shipping),
        "total_discounts": money::to_json(totals.discounts),
        "total_tax": money::to_json(totals.tax),
        "total_price": money::to_json(totals.price),
        "currency": o.currency,
        "paymethod_costs": money::to_json(o.paymethod_costs),
        "extra_costs": money::to_json(o.extra_costs),
        "extra_costs_description": o.extra_costs_description,
    });
    if let (Some(body), Value::Object(amounts)) = (body.as_object_mut(), amounts) {
        body.extend(amounts);
    }
    body
}
