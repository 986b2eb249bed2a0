//! Physical stock, reservations and available stock per article, as CCV has them.

use tillbridge::runtime::bindings::exports::tillbridge::plugin::stock_source::StockQuery;
use tillbridge::runtime::bindings::tillbridge::plugin::types::StockLevel;

use tillbridge_sim::ccv::{CcvOptions, RateLimits, Seed};
use tillbridge_sim::dataset::Dataset;

use super::support::Pos;

fn query(cursor: Option<String>, skus: &[&str], limit: u32) -> StockQuery {
    StockQuery {
        cursor,
        skus: skus.iter().map(|s| s.to_string()).collect(),
        limit,
    }
}

/// Every level, page by page.
async fn all_levels(pos: &Pos, limit: u32) -> Vec<StockLevel> {
    let mut session = pos.session().await;
    let mut levels = Vec::new();
    let mut cursor = None;
    loop {
        let page = session
            .read_stock(&query(cursor, &[], limit))
            .await
            .unwrap();
        assert!(
            page.levels.len() <= limit as usize || page.levels.len() > 1,
            "whole products per page"
        );
        levels.extend(page.levels);
        if !page.more {
            return levels;
        }
        cursor = page.cursor;
    }
}

#[tokio::test]
async fn every_article_has_its_physical_reserved_and_available_stock() {
    let pos = Pos::demo().await;
    let levels = all_levels(&pos, 4).await;
    assert!(levels.len() > 8, "{levels:#?}");
    for level in &levels {
        let truth = pos.sim.stock(&level.sku).unwrap();
        assert_eq!(
            level.physical.to_string(),
            truth.physical.to_string(),
            "{}",
            level.sku
        );
        assert_eq!(
            level.reserved.to_string(),
            truth.reserved.to_string(),
            "{}",
            level.sku
        );
        assert_eq!(
            level.available, level.physical,
            "CCV's stock is what it calls available"
        );
        assert!(level.managed);
    }
    let candle = levels.iter().find(|l| l.sku == "TB-CANDLE-01").unwrap();
    assert_eq!(
        (candle.physical, candle.reserved),
        (3, 5),
        "more reserved than on the shelf"
    );
    assert!(
        levels.iter().any(|l| l.sku == "TB-TEE-L-BLUE"),
        "variants by their own SKU"
    );
    assert!(
        !levels.iter().any(|l| l.sku == "TB-TEE"),
        "a configurable parent is no article"
    );
    let reads = |what: &str| {
        pos.requests()
            .iter()
            .filter(|r| r.path.ends_with(what))
            .count()
    };
    assert_eq!(reads("/orders"), 1, "reservations are listed once per run");
    let reserved_orders = pos.dump()["orders"]
        .as_object()
        .unwrap()
        .values()
        .filter(|o| o["status"] == 14)
        .count();
    assert!(reserved_orders >= 2);
    assert_eq!(
        reads("/orderrows"),
        reserved_orders,
        "each reserved order's rows, the documented way"
    );

    // The next run lists them again but reads no rows it already has.
    let again = all_levels(&pos, 100).await;
    assert_eq!(again, levels, "the same numbers from remembered rows");
    assert_eq!(reads("/orders"), 2);
    assert_eq!(reads("/orderrows"), reserved_orders, "rows are remembered");
}

#[tokio::test]
async fn many_reservations_are_read_over_several_calls_and_their_changes_noticed() {
    let pos = Pos::start(CcvOptions {
        seed: Seed::Dataset(Dataset::demo()),
        rate_limits: RateLimits {
            reads_per_window: 1_000,
            total_per_window: 2_000,
            ..RateLimits::default()
        },
        ..CcvOptions::default()
    })
    .await;
    let first = pos.sim.reserve("TB-BOOK-01", 1).unwrap();
    for _ in 1..160 {
        pos.sim.reserve("TB-BOOK-01", 1).unwrap();
    }
    let count = |what: &str| {
        pos.requests()
            .iter()
            .filter(|r| r.path.ends_with(what))
            .count()
    };
    let rows_read = || count("/orderrows");
    let mut session = pos.session().await;
    let mut page = session.read_stock(&query(None, &[], 100)).await.unwrap();
    assert!(
        page.levels.is_empty() && page.more,
        "no levels before every reservation is known"
    );
    assert_eq!(
        count("/orders") + rows_read(),
        150,
        "150 requests of the reservations in the first call: the list, then 149 orders' rows"
    );
    assert_eq!(count("/products"), 1, "the catalogue's one page");
    let paths: Vec<String> = pos.requests().into_iter().map(|r| r.path).collect();
    let products_at = paths.iter().position(|p| p.ends_with("/products"));
    let last_rows_at = paths.iter().rposition(|p| p.ends_with("/orderrows"));
    assert!(
        products_at < last_rows_at,
        "products are read side by side with the reservations, not after them: {paths:?}"
    );

    // The same run goes on where it was: the rest of the rows, then levels from the products
    // already read.
    let mut levels = page.levels;
    while page.more {
        page = session
            .read_stock(&query(page.cursor, &[], 100))
            .await
            .unwrap();
        levels.extend(page.levels);
    }
    let reserved_orders = pos.sim.dump()["orders"]
        .as_object()
        .map(|orders| orders.values().filter(|o| o["status"] == 14).count())
        .unwrap();
    assert!(reserved_orders >= 160);
    assert_eq!(
        rows_read(),
        reserved_orders,
        "each reserved order's rows once"
    );
    assert_eq!(
        count("/products"),
        1,
        "products read ahead are not read again"
    );
    let book = levels.iter().find(|l| l.sku == "TB-BOOK-01").unwrap();
    assert_eq!(book.reserved, 160, "every reservation counted");
    assert_eq!(
        levels,
        all_levels(&pos, 100).await,
        "the same as a run in one go"
    );

    // A reservation cancelled is forgotten, a new one read; the rest are not read again.
    pos.sim.cancel(first).unwrap();
    pos.sim.reserve("TB-MUG-01", 2).unwrap();
    let before = rows_read();
    let levels = all_levels(&pos, 100).await;
    assert_eq!(rows_read(), before + 1, "only the new reservation's rows");
    let book = levels.iter().find(|l| l.sku == "TB-BOOK-01").unwrap();
    assert_eq!(book.reserved, 159, "a cancelled reservation is forgotten");
}

#[tokio::test]
async fn when_reservations_have_already_left_stock_the_shelf_counts_them() {
    let mut pos = Pos::demo().await;
    let kept = read(&pos, &["TB-CANDLE-01"]).await;
    pos.settings["reserved_in_stock"] = false.into();
    let taken = read(&pos, &["TB-CANDLE-01"]).await;
    assert_eq!((kept[0].physical, kept[0].reserved), (3, 5));
    assert_eq!(
        (taken[0].physical, taken[0].available, taken[0].reserved),
        (8, 8, 5),
        "CCV's 3 are what is left after the 5 reserved"
    );
}

/// The levels of these SKUs, in a new run.
async fn read(pos: &Pos, skus: &[&str]) -> Vec<StockLevel> {
    let mut session = pos.session().await;
    session
        .read_stock(&query(None, skus, 10))
        .await
        .unwrap()
        .levels
}

#[tokio::test]
async fn reservations_follow_the_till() {
    let pos = Pos::demo().await;
    let before = read(&pos, &["TB-MUG-01", "TB-TEE-M-RED", "NOPE"]).await;
    assert_eq!(before.len(), 2, "unknown SKUs are left out");
    let (mug, tee) = (&before[0], &before[1]);
    assert_eq!(
        (mug.sku.as_str(), tee.sku.as_str()),
        ("TB-MUG-01", "TB-TEE-M-RED")
    );

    let reservation = pos.sim.reserve("TB-MUG-01", 3).unwrap();
    pos.sim.reserve("TB-TEE-M-RED", 1).unwrap();
    let reserved = read(&pos, &["TB-MUG-01", "TB-TEE-M-RED", "NOPE"]).await;
    assert_eq!(reserved[0].reserved, mug.reserved + 3);
    assert_eq!(
        reserved[0].physical, mug.physical,
        "a reservation stays on the shelf"
    );
    assert_eq!(reserved[1].reserved, tee.reserved + 1);

    pos.sim.collect(reservation).unwrap();
    let collected = read(&pos, &["TB-MUG-01", "TB-TEE-M-RED", "NOPE"]).await;
    assert_eq!(collected[0].reserved, mug.reserved);
    assert_eq!(
        collected[0].physical,
        mug.physical - 3,
        "collected: off the shelf"
    );
}
