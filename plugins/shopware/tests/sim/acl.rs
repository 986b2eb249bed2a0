//! The privileges the README lists are enough for every capability, and each is needed.

use crate::support::*;

/// The integration role of the README, privilege by privilege.
pub const PRIVILEGES: &[&str] = &[
    // reading orders
    "order:read",
    "order_customer:read",
    "order_address:read",
    "order_line_item:read",
    "order_transaction:read",
    "order_delivery:read",
    "state_machine_state:read",
    "payment_method:read",
    "shipping_method:read",
    "salutation:read",
    "country:read",
    "currency:read",
    "sales_channel:read",
    // reading products and categories
    "product:read",
    "tax:read",
    "property_group:read",
    "property_group_option:read",
    "category:read",
    // the set-up wizard's lists
    "state_machine:read",
    // writing products and stock
    "product:create",
    "product:update",
    "product_configurator_setting:read",
    "product_configurator_setting:create",
    "product_visibility:create",
    "product_category:create",
    "product_category:delete",
    "product_property:create",
    "product_property:delete",
    "product_option:create",
    "product_option:delete",
    "property_group:create",
    "property_group:update",
    "property_group_option:create",
];

/// Every capability once, as a merchant's flows would use them; the first failure.
async fn every_capability(shop: &Shop) -> Result<(), String> {
    let mut settings = shop.settings.clone();
    settings["sales_channels"] = serde_json::json!(["Tillbridge Storefront"]);
    let mut session = shop.session_with(settings).await;
    let failed = |e: &dyn std::fmt::Debug| format!("{e:?}");
    session.check().await.map_err(|e| failed(&e))?;
    for list in [
        ChoiceList::PaymentMethods,
        ChoiceList::PaymentStates,
        ChoiceList::OrderStates,
    ] {
        session.choices(list).await.map_err(|e| failed(&e))?;
    }
    read_all(&mut session, query(None, &["paid"], 50))
        .await
        .map_err(|e| failed(&e))?;
    session.read_categories().await.map_err(|e| failed(&e))?;
    let all = ProductQuery {
        cursor: None,
        changed_since: None,
        skus: vec![],
        properties: vec![],
        limit: 50,
    };
    session.read_products(&all).await.map_err(|e| failed(&e))?;
    let mut product = crate::products::polo();
    product.properties.push(option("Material", "Stoneware"));
    let write = ProductWrite {
        product,
        target_id: None,
        update_fields: ProductFields::empty(),
        categories: vec![],
    };
    let ok = |results: Vec<RecordResult>| match results.iter().find(|r| r.outcome.is_err()) {
        Some(bad) => Err(failed(bad)),
        None => Ok(()),
    };
    ok(session
        .write_products(std::slice::from_ref(&write))
        .await
        .map_err(|e| failed(&e))?)?;
    // An update that links a category and unlinks a property, an option and a category.
    let mut update = write.clone();
    update.product.properties.retain(|p| p.value != "Stoneware");
    update.product.variants[0].options[1] = option("Colour", "Blue");
    update.update_fields =
        ProductFields::PROPERTIES | ProductFields::VARIANTS | ProductFields::CATEGORIES;
    update.categories = vec![keys::category(&["Home".into(), "Books".into()])];
    ok(session
        .write_products(std::slice::from_ref(&update))
        .await
        .map_err(|e| failed(&e))?)?;
    update.categories = vec![keys::category(&["Home".into(), "Kitchen".into()])];
    ok(session
        .write_products(&[update])
        .await
        .map_err(|e| failed(&e))?)?;
    let stock = [
        StockUpdate {
            sku: "TB-MUG-01".into(),
            quantity: 5,
            managed: true,
        },
        StockUpdate {
            sku: "TB-BOOK-01".into(),
            quantity: 5,
            managed: false,
        },
    ];
    ok(session.write_stock(&stock).await.map_err(|e| failed(&e))?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_privileges_are_enough_for_every_capability() {
    for version in VERSIONS {
        let shop = Shop::demo(version).await;
        shop.sim.restrict_privileges(Some(PRIVILEGES));
        every_capability(&shop)
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_readme_privilege_is_needed() {
    let mut unneeded = Vec::new();
    for left_out in PRIVILEGES {
        let shop = Shop::demo(ApiVersion::V6_6).await;
        let fewer: Vec<&str> = PRIVILEGES
            .iter()
            .copied()
            .filter(|p| p != left_out)
            .collect();
        shop.sim.restrict_privileges(Some(&fewer));
        if every_capability(&shop).await.is_ok() {
            unneeded.push(*left_out);
        }
    }
    assert!(unneeded.is_empty(), "not needed: {unneeded:?}");
}
