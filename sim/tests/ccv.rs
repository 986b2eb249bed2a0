//! Integration tests of the CCV SalesPOS simulator, through HTTP as a connector would use it.
//! One test binary (linking is slow); the submodules live in `tests/ccv/`.

mod ccv {
    mod client;

    mod addresses;
    mod catalogue;
    mod collections;
    mod hostile;
    mod limits;
    mod ordernotes;
    mod orders;
    mod properties;
    mod seed;
    mod settings;
    mod signing;
    mod stock;
    mod users;
    mod variants;
}
