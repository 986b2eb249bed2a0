//! The category tree written parents first, and products put in categories.

use tillbridge::runtime::bindings::exports::tillbridge::plugin::categories_sink::{
    CategoryLink, CategoryWrite,
};
use tillbridge::runtime::bindings::tillbridge::plugin::types::{Category, WriteAction};

use super::support::Pos;
use super::support::records::{product, product_write};

fn category(id: &str, parent: Option<&str>, name: &str, position: u32) -> Category {
    Category {
        id: id.into(),
        parent_id: parent.map(String::from),
        name: name.into(),
        path: vec![name.into()],
        position,
        active: true,
        description: None,
    }
}

fn write(
    category: Category,
    parent_target_id: Option<&str>,
    target_id: Option<&str>,
) -> CategoryWrite {
    CategoryWrite {
        category,
        parent_target_id: parent_target_id.map(String::from),
        target_id: target_id.map(String::from),
    }
}

#[tokio::test]
async fn a_category_the_pos_has_already_is_taken_over_not_made_twice() {
    let pos = Pos::empty().await;
    let mut session = pos.session().await;
    let made = session
        .write_categories(&[write(category("home", None, "Home", 0), None, None)])
        .await
        .unwrap();
    let home = made[0].outcome.clone().unwrap().id;
    // The same tree again, as a host that lost its links would send it.
    let again = session
        .write_categories(&[
            write(category("home", None, "Home", 0), None, None),
            write(category("kitchen", Some("home"), "Kitchen", 1), None, None),
        ])
        .await
        .unwrap();
    let home_again = again[0].outcome.clone().unwrap();
    assert_eq!(
        (home_again.id, home_again.action),
        (home, WriteAction::Unchanged)
    );
    assert_eq!(
        again[1].outcome.clone().unwrap().action,
        WriteAction::Created
    );
    let homes = pos.dump()["categories"]
        .as_object()
        .unwrap()
        .values()
        .filter(|c| c["name"] == "Home")
        .count();
    assert_eq!(homes, 1, "Home exists once");
}

#[tokio::test]
async fn a_tree_is_written_parents_first_with_ccv_ids_per_source_id() {
    let pos = Pos::empty().await;
    let mut session = pos.session().await;
    // Children before their parents, none of the parents' CCV ids known yet.
    let batch = [
        write(category("mugs", Some("kitchen"), "Mugs", 0), None, None),
        write(category("kitchen", Some("home"), "Kitchen", 1), None, None),
        write(category("home", None, "Home", 0), None, None),
    ];
    let results = session.write_categories(&batch).await.unwrap();
    let keys: Vec<&str> = results.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["mugs", "kitchen", "home"], "in the order given");
    let id = |i: usize| results[i].outcome.clone().unwrap().id;
    let dump = pos.dump();
    let parent_of = |id: String| dump["categories"][&id]["parent_id"].to_string();
    assert_eq!(parent_of(id(0)), id(1));
    assert_eq!(parent_of(id(1)), id(2));
    assert_eq!(parent_of(id(2)), "null");
    assert_eq!(
        dump["categories"][&id(1)]["position"],
        2,
        "CCV counts from 1"
    );
    let posts: Vec<_> = pos
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.body.clone().unwrap()["name"].clone())
        .collect();
    assert_eq!(posts, ["Home", "Kitchen", "Mugs"]);

    // Renamed later, by id, with the parent the host linked.
    let renamed = session
        .write_categories(&[write(
            category("mugs", Some("kitchen"), "Cups & mugs", 0),
            Some(&id(1)),
            Some(&id(0)),
        )])
        .await
        .unwrap();
    assert_eq!(
        renamed[0].outcome.clone().unwrap().action,
        WriteAction::Updated
    );
    assert_eq!(pos.dump()["categories"][&id(0)]["name"], "Cups & mugs");
    assert_eq!(pos.dump()["categories"].as_object().unwrap().len(), 3);
}

#[tokio::test]
async fn products_are_linked_once() {
    let pos = Pos::empty().await;
    let mut session = pos.session().await;
    let made = session
        .write_categories(&[write(category("c", None, "Mugs", 0), None, None)])
        .await
        .unwrap();
    let category_id = made[0].outcome.clone().unwrap().id;
    let mut mug = product_write(product("MUG", "12.50", 1), None, &[]);
    mug.categories = vec![category_id.clone()];
    let written = session.write_products(&[mug]).await.unwrap();
    let product_id = written[0].outcome.clone().unwrap().id;
    assert_eq!(
        pos.dump()["product_categories"].as_object().unwrap().len(),
        1,
        "linked on create"
    );

    let before = pos.count();
    let link = CategoryLink {
        product_id: product_id.clone(),
        category_id: category_id.clone(),
    };
    let results = session.link_products(&[link]).await.unwrap();
    assert_eq!(results[0].key, format!("{product_id}/{category_id}"));
    assert_eq!(
        results[0].outcome.clone().unwrap().action,
        WriteAction::Unchanged
    );
    assert_eq!(
        pos.since(before),
        ["POST /producttocategories"],
        "no read first"
    );
    assert_eq!(
        pos.dump()["product_categories"].as_object().unwrap().len(),
        1
    );
}
