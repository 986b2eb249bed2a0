//! The connector, compiled to WASM and run by the host, against the CCV simulator. One test binary
//! (linking the host is slow); the modules live in `tests/sim/`.

mod sim {
    mod support;

    mod categories;
    mod customers;
    mod orders;
    mod products;
    mod signing;
    mod stock;
}
