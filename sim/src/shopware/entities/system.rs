//! System entities: currencies, taxes, the sales channel, payment and shipping methods,
//! languages, locales, countries, salutations.

use serde_json::json;

use super::super::ApiVersion::{V6_6, V6_7};
use super::super::definition::{EntityDef, Kind::*, field, fk, many_to_one};
use super::{custom_fields, empty_list, entity, falsy, key, stamps, truthy, with, zero};

pub(super) fn all() -> Vec<EntityDef> {
    let mut currency = entity(
        "currency",
        with(
            key(false),
            [
                field("factor", Float).required(),
                field("symbol", Str).required(),
                field("isoCode", Str).required(),
                field("shortName", Str).required().translated(),
                field("name", Str).required().translated(),
                field("position", Int).default(zero),
                field("isSystemDefault", Bool).protected(),
                field("taxFreeFrom", Float).default(zero),
                custom_fields().translated(),
                field("itemRounding", Rounding).required(),
                field("totalRounding", Rounding).required(),
            ],
        ),
    );
    currency.fields.extend(stamps());

    let mut tax = entity(
        "tax",
        with(
            key(false),
            [
                field("taxRate", Float).required(),
                field("name", Str).required(),
                field("position", Int).default(zero),
                custom_fields(),
            ],
        ),
    );
    tax.fields.extend(stamps());

    let mut channel = entity(
        "sales_channel",
        with(
            key(false),
            [
                field("typeId", Fk).required(),
                fk("languageId", "language").required(),
                field("customerGroupId", Fk).required(),
                fk("currencyId", "currency").required(),
                fk("paymentMethodId", "payment_method").required(),
                fk("shippingMethodId", "shipping_method").required(),
                fk("countryId", "country").required(),
                fk("navigationCategoryId", "category").required(),
                field("navigationCategoryVersionId", Version),
                field("accessKey", Str).required(),
                field("name", Str).required().translated(),
                field("shortName", Str),
                field("active", Bool).default(truthy),
                field("maintenance", Bool).default(falsy),
                field("homeEnabled", Bool).translated().default(truthy),
                custom_fields().translated(),
            ],
        ),
    );
    channel.fields.extend(stamps());
    channel.associations = vec![
        many_to_one("language", "language", "languageId"),
        many_to_one("currency", "currency", "currencyId"),
        many_to_one("paymentMethod", "payment_method", "paymentMethodId"),
        many_to_one("shippingMethod", "shipping_method", "shippingMethodId"),
        many_to_one("country", "country", "countryId"),
        many_to_one("navigationCategory", "category", "navigationCategoryId"),
    ];

    let mut payment = entity(
        "payment_method",
        with(
            key(false),
            [
                field("handlerIdentifier", Str),
                field("name", Str).required().translated(),
                field("distinguishableName", Str).protected().translated(),
                field("description", Text).translated(),
                field("position", Int).default(|| json!(1)),
                field("active", Bool).default(falsy),
                field("afterOrderEnabled", Bool).default(falsy),
                field("technicalName", Str).since(V6_6),
                custom_fields().translated(),
            ],
        ),
    );
    payment.fields.extend(stamps());

    let mut shipping = entity(
        "shipping_method",
        with(
            key(false),
            [
                field("name", Str).required().translated(),
                field("technicalName", Str).since(V6_6),
                field("active", Bool).default(falsy),
                field("position", Int).default(|| json!(1)),
                field("deliveryTimeId", Fk),
                field("availabilityRuleId", Fk),
                field("taxType", Str).default(|| json!("auto")),
                custom_fields().translated(),
            ],
        ),
    );
    shipping.fields.extend(stamps());

    let mut language = entity(
        "language",
        with(
            key(false),
            [
                field("parentId", Fk),
                fk("localeId", "locale").required(),
                fk("translationCodeId", "locale"),
                field("name", Str).required(),
                field("active", Bool).since(V6_7).default(truthy),
                custom_fields(),
            ],
        ),
    );
    language.fields.extend(stamps());
    language.associations = vec![
        many_to_one("locale", "locale", "localeId"),
        many_to_one("translationCode", "locale", "translationCodeId"),
    ];

    let mut locale = entity(
        "locale",
        with(
            key(false),
            [
                field("code", Str).required(),
                field("name", Str).required().translated(),
                field("territory", Str).required().translated(),
            ],
        ),
    );
    locale.fields.extend(stamps());

    let mut country = entity(
        "country",
        with(
            key(false),
            [
                field("name", Str).required().translated(),
                field("iso", Str),
                field("iso3", Str),
                field("position", Int).default(|| json!(1)),
                field("active", Bool).default(truthy),
                field("shippingAvailable", Bool).default(truthy),
                field("addressFormat", Json)
                    .translated()
                    .default(empty_list),
                custom_fields().translated(),
            ],
        ),
    );
    country.fields.extend(stamps());

    let mut salutation = entity(
        "salutation",
        with(
            key(false),
            [
                field("salutationKey", Str).required(),
                field("displayName", Str).required().translated(),
                field("letterName", Str).required().translated(),
                custom_fields().translated(),
            ],
        ),
    );
    salutation.fields.extend(stamps());

    vec![
        currency, tax, channel, payment, shipping, language, locale, country, salutation,
    ]
}
