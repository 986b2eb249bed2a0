//! Simulators of the Shopware 6 Admin API and the CCV SalesPOS REST API, and of "ledger", a
//! fictional example API for third-party connectors.
//!
//! Both hold their state in memory, serve on any port (0 picks a free one) and can be started
//! in-process from tests or by hand with `tillbridge sim shopware|ccv`. Both keep a journal of the
//! requests they answered, take fault rules, and dump their state for assertions.

pub mod ccv;
pub mod common;
pub mod dataset;
pub mod ledger;
pub mod shopware;
