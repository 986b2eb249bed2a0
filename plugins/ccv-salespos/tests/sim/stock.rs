//! Physical stock, reservations and available stock per article, as CCV has them.

use tillbridge::runtime::bindings::exports::tillbridge::plugin::stock_source::StockQuery;
use tillbridge::runtime::bindings::tillbridge::plugin::types::StockLevel;

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
    let reservation_reads = pos
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/orders"))
        .count();
    assert_eq!(reservation_reads, 1, "reservations are read once per run");
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
