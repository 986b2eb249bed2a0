//! The Shopware 6 Admin API simulator (being built).
