//! The CCV SalesPOS REST API simulator (being built).
