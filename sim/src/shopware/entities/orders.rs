//! Orders and what hangs on them: customers, addresses, line items, transactions, deliveries,
//! and the state machines.

use serde_json::json;

use super::super::ApiVersion::{V6_6, V6_7};
use super::super::definition::{
    EntityDef, Kind::*, field, fk, many_to_one, one_to_many, one_to_one,
};
use super::{custom_fields, empty_list, entity, falsy, key, stamps, truthy, with};

pub(super) fn all() -> Vec<EntityDef> {
    let mut order = entity(
        "order",
        with(
            key(true),
            [
                field("autoIncrement", Int).protected(),
                field("orderNumber", Str),
                fk("billingAddressId", "order_address").required(),
                field("billingAddressVersionId", Version),
                fk("currencyId", "currency").required(),
                fk("languageId", "language").required(),
                fk("salesChannelId", "sales_channel").required(),
                field("orderDateTime", DateTime).required(),
                field("orderDate", Date).protected(),
                field("price", CartPrice),
                field("amountTotal", Float).protected(),
                field("amountNet", Float).protected(),
                field("positionPrice", Float).protected(),
                field("taxStatus", Str).protected(),
                field("shippingCosts", CalculatedPrice),
                field("shippingTotal", Float).protected(),
                field("currencyFactor", Float).required(),
                field("deepLinkCode", Str),
                field("affiliateCode", Str),
                field("campaignCode", Str),
                field("customerComment", Text),
                field("internalComment", Text).since(V6_7),
                field("source", Str),
                field("taxCalculationType", Str).since(V6_6),
                fk("stateId", "state_machine_state")
                    .required()
                    .state("order.state"),
                field("ruleIds", List),
                custom_fields(),
                field("createdById", Fk),
                field("updatedById", Fk),
                field("itemRounding", Rounding).required(),
                field("totalRounding", Rounding).required(),
                fk("primaryOrderTransactionId", "order_transaction").since(V6_7),
                field("primaryOrderTransactionVersionId", Version).since(V6_7),
                fk("primaryOrderDeliveryId", "order_delivery").since(V6_7),
                field("primaryOrderDeliveryVersionId", Version).since(V6_7),
            ],
        ),
    );
    order.fields.extend(stamps());
    order.versioned = true;
    order.associations = vec![
        many_to_one("stateMachineState", "state_machine_state", "stateId").autoload(),
        one_to_one("orderCustomer", "order_customer", "orderId"),
        many_to_one("currency", "currency", "currencyId"),
        many_to_one("language", "language", "languageId"),
        many_to_one("salesChannel", "sales_channel", "salesChannelId"),
        one_to_many("addresses", "order_address", "orderId"),
        many_to_one("billingAddress", "order_address", "billingAddressId"),
        one_to_many("deliveries", "order_delivery", "orderId"),
        one_to_many("lineItems", "order_line_item", "orderId"),
        one_to_many("transactions", "order_transaction", "orderId"),
        many_to_one(
            "primaryOrderTransaction",
            "order_transaction",
            "primaryOrderTransactionId",
        )
        .since(V6_7),
        many_to_one(
            "primaryOrderDelivery",
            "order_delivery",
            "primaryOrderDeliveryId",
        )
        .since(V6_7),
    ];

    let order_ref = || {
        [
            fk("orderId", "order").required(),
            field("orderVersionId", Version),
        ]
    };

    let mut customer = entity(
        "order_customer",
        with(
            key(true),
            [
                field("customerId", Fk),
                fk("orderId", "order").required(),
                field("orderVersionId", Version),
                field("email", Str).required(),
                fk("salutationId", "salutation"),
                field("firstName", Str).required(),
                field("lastName", Str).required(),
                field("company", Str),
                field("title", Str),
                field("vatIds", List),
                field("customerNumber", Str),
                custom_fields(),
                field("remoteAddress", Str),
            ],
        ),
    );
    customer.fields.extend(stamps());
    customer.versioned = true;
    customer.associations = vec![
        many_to_one("order", "order", "orderId"),
        many_to_one("salutation", "salutation", "salutationId"),
    ];

    let mut address = entity(
        "order_address",
        with(
            key(true),
            [
                fk("countryId", "country").required(),
                field("countryStateId", Fk),
                fk("orderId", "order").required(),
                field("orderVersionId", Version),
                fk("salutationId", "salutation"),
                field("firstName", Str).required(),
                field("lastName", Str).required(),
                field("street", Str).required(),
                field("zipcode", Str),
                field("city", Str).required(),
                field("company", Str),
                field("department", Str),
                field("title", Str),
                field("vatId", Str),
                field("phoneNumber", Str),
                field("additionalAddressLine1", Str),
                field("additionalAddressLine2", Str),
                field("hash", Str).since(V6_6),
                custom_fields(),
            ],
        ),
    );
    address.fields.extend(stamps());
    address.versioned = true;
    address.associations = vec![
        many_to_one("country", "country", "countryId"),
        many_to_one("order", "order", "orderId"),
        many_to_one("salutation", "salutation", "salutationId"),
    ];

    let mut line_item = entity(
        "order_line_item",
        with(
            key(true),
            order_ref().into_iter().chain([
                fk("productId", "product"),
                field("productVersionId", Version),
                field("promotionId", Fk),
                fk("parentId", "order_line_item"),
                field("parentVersionId", Version),
                field("coverId", Fk),
                field("identifier", Str).required(),
                field("referencedId", Str),
                field("quantity", Int).required(),
                field("label", Str).required(),
                field("payload", Json),
                field("good", Bool).default(truthy),
                field("removable", Bool).default(falsy),
                field("stackable", Bool).default(falsy),
                field("position", Int).default(|| json!(1)),
                field("states", List).default(empty_list),
                field("price", CalculatedPrice).required(),
                field("priceDefinition", Json),
                field("unitPrice", Float).protected(),
                field("totalPrice", Float).protected(),
                field("description", Text),
                field("type", Str),
                custom_fields(),
            ]),
        ),
    );
    line_item.fields.extend(stamps());
    line_item.versioned = true;
    line_item.associations = vec![
        many_to_one("order", "order", "orderId"),
        many_to_one("product", "product", "productId"),
        many_to_one("parent", "order_line_item", "parentId"),
        one_to_many("children", "order_line_item", "parentId"),
    ];

    let mut transaction = entity(
        "order_transaction",
        with(
            key(true),
            order_ref().into_iter().chain([
                fk("paymentMethodId", "payment_method").required(),
                field("amount", CalculatedPrice).required(),
                field("validationData", Json).since(V6_6),
                fk("stateId", "state_machine_state")
                    .required()
                    .state("order_transaction.state"),
                custom_fields(),
            ]),
        ),
    );
    transaction.fields.extend(stamps());
    transaction.versioned = true;
    transaction.associations = vec![
        many_to_one("stateMachineState", "state_machine_state", "stateId").autoload(),
        many_to_one("order", "order", "orderId"),
        many_to_one("paymentMethod", "payment_method", "paymentMethodId"),
    ];

    let mut delivery = entity(
        "order_delivery",
        with(
            key(true),
            order_ref().into_iter().chain([
                fk("shippingOrderAddressId", "order_address").required(),
                field("shippingOrderAddressVersionId", Version),
                fk("shippingMethodId", "shipping_method").required(),
                fk("stateId", "state_machine_state")
                    .required()
                    .state("order_delivery.state"),
                field("trackingCodes", List).default(empty_list),
                field("shippingDateEarliest", DateTime).required(),
                field("shippingDateLatest", DateTime).required(),
                field("shippingCosts", CalculatedPrice),
                custom_fields(),
            ]),
        ),
    );
    delivery.fields.extend(stamps());
    delivery.versioned = true;
    delivery.associations = vec![
        many_to_one("stateMachineState", "state_machine_state", "stateId").autoload(),
        many_to_one("order", "order", "orderId"),
        many_to_one(
            "shippingOrderAddress",
            "order_address",
            "shippingOrderAddressId",
        ),
        many_to_one("shippingMethod", "shipping_method", "shippingMethodId"),
    ];

    let mut machine = entity(
        "state_machine",
        with(
            key(false),
            [
                field("technicalName", Str).required(),
                field("name", Str).required().translated(),
                fk("initialStateId", "state_machine_state"),
                custom_fields().translated(),
            ],
        ),
    );
    machine.fields.extend(stamps());
    machine.associations = vec![one_to_many(
        "states",
        "state_machine_state",
        "stateMachineId",
    )];

    let mut state = entity(
        "state_machine_state",
        with(
            key(false),
            [
                field("technicalName", Str).required(),
                field("name", Str).required().translated(),
                fk("stateMachineId", "state_machine").required(),
                custom_fields().translated(),
            ],
        ),
    );
    state.fields.extend(stamps());
    state.associations = vec![many_to_one(
        "stateMachine",
        "state_machine",
        "stateMachineId",
    )];

    vec![
        order,
        customer,
        address,
        line_item,
        transaction,
        delivery,
        machine,
        state,
    ]
}
