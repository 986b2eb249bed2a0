//! Large collections are read in pages of 250, and a catalogue is read once when that is cheaper
//! than a look-up per SKU.

use tillbridge::runtime::bindings::exports::tillbridge::plugin::categories_sink::{
    CategoryLink, CategoryWrite,
};
use tillbridge::runtime::bindings::exports::tillbridge::plugin::products_source::ProductQuery;
use tillbridge::runtime::bindings::tillbridge::plugin::types::Category;
use tillbridge_sim::ccv::{CcvOptions, Seed};
use tillbridge_sim::dataset::Dataset;

use super::support::Pos;

async fn big() -> (Pos, Dataset) {
    let dataset = Dataset::generated(600, 0, 1.0, 7);
    let pos = Pos::start(CcvOptions {
        seed: Seed::Dataset(dataset.clone()),
        ..CcvOptions::default()
    })
    .await;
    (pos, dataset)
}

#[tokio::test]
async fn many_skus_are_found_in_one_pass_over_the_catalogue() {
    let (pos, dataset) = big().await;
    let skus: Vec<String> = dataset
        .article_skus()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut session = pos.session().await;
    let found = session.find_products(&skus).await.unwrap();
    assert_eq!(found.len(), skus.len(), "every article, variants included");
    let pages: Vec<String> = pos
        .requests()
        .iter()
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        pages.len(),
        3,
        "600 products: 3 pages, not {} look-ups",
        skus.len()
    );
    assert!(
        pages[2].contains("start=500") && pages[2].contains("size=250"),
        "{pages:?}"
    );

    // A few SKUs cost one look-up each: fewer than the 3 pages.
    let before = pos.count();
    let few = session.find_products(&skus[..2]).await.unwrap();
    assert_eq!(few.len(), 2);
    assert_eq!(
        pos.since(before),
        ["GET /productqueries", "GET /productqueries"]
    );
}

#[tokio::test]
async fn the_catalogue_reads_page_by_page_into_the_canonical_model() {
    let (pos, dataset) = big().await;
    let mut session = pos.session().await;
    // One product in a category (the POS seed has none), to read its link back.
    let source = &dataset.products[4];
    let first_sku = source.variants.first().map_or(&source.sku, |v| &v.sku);
    let product_id = pos.sim.article(first_sku).unwrap().product_id.to_string();
    let category = Category {
        id: "c".into(),
        parent_id: None,
        name: "Catalogue".into(),
        path: vec!["Catalogue".into()],
        position: 0,
        active: true,
        description: None,
    };
    let written = session
        .write_categories(&[CategoryWrite {
            category,
            parent_target_id: None,
            target_id: None,
        }])
        .await
        .unwrap();
    let category_id = written[0].outcome.clone().unwrap().id;
    session
        .link_products(&[CategoryLink {
            product_id,
            category_id,
        }])
        .await
        .unwrap();
    let mut products = Vec::new();
    let mut cursor = None;
    loop {
        let page = session
            .read_products(&ProductQuery {
                cursor,
                changed_since: None,
                skus: vec![],
                properties: vec![],
                limit: 250,
            })
            .await
            .unwrap();
        assert!(page.rejected.is_empty(), "{:?}", page.rejected);
        products.extend(page.products);
        if !page.more {
            break;
        }
        cursor = page.cursor;
    }
    assert_eq!(products.len(), 600);
    let read = products.iter().find(|p| p.sku == source.sku).unwrap();
    assert_eq!(read.name, source.name);
    assert_eq!(
        read.prices[0].amount,
        source
            .gross_price
            .trim_end_matches('0')
            .trim_end_matches('.')
    );
    assert!(read.prices[0].includes_tax);
    assert_eq!(read.variants.len(), source.variants.len());
    let variant = &read.variants[0];
    assert_eq!(variant.sku, source.variants[0].sku);
    assert_eq!(variant.stock, Some(source.variants[0].pos_physical));
    assert_eq!(variant.options.len(), source.variants[0].options.len());
    assert_eq!(read.categories.len(), 1);
}
