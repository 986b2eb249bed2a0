//! New products and free order rows get one of the shop's own packages: CCV's package ids are
//! shop-wide numbers from `GET /packages` (jacobdekeizer/ccvshop-client,
//! `Models/Internal/Resource/Products/Post/Post.php`), so there is no default of 1 to count on.

use tillbridge::runtime::CallError;
use tillbridge::runtime::bindings::tillbridge::plugin::types::PluginError;

use super::support::Pos;
use super::support::records::{product, product_write};

/// The ids of the shop's packages, oldest first.
fn packages(pos: &Pos) -> Vec<u64> {
    pos.dump()["packages"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.parse().unwrap())
        .collect()
}

fn problem(error: CallError) -> String {
    match error {
        CallError::Plugin(PluginError::Invalid(problem)) => problem.message,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_shop_with_one_package_needs_no_setting() {
    let pos = Pos::empty().await;
    let [only] = packages(&pos)[..] else {
        panic!("the simulator starts with one package")
    };
    let mut session = pos.session().await;
    let said = session.check().await.unwrap();
    assert!(
        said.contains(&format!("new products get package {only}")),
        "the check says which package: {said}"
    );
    let results = session
        .write_products(&[product_write(product("MUG", "12.95", 3), None, &[])])
        .await
        .unwrap();
    let id = results[0].outcome.clone().expect("created").id;
    assert_eq!(pos.dump()["products"][&id]["package_id"], only);
}

#[tokio::test]
async fn with_several_packages_the_setting_chooses_and_a_wrong_one_is_named() {
    let mut pos = Pos::empty().await;
    let letterbox = pos.sim.add_package("Brievenbus");
    let first = packages(&pos)[0];

    let unset = problem(pos.session().await.check().await.unwrap_err());
    assert!(
        unset.contains("2 packages") && unset.contains("`package_id`"),
        "{unset}"
    );
    let results = pos
        .session()
        .await
        .write_products(&[product_write(product("MUG", "12.95", 3), None, &[])])
        .await
        .unwrap();
    let Err(PluginError::Invalid(refused)) = &results[0].outcome else {
        panic!("{results:?}")
    };
    assert!(
        refused.message.contains("package_id"),
        "{}",
        refused.message
    );
    assert!(pos.dump()["products"].as_object().unwrap().is_empty());

    pos.settings["package_id"] = 1.into();
    let wrong = problem(pos.session().await.check().await.unwrap_err());
    assert!(
        wrong.contains("package_id 1 is not a package")
            && wrong.contains(&first.to_string())
            && wrong.contains("\"Brievenbus\""),
        "names the packages there are: {wrong}"
    );

    pos.settings["package_id"] = letterbox.into();
    let mut session = pos.session().await;
    assert!(session.check().await.unwrap().contains("Brievenbus"));
    let results = session
        .write_products(&[product_write(product("MUG", "12.95", 3), None, &[])])
        .await
        .unwrap();
    let id = results[0].outcome.clone().expect("created").id;
    assert_eq!(pos.dump()["products"][&id]["package_id"], letterbox);
}
