//! Integration tests of the Shopware 6 Admin API simulator, driven over HTTP as a connector
//! would. One test binary (linking is slow); one module per concern.

#[path = "shopware/support.rs"]
mod support;

#[path = "shopware/auth.rs"]
mod auth;
#[path = "shopware/catalog.rs"]
mod catalog;
#[path = "shopware/criteria.rs"]
mod criteria;
#[path = "shopware/formats.rs"]
mod formats;
#[path = "shopware/hostile.rs"]
mod hostile;
#[path = "shopware/orders.rs"]
mod orders;
#[path = "shopware/pitfalls.rs"]
mod pitfalls;
#[path = "shopware/schema.rs"]
mod schema;
#[path = "shopware/seeding.rs"]
mod seeding;
#[path = "shopware/stock.rs"]
mod stock;
#[path = "shopware/sync.rs"]
mod sync;
#[path = "shopware/writes.rs"]
mod writes;
