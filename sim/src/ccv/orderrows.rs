//! `orderrows`: the rows of an order, under `/orders/:id/orderrows` (GET, POST one, PUT all) and
//! `/orderrows/:id` (GET, PATCH while the order is not completed, DELETE). A row is a product (its
//! data taken from the product, any field sent overriding it) or a free row, which needs
//! `product_name`, `price` and `package_id`. Rows changed on a completed sale move stock
//! ([`super::stock`]).
//!
//! A variant is posted with `attribute_combination_id`, and "the associated attributes value with
//! this id will be added to this row" (CCV's order row input schema, `Entity/Orderrow/Input` in
//! the schemas generated as `jacobdekeizer/ccvshop-client`): `price` stays the price per unit
//! without them (the product's, or the one sent), and each attribute value of the combination adds
//! its price. The row as read (`Resource/Orderrows/Orderrows` there; the official SDK's
//! `ccvshop/ccvshop-api` `src/Resources/OrderRow.php` has the same fields) shows the base price,
//! `total_extra_option_price` ("Total price from attributes"), `price_with_attributes` ("Product
//! price with attributes per unit") and the chosen values under `attributes`; it names the
//! variant by `sub_product_number`, `sub_sku_number` and `sub_ean_number` and has no
//! `attribute_combination_id`. How these amounts combine is not documented (GUESS): a unit costs
//! price − discount + the values' prices, and `total_price` is that × count.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::collection::list as list_page;
use super::error::CcvError;
use super::http::{ApiRequest, Reply};
use super::model::{Order, OrderRow, Store, tax_rate};
use super::products::set;
use super::{combinations, money, stock};

/// An order row as posted (also the body of `POST /orders/:id/orderrows`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RowInput {
    #[serde(deserialize_with = "money::optional")]
    count: Option<Decimal>,
    product_id: Option<u64>,
    attribute_combination_id: Option<u64>,
    product_name: Option<String>,
    product_number: Option<String>,
    #[serde(deserialize_with = "money::optional")]
    price: Option<Decimal>,
    #[serde(deserialize_with = "money::optional")]
    discount: Option<Decimal>,
    #[serde(deserialize_with = "money::optional")]
    tax: Option<Decimal>,
    unit: Option<String>,
    #[serde(deserialize_with = "money::optional")]
    weight: Option<Decimal>,
    memo: Option<String>,
    package_id: Option<u64>,
    #[serde(deserialize_with = "money::optional")]
    product_purchase_price: Option<Decimal>,
    product_type: Option<String>,
    /// Accepted; the simulator makes no deposit rows.
    auto_create_deposit_rows: Option<bool>,
}

/// The body of `PUT /orders/:id/orderrows`: all rows anew.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RowsInput {
    orderrows: Vec<RowInput>,
}

/// Builds a row; its id is handed out only once it is valid.
pub(super) fn build_row(store: &mut Store, input: RowInput) -> Result<OrderRow, CcvError> {
    let count = input
        .count
        .ok_or_else(|| CcvError::invalid("An order row needs count."))?;
    if count <= Decimal::ZERO {
        return Err(CcvError::invalid(
            "An order row's count must be above zero.",
        ));
    }
    let mut row = match input.product_id {
        Some(product_id) => product_row(store, product_id, input.attribute_combination_id)?,
        None => {
            if input.attribute_combination_id.is_some() {
                return Err(CcvError::invalid(
                    "attribute_combination_id needs the product_id it belongs to.",
                ));
            }
            CcvError::require(
                "A row without product_id needs",
                &[
                    ("product_name", input.product_name.is_none()),
                    ("price", input.price.is_none()),
                    ("package_id", input.package_id.is_none()),
                ],
            )?;
            free_row()
        }
    };
    row.count = count;
    set(&mut row.product_name, input.product_name);
    set(&mut row.product_number, input.product_number);
    set(&mut row.price, input.price);
    set(&mut row.discount, input.discount);
    set(&mut row.tax, input.tax);
    set(&mut row.unit, input.unit);
    set(&mut row.weight, input.weight);
    set(&mut row.memo, input.memo);
    set(
        &mut row.product_purchase_price,
        input.product_purchase_price,
    );
    set(&mut row.product_type, input.product_type);
    if input.package_id.is_some() {
        row.package_id = input.package_id;
    }
    give_ids(store, &mut row);
    Ok(row)
}

/// Hands out the ids of a row that is valid, and of its attribute values.
pub(super) fn give_ids(store: &mut Store, row: &mut OrderRow) {
    row.id = store.new_id();
    for attribute in &mut row.attributes {
        attribute.id = store.new_id();
    }
}

fn free_row() -> OrderRow {
    OrderRow {
        id: 0,
        product_id: None,
        attribute_combination_id: None,
        product_type: "default".into(),
        product_name: String::new(),
        product_number: String::new(),
        sub_product_number: None,
        sub_sku_number: None,
        sub_ean_number: None,
        count: Decimal::ONE,
        price: Decimal::ZERO,
        discount: Decimal::ZERO,
        tax: Decimal::from(21),
        unit: "piece".into(),
        weight: Decimal::ZERO,
        memo: String::new(),
        package_id: None,
        product_purchase_price: Decimal::ZERO,
        attributes: Vec::new(),
    }
}

/// A row filled from a product, and for a variant from its combination.
pub(super) fn product_row(
    store: &Store,
    product_id: u64,
    combination_id: Option<u64>,
) -> Result<OrderRow, CcvError> {
    let product = store
        .products
        .get(&product_id)
        .ok_or_else(|| CcvError::invalid(format!("product_id {product_id} is no product.")))?;
    let combination = match combination_id {
        Some(id) => Some(
            store
                .combinations
                .get(&id)
                .filter(|c| c.product_id == product_id)
                .ok_or_else(|| {
                    CcvError::invalid(format!(
                        "attribute_combination_id {id} is no combination of product {product_id}."
                    ))
                })?,
        ),
        None if combinations::combinations_of(store, product_id)
            .next()
            .is_some() =>
        {
            return Err(CcvError::invalid(format!(
                "Product {product_id} has attribute combinations; give attribute_combination_id."
            )));
        }
        None => None,
    };
    let attributes = combination.map_or_else(Vec::new, |c| combinations::row_attributes(store, c));
    let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(OrderRow {
        product_id: Some(product_id),
        attribute_combination_id: combination.map(|c| c.id),
        product_name: product.name.clone(),
        product_number: product.productnumber.clone(),
        sub_product_number: combination.and_then(|c| text(&c.product_number)),
        sub_sku_number: combination.and_then(|c| text(&c.sku_number)),
        sub_ean_number: combination.and_then(|c| text(&c.ean_number)),
        price: product.price,
        discount: product.discount,
        tax: tax_rate(&product.taxtariff),
        unit: product.unit.clone(),
        weight: product.weight,
        package_id: Some(product.package_id),
        product_purchase_price: product.purchaseprice,
        attributes,
        ..free_row()
    })
}

/// `GET /orders/:id/orderrows`.
pub fn list_rows(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let order = store
        .orders
        .get(&id)
        .ok_or_else(|| CcvError::not_found("order", id))?;
    let rows = order.rows.iter().collect();
    list_page(request, rows, &[("id", |a, b| a.id.cmp(&b.id))], |row| {
        render_row(request, order.id, row)
    })
}

/// `POST /orders/:id/orderrows`: one more row.
pub fn add_row(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: RowInput = request.input()?;
    let row = stock::change_order(store, id, |store, order| {
        let row = build_row(store, input)?;
        order.rows.push(row.clone());
        Ok::<_, CcvError>(row)
    })
    .ok_or_else(|| CcvError::not_found("order", id))??;
    Ok(Reply::Created(render_row(request, id, &row)))
}

/// `PUT /orders/:id/orderrows` with `{"orderrows": [...]}`: replaces every row.
pub fn replace_rows(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: RowsInput = request.input()?;
    if input.orderrows.is_empty() {
        return Err(CcvError::invalid("orderrows may not be empty."));
    }
    stock::change_order(store, id, |store, order| {
        order.rows = input
            .orderrows
            .into_iter()
            .map(|row| build_row(store, row))
            .collect::<Result<_, _>>()?;
        Ok::<_, CcvError>(())
    })
    .ok_or_else(|| CcvError::not_found("order", id))??;
    Ok(Reply::NoContent)
}

/// The order that holds row `id`.
fn order_of_row(store: &Store, id: u64) -> Result<&Order, CcvError> {
    store
        .orders
        .values()
        .find(|o| o.rows.iter().any(|r| r.id == id))
        .ok_or_else(|| CcvError::not_found("order row", id))
}

pub fn get_row(store: &Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let order = order_of_row(store, id)?;
    let row = order.rows.iter().find(|r| r.id == id).expect("found above");
    Ok(Reply::Ok(render_row(request, order.id, row)))
}

/// `PATCH /orderrows/:id`: only rows of orders that are not completed, as CCV documents.
pub fn update_row(store: &mut Store, request: &ApiRequest, id: u64) -> Result<Reply, CcvError> {
    let input: RowInput = request.input()?;
    let order = order_of_row(store, id)?;
    if order.is_completed {
        return Err(CcvError::invalid(format!(
            "Order {} is completed; its rows cannot be patched.",
            order.id
        )));
    }
    if input.product_id.is_some() || input.attribute_combination_id.is_some() {
        return Err(CcvError::invalid("A row's product cannot be changed."));
    }
    let order_id = order.id;
    let row = store
        .orders
        .get_mut(&order_id)
        .and_then(|o| o.rows.iter_mut().find(|r| r.id == id))
        .expect("found above");
    set(&mut row.count, input.count);
    set(&mut row.product_name, input.product_name);
    set(&mut row.product_number, input.product_number);
    set(&mut row.price, input.price);
    set(&mut row.discount, input.discount);
    set(&mut row.tax, input.tax);
    set(&mut row.memo, input.memo);
    Ok(Reply::NoContent)
}

/// `DELETE /orderrows/:id`.
pub fn delete_row(store: &mut Store, id: u64) -> Result<Reply, CcvError> {
    let order_id = order_of_row(store, id)?.id;
    stock::change_order(store, order_id, |_, order| {
        order.rows.retain(|r| r.id != id);
        Ok::<_, CcvError>(())
    })
    .expect("found above")?;
    Ok(Reply::NoContent)
}

/// A row as CCV's row read model has it.
pub(super) fn render_row(request: &ApiRequest, order_id: u64, r: &OrderRow) -> Value {
    let amounts = r
        .amounts()
        .expect("a stored row's amounts were checked when it was written");
    let attributes: Vec<Value> = r
        .attributes
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "option_name": a.option_name,
                "value_name": a.value_name,
                "price": money::to_json(a.price),
            })
        })
        .collect();
    json!({
        "href": request.href(&format!("orderrows/{}", r.id)),
        "id": r.id,
        "order_id": order_id,
        "product_type": r.product_type,
        "product_name": r.product_name,
        "product_number": r.product_number,
        "sub_product_number": r.sub_product_number,
        "sub_sku_number": r.sub_sku_number,
        "sub_ean_number": r.sub_ean_number,
        "product_id": r.product_id,
        "product_href": r.product_id.map(|p| request.href(&format!("products/{p}"))),
        "count": money::to_json(r.count),
        "price": money::to_json(r.price),
        "product_purchase_price": money::to_json(r.product_purchase_price),
        "discount": money::to_json(r.discount),
        "tax": money::to_json(r.tax),
        "unit": r.unit,
        "weight": money::to_json(r.weight),
        "memo": r.memo,
        "package_id": r.package_id,
        "original_price": money::to_json(r.price),
        "selling_price": money::to_json(amounts.selling),
        "price_without_discount": money::to_json(r.price),
        "price_without_discount_with_attributes": money::to_json(amounts.undiscounted),
        "price_with_attributes": money::to_json(amounts.price_with_attributes),
        "total_extra_option_price": money::to_json(amounts.total_extra),
        "total_price_with_attributes": money::to_json(amounts.total),
        "total_price": money::to_json(amounts.total),
        "attributes": attributes,
        "parent": { "id": order_id, "href": request.href(&format!("orders/{order_id}")) },
    })
}
