//! tillbridge: keeps a Shopware 6 webshop and a CCV SalesPOS point of sale in sync.
pub mod runtime;
