//! The catalogue: products with variants, their mappings, categories and properties.

use serde_json::json;

use super::super::ApiVersion::{V6_6, V6_7};
use super::super::definition::{
    EntityDef, Kind::*, field, fk, many_to_many, many_to_one, one_to_many,
};
use super::{custom_fields, entity, key, stamps, truthy, with, zero};

pub(super) fn all() -> Vec<EntityDef> {
    let product_ref = || {
        [
            fk("productId", "product").required(),
            field("productVersionId", Version),
        ]
    };
    let mut product = entity(
        "product",
        with(
            key(true),
            [
                fk("parentId", "product"),
                field("parentVersionId", Version),
                fk("manufacturerId", "product_manufacturer").inherited(),
                field("productManufacturerVersionId", Version),
                field("unitId", Fk).inherited(),
                fk("taxId", "tax").required().inherited(),
                field("coverId", Fk).inherited(),
                field("productMediaVersionId", Version),
                field("deliveryTimeId", Fk).inherited(),
                field("featureSetId", Fk).inherited(),
                field("canonicalProductId", Fk).inherited(),
                field("canonicalProductVersionId", Version).since(V6_6),
                field("cmsPageId", Fk).inherited(),
                field("cmsPageVersionId", Version),
                field("price", Price).required().inherited(),
                field("productNumber", Str).required(),
                field("restockTime", Int).inherited(),
                field("autoIncrement", Int).protected(),
                field("active", Bool).inherited(),
                field("available", Bool).protected(),
                field("isCloseout", Bool).inherited(),
                field("availableStock", Int).protected(),
                field("stock", Int).required(),
                field("variation", List).protected(),
                field("displayGroup", Str).protected(),
                field("variantListingConfig", Json).inherited(),
                field("variantRestrictions", Json),
                field("manufacturerNumber", Str).inherited(),
                field("ean", Str).inherited(),
                field("purchaseSteps", Int).inherited(),
                field("maxPurchase", Int).inherited(),
                field("minPurchase", Int).inherited(),
                field("purchaseUnit", Float).inherited(),
                field("referenceUnit", Float).inherited(),
                field("shippingFree", Bool).inherited(),
                field("purchasePrices", Price).inherited(),
                field("markAsTopseller", Bool).inherited(),
                field("weight", Float).inherited(),
                field("width", Float).inherited(),
                field("height", Float).inherited(),
                field("length", Float).inherited(),
                field("releaseDate", DateTime).inherited(),
                field("ratingAverage", Float).protected(),
                field("categoryTree", List).protected(),
                field("propertyIds", List).protected(),
                field("optionIds", List).protected(),
                field("streamIds", List).protected(),
                field("tagIds", List).protected(),
                field("categoryIds", List).protected(),
                field("childCount", Int).protected(),
                field("customFieldSetSelectionActive", Bool),
                field("sales", Int).protected(),
                field("states", List).protected(),
                field("type", Str).since(V6_7).default(|| json!("physical")),
                field("metaDescription", Str).translated().inherited(),
                field("name", Str).required().translated().inherited(),
                field("keywords", Text).translated().inherited(),
                field("description", Text).translated().inherited(),
                field("metaTitle", Str).translated().inherited(),
                field("packUnit", Str).translated().inherited(),
                field("packUnitPlural", Str).translated().inherited(),
                custom_fields().translated().inherited(),
                field("slotConfig", Json).translated().inherited(),
                field("customSearchKeywords", Json).translated().inherited(),
            ],
        ),
    );
    product.fields.extend(stamps());
    product.associations = vec![
        many_to_one("parent", "product", "parentId").no_cascade(),
        one_to_many("children", "product", "parentId"),
        many_to_one("tax", "tax", "taxId").inherited(),
        many_to_one("manufacturer", "product_manufacturer", "manufacturerId").inherited(),
        one_to_many(
            "configuratorSettings",
            "product_configurator_setting",
            "productId",
        ),
        one_to_many("visibilities", "product_visibility", "productId").inherited(),
        many_to_many(
            "options",
            "property_group_option",
            "product_option",
            "productId",
            "optionId",
        ),
        many_to_many(
            "properties",
            "property_group_option",
            "product_property",
            "productId",
            "optionId",
        )
        .inherited(),
        many_to_many(
            "categories",
            "category",
            "product_category",
            "productId",
            "categoryId",
        )
        .inherited(),
    ];

    let mut visibility = entity(
        "product_visibility",
        with(
            key(false),
            product_ref().into_iter().chain([
                fk("salesChannelId", "sales_channel").required(),
                field("visibility", Int).required(),
            ]),
        ),
    );
    visibility.fields.extend(stamps());
    visibility.associations = vec![
        many_to_one("product", "product", "productId"),
        many_to_one("salesChannel", "sales_channel", "salesChannelId"),
    ];

    let mut setting = entity(
        "product_configurator_setting",
        with(
            key(true),
            product_ref().into_iter().chain([
                field("mediaId", Fk),
                fk("optionId", "property_group_option").required(),
                field("price", Json),
                field("position", Int).default(zero),
                custom_fields(),
            ]),
        ),
    );
    setting.fields.extend(stamps());
    setting.associations = vec![
        many_to_one("product", "product", "productId"),
        many_to_one("option", "property_group_option", "optionId"),
    ];

    let mapping = |name: &'static str, remote: &'static str, target: &'static str| {
        let mut def = entity(
            name,
            vec![
                fk("productId", "product").required(),
                field("productVersionId", Version),
                fk(remote, target).required(),
            ],
        );
        if target == "category" {
            def.fields.push(field("categoryVersionId", Version));
        }
        def.mapping_key = Some(["productId", remote]);
        def.associations = vec![
            many_to_one("product", "product", "productId"),
            many_to_one(
                if target == "category" {
                    "category"
                } else {
                    "option"
                },
                target,
                remote,
            ),
        ];
        def
    };

    let mut manufacturer = entity(
        "product_manufacturer",
        with(
            key(true),
            [
                field("mediaId", Fk),
                field("link", Str),
                field("name", Str).required().translated(),
                field("description", Text).translated(),
                custom_fields().translated(),
            ],
        ),
    );
    manufacturer.fields.extend(stamps());

    let mut category = entity(
        "category",
        with(
            key(true),
            [
                fk("parentId", "category"),
                field("parentVersionId", Version),
                fk("afterCategoryId", "category"),
                field("afterCategoryVersionId", Version),
                field("mediaId", Fk),
                field("displayNestedProducts", Bool).default(truthy),
                field("autoIncrement", Int).protected(),
                field("breadcrumb", Json).protected(),
                field("level", Int).protected(),
                field("path", Str).protected(),
                field("childCount", Int).protected(),
                field("type", Str).default(|| json!("page")),
                field("productAssignmentType", Str).default(|| json!("product")),
                field("visible", Bool).default(truthy),
                field("active", Bool).default(truthy),
                field("cmsPageIdSwitched", Bool).protected().since(V6_6),
                field("visibleChildCount", Int).protected().since(V6_6),
                field("name", Str).required().translated(),
                custom_fields().translated(),
                field("slotConfig", Json).translated(),
                field("linkType", Str).translated(),
                field("internalLink", Fk).translated(),
                field("externalLink", Str).translated(),
                field("linkNewTab", Bool).translated(),
                field("description", Text).translated(),
                field("metaTitle", Str).translated(),
                field("metaDescription", Str).translated(),
                field("keywords", Str).translated(),
                field("cmsPageId", Fk),
                field("cmsPageVersionId", Version),
                field("productStreamId", Fk),
                field("customEntityTypeId", Fk),
            ],
        ),
    );
    category.fields.extend(stamps());
    category.associations = vec![
        many_to_one("parent", "category", "parentId").no_cascade(),
        one_to_many("children", "category", "parentId"),
        many_to_many(
            "products",
            "product",
            "product_category",
            "categoryId",
            "productId",
        ),
    ];

    let mut group = entity(
        "property_group",
        with(
            key(false),
            [
                field("name", Str).required().translated(),
                field("description", Text).translated(),
                field("displayType", Str).default(|| json!("text")),
                field("sortingType", Str).default(|| json!("alphanumeric")),
                field("filterable", Bool).default(truthy),
                field("visibleOnProductDetailPage", Bool).default(truthy),
                field("position", Int).translated(),
                custom_fields().translated(),
            ],
        ),
    );
    group.fields.extend(stamps());
    group.associations = vec![one_to_many("options", "property_group_option", "groupId")];

    let mut option = entity(
        "property_group_option",
        with(
            key(false),
            [
                fk("groupId", "property_group").required(),
                field("name", Str).required().translated(),
                field("position", Int).translated(),
                field("colorHexCode", Str),
                field("mediaId", Fk),
                field("combinable", Bool).since(V6_7),
                custom_fields().translated(),
            ],
        ),
    );
    option.fields.extend(stamps());
    option.associations = vec![many_to_one("group", "property_group", "groupId")];

    vec![
        product,
        visibility,
        setting,
        mapping("product_category", "categoryId", "category"),
        mapping("product_property", "optionId", "property_group_option"),
        mapping("product_option", "optionId", "property_group_option"),
        manufacturer,
        category,
        group,
        option,
    ]
}
