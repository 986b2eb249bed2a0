//! tillbridge: keeps a Shopware 6 webshop and a CCV SalesPOS point of sale in sync.
//!
//! The host owns orchestration and policy: what runs when ([`config`]), what each plugin is
//! allowed ([`runtime`], [`egress`]), and what is remembered ([`state`]). Plugins own knowledge of
//! one outside system (connectors) or one change to records (transforms), and speak to the host
//! through the WIT package in `plugins/sdk/wit/`.

pub mod builtin;
pub mod cli;
pub mod config;
pub mod conformance;
pub mod dashboard;
pub mod egress;
pub mod flows;
pub mod integration;
pub mod mapper;
pub mod metrics;
pub mod notify;
pub mod privacy;
pub mod runtime;
pub mod scheduler;
pub mod state;
