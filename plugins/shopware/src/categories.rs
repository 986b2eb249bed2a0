//! Categories source: the whole tree, each parent before its children and siblings in the
//! shop's order. Shopware orders siblings as a linked list (`afterCategoryId` names the
//! previous sibling); the position is the place in that list.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Value, json};
use tillbridge_sdk::types::{Category, PluginError};

use crate::client::Client;
use crate::criteria;
use crate::order_model::name;

/// Every category, walked by `autoIncrement` a page at a time.
fn all(client: &mut Client) -> Result<Vec<Value>, PluginError> {
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let mut criteria = criteria::keyset(after, client.settings.page_size);
        criteria["includes"] = json!({"category": ["id", "parentId", "afterCategoryId", "name",
            "description", "translated", "active", "autoIncrement"]});
        let page = client.search("category", &criteria)?;
        // An empty page ends the walk even if the count said otherwise: it cannot stand still.
        let more = page.total > page.rows.len() as u64 && !page.rows.is_empty();
        after = page
            .rows
            .iter()
            .map(criteria::auto_increment)
            .max()
            .unwrap_or(after);
        rows.extend(page.rows);
        if !more {
            break;
        }
    }
    Ok(rows)
}

fn text(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// Siblings in the shop's order: the one after nobody first, then each one's follower; any
/// left over (a broken list) at the end, in the order read.
fn ordered<'a>(siblings: &[&'a Value]) -> Vec<&'a Value> {
    let mut by_previous: BTreeMap<Option<&str>, VecDeque<&'a Value>> = BTreeMap::new();
    for sibling in siblings {
        let previous = sibling["afterCategoryId"].as_str();
        by_previous.entry(previous).or_default().push_back(sibling);
    }
    let mut order = Vec::new();
    let mut previous: Option<&str> = None;
    while let Some(next) = by_previous.get_mut(&previous).and_then(VecDeque::pop_front) {
        order.push(next);
        previous = next["id"].as_str();
    }
    for sibling in siblings {
        if !order.iter().any(|o| std::ptr::eq(*o, *sibling)) {
            order.push(sibling);
        }
    }
    order
}

/// The tree from plain category rows, parents first (breadth first, siblings in order).
pub fn tree(rows: &[Value]) -> Vec<Category> {
    let ids: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
    let mut children: BTreeMap<Option<&str>, Vec<&Value>> = BTreeMap::new();
    for row in rows {
        // A parent that is not there (outside what was read) makes a root.
        let parent = row["parentId"].as_str().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(row);
    }
    let mut out = Vec::new();
    let mut queue: VecDeque<(Option<&str>, Vec<String>)> = VecDeque::from([(None, Vec::new())]);
    while let Some((parent, path)) = queue.pop_front() {
        let Some(siblings) = children.get(&parent) else {
            continue;
        };
        for (position, row) in ordered(siblings).into_iter().enumerate() {
            let id = row["id"].as_str().unwrap_or_default();
            let name = name(row).unwrap_or_default();
            let mut own = path.clone();
            own.push(name.clone());
            out.push(Category {
                id: id.to_string(),
                parent_id: parent.map(str::to_string),
                name,
                path: own.clone(),
                position: u32::try_from(position).unwrap_or(u32::MAX),
                active: row["active"].as_bool().unwrap_or(true),
                description: text(&row["translated"]["description"])
                    .or_else(|| text(&row["description"])),
            });
            queue.push_back((Some(id), own));
        }
    }
    out
}

/// `read-categories`.
pub fn read(client: &mut Client) -> Result<Vec<Category>, PluginError> {
    let rows = all(client)?;
    Ok(tree(&rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first_and_siblings_follow_after_category_id() {
        let rows = vec![
            json!({"id": "b", "parentId": "root", "afterCategoryId": "a", "name": "Books"}),
            json!({"id": "mugs", "parentId": "a", "afterCategoryId": null, "name": "Mugs"}),
            json!({"id": "root", "parentId": null, "name": "Home", "active": true}),
            json!({"id": "a", "parentId": "root", "afterCategoryId": null, "name": "Kitchen", "active": false}),
        ];
        let tree = tree(&rows);
        let names: Vec<_> = tree.iter().map(|c| c.path.join(" › ")).collect();
        assert_eq!(
            names,
            [
                "Home",
                "Home › Kitchen",
                "Home › Books",
                "Home › Kitchen › Mugs"
            ]
        );
        assert_eq!((tree[1].position, tree[2].position), (0, 1));
        assert_eq!(tree[2].parent_id.as_deref(), Some("root"));
        assert!(!tree[1].active);
    }
}
