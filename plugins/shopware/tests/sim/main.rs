//! The Shopware connector against the Shopware simulator (6.4 and 6.6, and 6.7 where it
//! matters), loaded as the host loads it.

mod support;

mod acl;
mod auth;
mod categories;
mod errors;
mod orders;
mod products;
mod stock;
