//! Large collections are read in pages of 250, and a catalogue is read once when that is cheaper
//! than a look-up per SKU.

use tillbridge::runtime::Kv;
use tillbridge::runtime::bindings::exports::tillbridge::plugin::categories_sink::{
    CategoryLink, CategoryWrite,
};
use tillbridge::runtime::bindings::exports::tillbridge::plugin::products_source::ProductQuery;
use tillbridge::runtime::bindings::tillbridge::plugin::types::Category;
use tillbridge_sim::ccv::{CcvOptions, QueryMatch, Seed};
use tillbridge_sim::dataset::Dataset;

use super::support::Pos;
use super::support::records::{product, product_write};

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

    // The same run (session) answers from its pass, however many batches ask.
    let before = pos.count();
    let few = session.find_products(&skus[..2]).await.unwrap();
    assert_eq!(few.len(), 2);
    assert_eq!(pos.since(before), Vec::<String>::new());

    // The next run passes again: two SKUs would take up to 4 look-ups at 30 a minute, the 3
    // pages at 150 are quicker.
    let before = pos.count();
    let few = pos.session().await.find_products(&skus[..2]).await.unwrap();
    assert_eq!(few.len(), 2);
    assert_eq!(pos.since(before).len(), 3, "{:?}", pos.since(before));
}

/// A product written in a run is looked up afresh when the run asks for it again, not in the
/// pass made before it existed: it is found, so it is never created twice.
#[tokio::test]
async fn a_product_created_in_a_run_is_found_by_the_same_run() {
    let (pos, dataset) = big().await;
    let mut skus: Vec<String> = dataset
        .article_skus()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut session = pos.session().await;
    assert_eq!(
        session.find_products(&skus).await.unwrap().len(),
        skus.len()
    );
    let created = session
        .write_products(&[product_write(product("TB-NEW-01", "9.95", 3), None, &[])])
        .await
        .unwrap();
    assert!(created[0].outcome.is_ok(), "{created:?}");
    skus.push("TB-NEW-01".into());
    let found = session.find_products(&skus).await.unwrap();
    assert_eq!(found.len(), skus.len(), "the new product too");
    let new = found.iter().find(|r| r.sku == "TB-NEW-01").unwrap();
    assert_eq!(
        Some(&new.id),
        created[0].outcome.as_ref().map(|w| &w.id).ok()
    );
}

/// How `GET /productqueries` combines several parameters is not documented
/// (`src/Endpoints/ProductqueriesEndpoint.php` of `jacobdekeizer/ccvshop-client`): the connector
/// finds simple products and variants whichever way CCV does it.
#[tokio::test]
async fn look_ups_find_articles_whether_productqueries_combine_with_and_or_or() {
    for way in [QueryMatch::All, QueryMatch::Any] {
        let pos = Pos::start(CcvOptions {
            seed: Seed::Dataset(Dataset::demo()),
            productqueries: way,
            ..CcvOptions::default()
        })
        .await;
        let Kv::Memory(map) = &pos.kv else { panic!() };
        map.lock()
            .unwrap()
            .insert("catalogue/pages".into(), "100".into());
        let skus = ["TB-MUG-01".to_string(), "TB-TEE-M-RED".to_string()];
        let found = pos.session().await.find_products(&skus).await.unwrap();
        let mug = pos.sim.article("TB-MUG-01").unwrap();
        let tee = pos.sim.article("TB-TEE-M-RED").unwrap();
        let expected = [
            (mug.product_id.to_string(), None),
            (
                tee.product_id.to_string(),
                tee.combination_id.map(|c| c.to_string()),
            ),
        ];
        let got: Vec<(String, Option<String>)> =
            found.into_iter().map(|r| (r.id, r.variant_id)).collect();
        assert_eq!(got, expected, "{way:?}");
        assert!(
            pos.requests()
                .iter()
                .filter(|r| r.path.ends_with("/productqueries"))
                .all(|r| r.query.as_deref().is_some_and(|q| !q.contains('&'))),
            "one parameter per look-up"
        );
    }
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
