//! Categories source: the tree with paths, parents before children.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tree_comes_parents_first_with_paths_and_positions() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        let tree = shop.session().await.read_categories().await.unwrap();
        let paths: Vec<String> = tree.iter().map(|c| c.path.join(" › ")).collect();
        assert_eq!(
            paths,
            [
                "Home",
                "Home › Clothing",
                "Home › Kitchen",
                "Home › Decoration",
                "Home › Books",
                "Home › Clothing › T-shirts",
                "Home › Clothing › Hoodies",
                "Home › Kitchen › Mugs",
                "Home › Kitchen › Candles",
                "Home › Decoration › Posters",
            ],
            "{version}"
        );
        for (i, category) in tree.iter().enumerate() {
            if let Some(parent) = &category.parent_id {
                let at = tree.iter().position(|c| &c.id == parent).unwrap();
                assert!(at < i, "{version}: {} after its parent", category.name);
            }
        }
        let books = tree.iter().find(|c| c.name == "Books").unwrap();
        assert_eq!(books.position, 3, "{version}: the fourth child of Home");
        assert_eq!(books.id, keys::category(&["Home".into(), "Books".into()]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_tree_is_read_in_pages() {
    let shop = Shop::start(
        ApiVersion::V6_6,
        Seed::Dataset(Dataset::generated(10, 0, 0.5, 3)),
    )
    .await;
    let mut settings = shop.settings.clone();
    settings["page_size"] = 20.into();
    let tree = shop
        .session_with(settings)
        .await
        .read_categories()
        .await
        .unwrap();
    assert_eq!(tree.len(), 1 + 5 + 20 + 60);
    assert_eq!(
        shop.requests_to("/api/search/category"),
        5,
        "86 categories, 20 a page"
    );
    assert_eq!(tree.last().unwrap().path.len(), 4);
}
