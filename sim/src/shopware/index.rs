//! What Shopware's indexers and subscribers keep up to date after a write: the category tree
//! (`path`, `level`, `childCount`, `breadcrumb`), product fields (`childCount`, `optionIds`,
//! `propertyIds`, `categoryIds`, `categoryTree`, `availableStock`, `available`, `sales`), order
//! amounts, and stock per version.
//!
//! Stock follows the version served:
//! - 6.4 (`StockUpdater`): `stock` only drops when an order is completed (and comes back when it
//!   leaves completed); `availableStock` = `stock` − quantities in orders that are neither
//!   completed nor cancelled.
//! - 6.6+ (`StockStorage`): `stock` is the sellable amount: it drops when an order is placed and
//!   comes back on cancel or delete; `availableStock` mirrors it.
//!
//! Each live order remembers the stock it took (`_stockApplied`, never served), so every change
//! (placing, a transition, an edited quantity, a merged draft, a delete) settles the difference.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::ApiVersion;
use super::ids::{LIVE_VERSION, SYSTEM_LANGUAGE};
use super::states::{self, ORDER};
use super::store::{Row, Store, Tx};
use super::write::Changes;

/// The private order field holding the stock the order took, by product id.
pub const STOCK_APPLIED: &str = "_stockApplied";

/// Updates everything derived from what `changes` touched.
pub fn reindex(tx: &mut Tx<'_>, changes: &Changes) {
    if changes.categories {
        category_tree(tx);
    }
    let mut products: BTreeSet<String> = changes.products.clone();
    for order in &changes.removed_orders {
        products.extend(settle_stock(tx, order, &HashMap::new()));
    }
    for order_id in &changes.orders {
        let Some(order) = tx.live("order", order_id).cloned() else {
            continue;
        };
        products.extend(
            tx.rows("order_line_item", LIVE_VERSION)
                .into_iter()
                .filter(|l| l.str("orderId") == Some(order_id.as_str()))
                .filter_map(|l| l.str("productId").map(str::to_string)),
        );
        order_amounts(tx, &order);
        let wanted = consumption(tx, &order);
        products.extend(settle_stock(tx, &order, &wanted));
    }
    refresh_products(tx, &products);
}

/// Puts a row only when it changed, so the undo log stays small.
fn put_if_changed(tx: &mut Tx<'_>, entity: &'static str, row: Row) {
    let key = row.id().to_string();
    if tx.live(entity, &key) != Some(&row) {
        tx.put(entity, LIVE_VERSION, row);
    }
}

fn category_tree(tx: &mut Tx<'_>) {
    let rows: Vec<Row> = tx
        .rows("category", LIVE_VERSION)
        .into_iter()
        .cloned()
        .collect();
    let by_id: HashMap<&str, &Row> = rows.iter().map(|r| (r.id(), r)).collect();
    let mut children: HashMap<&str, i64> = HashMap::new();
    for row in &rows {
        if let Some(parent) = row.str("parentId") {
            *children.entry(parent).or_default() += 1;
        }
    }
    let mut updated = Vec::new();
    for row in &rows {
        let mut ancestors = Vec::new();
        let mut cursor = row.str("parentId");
        while let Some(id) = cursor {
            if ancestors.len() > 64 || ancestors.contains(&id) {
                break;
            }
            ancestors.push(id);
            cursor = by_id.get(id).and_then(|p| p.str("parentId"));
        }
        ancestors.reverse();
        let path = (!ancestors.is_empty()).then(|| format!("|{}|", ancestors.join("|")));
        let name = |r: &Row| {
            r.translation("name", SYSTEM_LANGUAGE)
                .cloned()
                .unwrap_or(Value::Null)
        };
        let mut breadcrumb: Vec<Value> = ancestors
            .iter()
            .filter_map(|id| by_id.get(id).map(|r| name(r)))
            .collect();
        breadcrumb.push(name(row));
        let mut next = row.clone();
        next.data.insert("path".into(), json!(path));
        next.data
            .insert("level".into(), json!(ancestors.len() as i64 + 1));
        next.data.insert(
            "childCount".into(),
            json!(children.get(row.id()).copied().unwrap_or(0)),
        );
        next.data
            .insert("breadcrumb".into(), Value::Array(breadcrumb));
        if next != *row {
            updated.push(next);
        }
    }
    for row in updated {
        tx.put("category", LIVE_VERSION, row);
    }
}

/// The order fields derived from its own prices and date.
pub fn amount_fields(order: &mut Row) {
    let price = order.get("price").clone();
    let shipping = order.get("shippingCosts")["totalPrice"].clone();
    let date = order
        .str("orderDateTime")
        .and_then(|t| t.get(..10))
        .map(|d| json!(d))
        .unwrap_or(Value::Null);
    for (field, value) in [
        ("amountTotal", price["totalPrice"].clone()),
        ("amountNet", price["netPrice"].clone()),
        ("positionPrice", price["positionPrice"].clone()),
        ("taxStatus", price["taxStatus"].clone()),
        ("shippingTotal", shipping),
        ("orderDate", date),
    ] {
        order.data.insert(field.into(), value);
    }
}

/// Order amounts and the line items' prices. The 6.7 primary transaction and delivery are not
/// derived: the checkout and the storefront's change of payment method set them, a write
/// through the API or the DAL leaves them as given (null for such an order; a transaction
/// added later does not move them). SW 6.7: `Migration1728040170AddPrimaryOrderTransaction`
/// fills them once for old orders; `Migration1777952601BackfillPrimaryOrderTransaction`
/// (V6_8) exists because "orders created during the 6.7 lifecycle via direct DAL writes ...
/// did not set primary_order_transaction_id".
pub fn order_amounts(tx: &mut Tx<'_>, order: &Row) {
    let mut next = order.clone();
    amount_fields(&mut next);
    put_if_changed(tx, "order", next);
    let items: Vec<Row> = tx
        .rows("order_line_item", LIVE_VERSION)
        .into_iter()
        .filter(|l| l.str("orderId") == Some(order.id()))
        .cloned()
        .collect();
    for item in items {
        let mut next = item.clone();
        let price = item.get("price");
        next.data
            .insert("unitPrice".into(), price["unitPrice"].clone());
        next.data
            .insert("totalPrice".into(), price["totalPrice"].clone());
        put_if_changed(tx, "order_line_item", next);
    }
}

/// Whether an order in `state` holds stock: on 6.4 once it shipped (completed), on 6.6+ from
/// placement on unless cancelled.
pub fn takes_stock(version: ApiVersion, state: &str) -> bool {
    match version {
        ApiVersion::V6_4 => state == "completed",
        ApiVersion::V6_6 | ApiVersion::V6_7 => state != "cancelled",
    }
}

/// The stock an order should have taken, by product id.
pub fn consumption(store: &Store, order: &Row) -> HashMap<String, i64> {
    let state = order
        .str("stateId")
        .and_then(|id| states::technical_name(&ORDER, id))
        .unwrap_or("open");
    let mut taken = HashMap::new();
    if !takes_stock(store.version, state) {
        return taken;
    }
    for item in store.rows("order_line_item", LIVE_VERSION) {
        if item.str("orderId") != Some(order.id()) || item.str("type") != Some("product") {
            continue;
        }
        if let Some(product) = item.str("productId") {
            *taken.entry(product.to_string()).or_default() +=
                item.get("quantity").as_i64().unwrap_or(0);
        }
    }
    taken
}

/// Moves product stock by the difference between what the order took and `wanted`; returns
/// the products changed.
fn settle_stock(tx: &mut Tx<'_>, order: &Row, wanted: &HashMap<String, i64>) -> Vec<String> {
    let applied: HashMap<String, i64> = order
        .get(STOCK_APPLIED)
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let mut changed = Vec::new();
    let products: BTreeSet<&String> = applied.keys().chain(wanted.keys()).collect();
    for product_id in products {
        let delta = wanted.get(product_id).copied().unwrap_or(0)
            - applied.get(product_id).copied().unwrap_or(0);
        if delta == 0 {
            continue;
        }
        let Some(mut product) = tx.live("product", product_id).cloned() else {
            continue;
        };
        let stock = product.get("stock").as_i64().unwrap_or(0);
        product.data.insert("stock".into(), json!(stock - delta));
        if tx.version != ApiVersion::V6_4 {
            let sales = product.get("sales").as_i64().unwrap_or(0);
            product.data.insert("sales".into(), json!(sales + delta));
        }
        tx.put("product", LIVE_VERSION, product);
        changed.push(product_id.clone());
    }
    if tx.live("order", order.id()).is_some() {
        let mut next = tx.live("order", order.id()).cloned().unwrap_or_default();
        let map: Map<String, Value> = wanted.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        next.data.insert(STOCK_APPLIED.into(), Value::Object(map));
        put_if_changed(tx, "order", next);
    }
    changed
}

/// Quantities of each product in live orders in these states (by technical name).
fn quantities_in(store: &Store, wanted: impl Fn(&str) -> bool) -> HashMap<String, i64> {
    let open_orders: BTreeSet<&str> = store
        .rows("order", LIVE_VERSION)
        .into_iter()
        .filter(|o| {
            let state = o
                .str("stateId")
                .and_then(|id| states::technical_name(&ORDER, id))
                .unwrap_or("open");
            wanted(state)
        })
        .map(Row::id)
        .collect();
    let mut quantities = HashMap::new();
    for item in store.rows("order_line_item", LIVE_VERSION) {
        if item.str("type") != Some("product")
            || !item.str("orderId").is_some_and(|o| open_orders.contains(o))
        {
            continue;
        }
        if let Some(product) = item.str("productId") {
            *quantities.entry(product.to_string()).or_default() +=
                item.get("quantity").as_i64().unwrap_or(0);
        }
    }
    quantities
}

/// Computes and stores the derived fields of these products.
pub fn refresh_products(tx: &mut Tx<'_>, ids: &BTreeSet<String>) {
    if ids.is_empty() {
        return;
    }
    let rows = products_with_derived(tx, ids);
    for row in rows {
        put_if_changed(tx, "product", row);
    }
}

/// The given products with their derived fields computed, without writing them.
pub fn products_with_derived(store: &Store, ids: &BTreeSet<String>) -> Vec<Row> {
    let (open, completed) = match store.version {
        ApiVersion::V6_4 => (
            quantities_in(store, |s| s != "completed" && s != "cancelled"),
            quantities_in(store, |s| s == "completed"),
        ),
        _ => (HashMap::new(), HashMap::new()),
    };
    let mut children: HashMap<&str, i64> = HashMap::new();
    for product in store.rows("product", LIVE_VERSION) {
        if let Some(parent) = product.str("parentId").filter(|p| ids.contains(*p)) {
            *children.entry(parent).or_default() += 1;
        }
    }
    let mapped = |mapping: &str, remote: &str| {
        let mut by_product: HashMap<String, Vec<Value>> = HashMap::new();
        for row in store.rows(mapping, LIVE_VERSION) {
            if let (Some(p), Some(r)) = (row.str("productId"), row.str(remote))
                && ids.contains(p)
            {
                by_product.entry(p.to_string()).or_default().push(json!(r));
            }
        }
        by_product
    };
    let options = mapped("product_option", "optionId");
    let properties = mapped("product_property", "optionId");
    // Variants without categories of their own take their parent's for the category tree.
    let parents: BTreeSet<&str> = ids
        .iter()
        .filter_map(|id| store.live("product", id))
        .filter_map(|p| p.str("parentId"))
        .collect();
    let categories = {
        let mut wanted: HashMap<String, Vec<Value>> = HashMap::new();
        for row in store.rows("product_category", LIVE_VERSION) {
            if let (Some(p), Some(c)) = (row.str("productId"), row.str("categoryId"))
                && (ids.contains(p) || parents.contains(p))
            {
                wanted.entry(p.to_string()).or_default().push(json!(c));
            }
        }
        wanted
    };
    let mut rows = Vec::new();
    for id in ids {
        let Some(product) = store.live("product", id) else {
            continue;
        };
        let parent = product
            .str("parentId")
            .and_then(|p| store.live("product", p));
        let inherited = |field: &str| {
            let own = product.get(field);
            if own.is_null() {
                parent.map(|p| p.get(field).clone()).unwrap_or(Value::Null)
            } else {
                own.clone()
            }
        };
        let mut next = product.clone();
        let list =
            |map: &HashMap<String, Vec<Value>>| json!(map.get(id).cloned().unwrap_or_default());
        next.data.insert(
            "childCount".into(),
            json!(children.get(id.as_str()).copied().unwrap_or(0)),
        );
        next.data.insert("optionIds".into(), list(&options));
        next.data.insert("propertyIds".into(), list(&properties));
        let own_categories = categories.get(id).cloned().unwrap_or_default();
        next.data
            .insert("categoryIds".into(), json!(own_categories));
        let tree_source = if own_categories.is_empty() {
            parent
                .and_then(|p| categories.get(p.id()).cloned())
                .unwrap_or_default()
        } else {
            own_categories
        };
        next.data
            .insert("categoryTree".into(), category_tree_of(store, &tree_source));
        let stock = product.get("stock").as_i64().unwrap_or(0);
        let available_stock = match store.version {
            ApiVersion::V6_4 => {
                next.data.insert(
                    "sales".into(),
                    json!(completed.get(id).copied().unwrap_or(0)),
                );
                stock - open.get(id).copied().unwrap_or(0)
            }
            _ => stock,
        };
        next.data
            .insert("availableStock".into(), json!(available_stock));
        let closeout = inherited("isCloseout").as_bool().unwrap_or(false);
        let min_purchase = inherited("minPurchase").as_i64().unwrap_or(1).max(1);
        next.data.insert(
            "available".into(),
            json!(!closeout || available_stock >= min_purchase),
        );
        rows.push(next);
    }
    rows
}

/// The categories and all their ancestors.
fn category_tree_of(store: &Store, categories: &[Value]) -> Value {
    let mut tree: Vec<String> = Vec::new();
    for category in categories.iter().filter_map(Value::as_str) {
        if let Some(row) = store.live("category", category) {
            for ancestor in row
                .str("path")
                .unwrap_or_default()
                .split('|')
                .filter(|s| !s.is_empty())
            {
                if !tree.iter().any(|t| t == ancestor) {
                    tree.push(ancestor.to_string());
                }
            }
        }
        if !tree.iter().any(|t| t == category) {
            tree.push(category.to_string());
        }
    }
    json!(tree)
}
