//! Integration tests of the CCV SalesPOS simulator, through HTTP as a connector would use it.
//! One test binary (linking is slow); the submodules live in `tests/ccv/`.

mod ccv {
    mod client;

    mod catalogue;
    mod collections;
    mod limits;
    mod orders;
    mod properties;
    mod seed;
    mod signing;
    mod stock;
    mod users;
    mod variants;
}
