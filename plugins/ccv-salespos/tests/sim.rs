//! The connector, compiled to WASM and run by the host, against the CCV simulator. One test binary
//! (linking the host is slow); the modules live in `tests/sim/`.

mod sim {
    mod support;

    mod addresses;
    mod categories;
    mod customers;
    mod errors;
    mod limits;
    mod orders;
    mod packages;
    mod paging;
    mod products;
    mod properties;
    mod signing;
    mod stock;
    mod vat;
}
