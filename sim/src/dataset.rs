//! The data both simulators are seeded from, so that their states fit together: the same articles,
//! customers and payment methods, seen from the webshop and from the point of sale.
//!
//! [`Dataset::demo`] is a small, realistic shop; [`Dataset::generated`] makes large ones
//! deterministically from a number. Each simulator turns a dataset into its own state.

use rand::{RngExt, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

/// A variant of a configurable product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// The variant's SKU.
    pub sku: String,
    /// EAN-13.
    pub ean: String,
    /// (group, value) pairs, e.g. ("Size", "M").
    pub options: Vec<(String, String)>,
    /// Stock in the webshop.
    pub shop_stock: i64,
    /// Physical stock in the POS.
    pub pos_physical: i64,
    /// Reserved (sold, not yet collected) in the POS.
    pub pos_reserved: i64,
}

/// A product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// The SKU (of the parent, for a configurable product).
    pub sku: String,
    /// The name.
    pub name: String,
    /// EAN-13 (empty for a configurable parent).
    pub ean: String,
    /// Long description (HTML).
    pub description: String,
    /// Short description.
    pub short_description: String,
    /// Price including tax, in EUR, as decimal text.
    pub gross_price: String,
    /// Tax rate in percent, as decimal text.
    pub tax_rate: String,
    /// Stock in the webshop (simple products).
    pub shop_stock: i64,
    /// Physical stock in the POS (simple products).
    pub pos_physical: i64,
    /// Reserved in the POS (simple products).
    pub pos_reserved: i64,
    /// The category it is in, by its path of names from the root.
    pub category: Vec<String>,
    /// Properties: (group, value).
    pub properties: Vec<(String, String)>,
    /// Variants; empty for a simple product.
    pub variants: Vec<Variant>,
    /// Whether the webshop has it.
    pub in_shop: bool,
    /// Whether the POS has it.
    pub in_pos: bool,
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// E-mail address: the key both systems are matched by.
    pub email: String,
    /// First name (of the contact person, for a business).
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// (company name, VAT number, chamber of commerce number) for a business customer.
    pub company: Option<(String, String, String)>,
    /// Street without number.
    pub street: String,
    /// House number.
    pub house_number: String,
    /// House number suffix ("" for none).
    pub suffix: String,
    /// Postal code.
    pub postcode: String,
    /// City.
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Whether the POS already knows this customer; it then has an older address there
    /// ("Oude Gracht 1").
    pub in_pos: bool,
}

/// A payment method: the webshop's name and technical name, and the POS's id and labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentMethod {
    /// Shopware `name`.
    pub shop_name: String,
    /// Shopware `technicalName`.
    pub technical_name: String,
    /// CCV `paymethods` id.
    pub pos_id: u32,
    /// CCV `method`.
    pub pos_method: String,
    /// CCV `label`.
    pub pos_label: String,
}

/// A webshop order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// The order number.
    pub number: String,
    /// The customer's e-mail address (one of the dataset's customers).
    pub customer: String,
    /// (SKU, quantity) per line; prices come from the products.
    pub lines: Vec<(String, u32)>,
    /// The order state: open, in_progress, completed, cancelled.
    pub order_state: String,
    /// The payment states of its transactions, oldest first; the last one is the one that counts.
    pub transactions: Vec<String>,
    /// The payment method's webshop name (one of the dataset's payment methods).
    pub payment_method: String,
    /// Placed this many minutes before the seed time.
    pub minutes_ago: i64,
    /// Why it is in the dataset.
    pub note: String,
}

/// Everything a pair of simulators is seeded from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Categories by their path of names from the root, parents before children.
    pub categories: Vec<Vec<String>>,
    /// The catalogue.
    pub products: Vec<Product>,
    /// The customers.
    pub customers: Vec<Customer>,
    /// The payment methods.
    pub payment_methods: Vec<PaymentMethod>,
    /// The webshop's orders, oldest first.
    pub orders: Vec<Order>,
    /// The webshop's sales channel.
    pub sales_channel: String,
    /// Whether the POS keeps its prices including VAT (CCV's shop setting `prices_include_vat`);
    /// when not, the POS's product prices are the net of `gross_price`.
    #[serde(default = "yes")]
    pub pos_prices_include_vat: bool,
}

fn yes() -> bool {
    true
}

/// The Shopware integration access key id of the demo seed (fixed, written in the README).
pub const SHOPWARE_CLIENT_ID: &str = "SWIATILLBRIDGEDEMO0000000001";
/// The Shopware integration secret access key of the demo seed.
pub const SHOPWARE_CLIENT_SECRET: &str = "tillbridge-demo-shopware-secret";
/// The CCV API public key of the demo seed.
pub const CCV_PUBLIC_KEY: &str = "tillbridge-demo-public";
/// The CCV API secret of the demo seed.
pub const CCV_SECRET: &str = "tillbridge-demo-secret";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A simple product that both systems have, with stock in both.
#[allow(clippy::too_many_arguments)]
fn simple(
    sku: &str,
    name: &str,
    ean: &str,
    price: &str,
    tax: &str,
    stock: (i64, i64, i64),
    category: &[&str],
    properties: &[(&str, &str)],
) -> Product {
    Product {
        sku: sku.into(),
        name: name.into(),
        ean: ean.into(),
        description: format!("<p>{name}: the long description, with <strong>markup</strong>.</p>"),
        short_description: name.into(),
        gross_price: price.into(),
        tax_rate: tax.into(),
        shop_stock: stock.0,
        pos_physical: stock.1,
        pos_reserved: stock.2,
        category: strings(category),
        properties: pairs(properties),
        variants: Vec::new(),
        in_shop: true,
        in_pos: true,
    }
}

/// Size × colour variants of `parent`, with their stock.
fn sizes_and_colours(
    parent: &str,
    sizes: &[&str],
    colours: &[&str],
    first_ean: u64,
) -> Vec<Variant> {
    let mut variants = Vec::new();
    for colour in colours {
        for size in sizes {
            let n = variants.len() as i64;
            variants.push(Variant {
                sku: format!("{parent}-{size}-{}", colour.to_uppercase()),
                ean: ean13(first_ean + n as u64),
                options: pairs(&[("Size", size), ("Colour", colour)]),
                shop_stock: 3 + n,
                pos_physical: 5 + n,
                pos_reserved: 1,
            });
        }
    }
    variants
}

/// A valid EAN-13 for a 12-digit number (the check digit computed).
pub fn ean13(body: u64) -> String {
    let digits = format!("{:012}", body % 1_000_000_000_000);
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

fn customer(
    email: &str,
    name: (&str, &str),
    company: Option<(&str, &str, &str)>,
    address: (&str, &str, &str, &str, &str, &str),
    in_pos: bool,
) -> Customer {
    Customer {
        email: email.into(),
        first_name: name.0.into(),
        last_name: name.1.into(),
        company: company.map(|(n, v, c)| (n.into(), v.into(), c.into())),
        street: address.0.into(),
        house_number: address.1.into(),
        suffix: address.2.into(),
        postcode: address.3.into(),
        city: address.4.into(),
        country: address.5.into(),
        in_pos,
    }
}

#[allow(clippy::too_many_arguments)]
fn order(
    number: &str,
    customer: &str,
    lines: &[(&str, u32)],
    state: &str,
    transactions: &[&str],
    payment: &str,
    hours_ago: i64,
    note: &str,
) -> Order {
    Order {
        number: number.into(),
        customer: customer.into(),
        lines: lines
            .iter()
            .map(|(sku, qty)| (sku.to_string(), *qty))
            .collect(),
        order_state: state.into(),
        transactions: strings(transactions),
        payment_method: payment.into(),
        minutes_ago: hours_ago * 60,
        note: note.into(),
    }
}

fn payment_methods() -> Vec<PaymentMethod> {
    [
        ("PayPal", "payment_paypal", 2, "paypal", "PayPal"),
        ("Invoice", "payment_invoice", 3, "invoice", "Op rekening"),
        (
            "Credit card",
            "payment_creditcard",
            4,
            "creditcard",
            "Creditcard",
        ),
        ("iDEAL", "payment_ideal", 1, "ideal", "iDEAL"),
    ]
    .into_iter()
    .map(|(shop, technical, id, method, label)| PaymentMethod {
        shop_name: shop.into(),
        technical_name: technical.into(),
        pos_id: id,
        pos_method: method.into(),
        pos_label: label.into(),
    })
    .collect()
}

impl Dataset {
    /// The demo shop. What it shows on purpose:
    /// - paid, open and cancelled orders, and orders with several transactions (a cancelled one,
    ///   then a paid one; and a paid one that was later cancelled);
    /// - a business and a private customer, a Belgian customer, and a customer who already exists
    ///   in the POS with an older address;
    /// - an order with an article the POS lacks (`TB-POSTER-01`);
    /// - variant products with size and colour, one of them (`TB-HOODIE`) not yet in the POS;
    /// - a three-level category tree and product properties;
    /// - stock where available minus reservations goes below zero (`TB-CANDLE-01`).
    pub fn demo() -> Self {
        let mut tee = simple(
            "TB-TEE",
            "Organic cotton T-shirt",
            "",
            "24.95",
            "21",
            (0, 0, 0),
            &["Home", "Clothing", "T-shirts"],
            &[
                ("Material", "Organic cotton"),
                ("Delivery time", "1-2 days"),
            ],
        );
        tee.variants =
            sizes_and_colours("TB-TEE", &["S", "M", "L"], &["Red", "Blue"], 871234500002);
        let mut hoodie = simple(
            "TB-HOODIE",
            "Zip hoodie",
            "",
            "59.95",
            "21",
            (0, 0, 0),
            &["Home", "Clothing", "Hoodies"],
            &[("Material", "Cotton"), ("Delivery time", "3-5 days")],
        );
        hoodie.variants =
            sizes_and_colours("TB-HOODIE", &["M", "L"], &["Black", "Grey"], 871234500010);
        hoodie.in_pos = false;
        let mut poster = simple(
            "TB-POSTER-01",
            "Harbour poster 50×70",
            &ean13(871234500020),
            "19.50",
            "21",
            (15, 0, 0),
            &["Home", "Decoration", "Posters"],
            &[("Country of origin", "Netherlands")],
        );
        poster.in_pos = false;
        let products = vec![
            simple(
                "TB-MUG-01",
                "Tillbridge mug",
                &ean13(871234500001),
                "12.95",
                "21",
                (40, 42, 2),
                &["Home", "Kitchen", "Mugs"],
                &[
                    ("Material", "Stoneware"),
                    ("Country of origin", "Netherlands"),
                ],
            ),
            tee,
            hoodie,
            simple(
                "TB-BOOK-01",
                "Field guide to Dutch birds",
                &ean13(978901234567),
                "29.95",
                "9",
                (12, 12, 0),
                &["Home", "Books"],
                &[("Language", "Dutch")],
            ),
            simple(
                "TB-CANDLE-01",
                "Soy candle, fig",
                &ean13(871234500012),
                "9.95",
                "21",
                (6, 3, 5),
                &["Home", "Kitchen", "Candles"],
                &[("Country of origin", "Belgium")],
            ),
            poster,
        ];
        let customers = vec![
            customer(
                "ada.jansen@example.nl",
                ("Ada", "Jansen"),
                None,
                ("Dorpsstraat", "12", "a", "3512 AB", "Utrecht", "NL"),
                false,
            ),
            customer(
                "inkoop@bakkerij-devries.nl",
                ("Pieter", "de Vries"),
                Some(("Bakkerij De Vries B.V.", "NL812345678B01", "12345678")),
                ("Marktplein", "3", "", "9711 AA", "Groningen", "NL"),
                false,
            ),
            customer(
                "sanne.bos@example.nl",
                ("Sanne", "Bos"),
                None,
                ("Kerkweg", "7", "", "2011 XX", "Haarlem", "NL"),
                true,
            ),
            customer(
                "lucas.peeters@example.be",
                ("Lucas", "Peeters"),
                None,
                ("Meir", "45", "bus 2", "2000", "Antwerpen", "BE"),
                false,
            ),
        ];
        let orders = vec![
            order(
                "10001",
                "ada.jansen@example.nl",
                &[("TB-MUG-01", 2), ("TB-TEE-M-RED", 1)],
                "open",
                &["paid"],
                "PayPal",
                72,
                "paid, private customer",
            ),
            order(
                "10002",
                "inkoop@bakkerij-devries.nl",
                &[("TB-MUG-01", 10), ("TB-BOOK-01", 2)],
                "in_progress",
                &["paid"],
                "Invoice",
                50,
                "paid, business customer with contact person",
            ),
            order(
                "10003",
                "sanne.bos@example.nl",
                &[("TB-CANDLE-01", 1), ("TB-TEE-L-BLUE", 1)],
                "open",
                &["paid"],
                "Credit card",
                30,
                "paid, customer already in the POS",
            ),
            order(
                "10004",
                "lucas.peeters@example.be",
                &[("TB-BOOK-01", 1)],
                "open",
                &["cancelled", "paid"],
                "iDEAL",
                26,
                "a cancelled transaction, then a paid one: paid",
            ),
            order(
                "10005",
                "ada.jansen@example.nl",
                &[("TB-MUG-01", 1)],
                "cancelled",
                &["cancelled"],
                "PayPal",
                20,
                "cancelled",
            ),
            order(
                "10006",
                "sanne.bos@example.nl",
                &[("TB-POSTER-01", 1), ("TB-MUG-01", 1)],
                "open",
                &["paid"],
                "iDEAL",
                12,
                "paid, with an article the POS lacks",
            ),
            order(
                "10007",
                "lucas.peeters@example.be",
                &[("TB-TEE-S-RED", 2)],
                "open",
                &["paid", "cancelled"],
                "PayPal",
                8,
                "paid, then the payment was cancelled: not paid",
            ),
            order(
                "10008",
                "ada.jansen@example.nl",
                &[("TB-BOOK-01", 1)],
                "open",
                &["open"],
                "Invoice",
                2,
                "not paid yet",
            ),
        ];
        let categories = [
            &["Home"][..],
            &["Home", "Clothing"],
            &["Home", "Clothing", "T-shirts"],
            &["Home", "Clothing", "Hoodies"],
            &["Home", "Kitchen"],
            &["Home", "Kitchen", "Mugs"],
            &["Home", "Kitchen", "Candles"],
            &["Home", "Decoration"],
            &["Home", "Decoration", "Posters"],
            &["Home", "Books"],
        ]
        .iter()
        .map(|path| strings(path))
        .collect();
        Dataset {
            categories,
            products,
            customers,
            payment_methods: payment_methods(),
            orders,
            sales_channel: "Tillbridge Storefront".into(),
            pos_prices_include_vat: true,
        }
    }

    /// A large shop made deterministically from `seed`: `products` products (one in five
    /// configurable, with 2 to 6 variants), 200 customers, `orders` orders (mostly paid), a
    /// three-level tree of 5 × 4 × 3 categories. `in_pos_share` of the products (0.0–1.0) also
    /// exist in the POS.
    pub fn generated(products: usize, orders: usize, in_pos_share: f64, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut categories = vec![vec!["Home".to_string()]];
        let mut leaves = Vec::new();
        for a in 1..=5 {
            let top = vec!["Home".to_string(), format!("Department {a}")];
            categories.push(top.clone());
            for b in 1..=4 {
                let mid = [top.clone(), vec![format!("Range {a}.{b}")]].concat();
                categories.push(mid.clone());
                for c in 1..=3 {
                    let leaf = [mid.clone(), vec![format!("Line {a}.{b}.{c}")]].concat();
                    categories.push(leaf.clone());
                    leaves.push(leaf);
                }
            }
        }
        let taxes = ["21", "21", "21", "9"];
        let catalogue: Vec<Product> = (0..products)
            .map(|i| {
                let sku = format!("GEN-{i:06}");
                let price = format!(
                    "{}.{:02}",
                    rng.random_range(1..200),
                    rng.random_range(0..100)
                );
                let physical = rng.random_range(0..60);
                let mut product = simple(
                    &sku,
                    &format!("Generated product {i}"),
                    &ean13(200_000_000_000 + i as u64 * 10),
                    &price,
                    taxes[i % taxes.len()],
                    (rng.random_range(0..50), physical, rng.random_range(0..5)),
                    &[],
                    &[("Batch", &format!("B{}", i % 7))],
                );
                product.category = leaves[i % leaves.len()].clone();
                if i % 5 == 4 {
                    let sizes = ["S", "M", "L"];
                    let colours = ["Red", "Blue"];
                    let n_sizes = rng.random_range(1..=3);
                    let n_colours = rng.random_range(1..=2);
                    product.ean.clear();
                    product.variants = sizes_and_colours(
                        &sku,
                        &sizes[..n_sizes],
                        &colours[..n_colours],
                        300_000_000_000 + i as u64 * 10,
                    );
                    if product.variants.len() < 2 {
                        product.variants = sizes_and_colours(
                            &sku,
                            &sizes[..2],
                            &colours[..1],
                            300_000_000_000 + i as u64 * 10,
                        );
                    }
                }
                product.in_pos = rng.random_bool(in_pos_share.clamp(0.0, 1.0));
                product
            })
            .collect();
        let customers: Vec<Customer> = (0..200)
            .map(|i| {
                let company = (i % 4 == 0).then(|| {
                    (
                        format!("Company {i} B.V."),
                        format!("NL{:09}B01", 100_000_000 + i),
                        format!("{:08}", 10_000_000 + i),
                    )
                });
                Customer {
                    email: format!("customer{i}@example.org"),
                    first_name: format!("First{i}"),
                    last_name: format!("Last{i}"),
                    company,
                    street: format!("Street {}", i % 37),
                    house_number: (1 + i % 120).to_string(),
                    suffix: if i % 9 == 0 {
                        "b".into()
                    } else {
                        String::new()
                    },
                    postcode: format!("{} AB", 1000 + i % 8999),
                    city: format!("City {}", i % 23),
                    country: if i % 10 == 0 {
                        "BE".into()
                    } else {
                        "NL".into()
                    },
                    in_pos: i % 3 == 0,
                }
            })
            .collect();
        let skus: Vec<String> = catalogue
            .iter()
            .flat_map(|p| {
                if p.variants.is_empty() {
                    vec![p.sku.clone()]
                } else {
                    p.variants.iter().map(|v| v.sku.clone()).collect()
                }
            })
            .collect();
        let methods = payment_methods();
        let orders: Vec<Order> = (0..orders)
            .map(|i| {
                let lines = (0..rng.random_range(1..=5))
                    .map(|_| {
                        (
                            skus[rng.random_range(0..skus.len())].clone(),
                            rng.random_range(1..4),
                        )
                    })
                    .collect();
                let paid = rng.random_bool(0.7);
                Order {
                    number: format!("{}", 200_000 + i),
                    customer: customers[rng.random_range(0..customers.len())]
                        .email
                        .clone(),
                    lines,
                    order_state: if paid {
                        "open".into()
                    } else {
                        ["open", "cancelled"][i % 2].into()
                    },
                    transactions: vec![if paid { "paid".into() } else { "open".into() }],
                    payment_method: methods[i % methods.len()].shop_name.clone(),
                    minutes_ago: (orders - i) as i64 * 7,
                    note: "generated".into(),
                }
            })
            .collect();
        Dataset {
            categories,
            products: catalogue,
            customers,
            payment_methods: methods,
            orders,
            sales_channel: "Generated Storefront".into(),
            pos_prices_include_vat: true,
        }
    }

    /// Every article number: simple products and variants (not configurable parents).
    pub fn article_skus(&self) -> Vec<&str> {
        self.products
            .iter()
            .flat_map(|p| {
                if p.variants.is_empty() {
                    vec![p.sku.as_str()]
                } else {
                    p.variants.iter().map(|v| v.sku.as_str()).collect()
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eans_carry_a_valid_check_digit() {
        assert_eq!(ean13(400638133393), "4006381333931");
    }

    #[test]
    fn generation_is_deterministic_and_coherent() {
        let a = Dataset::generated(500, 50, 0.5, 42);
        assert_eq!(a, Dataset::generated(500, 50, 0.5, 42));
        assert_ne!(a, Dataset::generated(500, 50, 0.5, 43));
        let skus: std::collections::HashSet<_> = a.article_skus().into_iter().collect();
        for order in &a.orders {
            assert!(
                order
                    .lines
                    .iter()
                    .all(|(sku, _)| skus.contains(sku.as_str()))
            );
            assert!(a.customers.iter().any(|c| c.email == order.customer));
        }
    }

    #[test]
    fn the_demo_has_what_it_promises() {
        let demo = Dataset::demo();
        let poster = demo
            .products
            .iter()
            .find(|p| p.sku == "TB-POSTER-01")
            .unwrap();
        assert!(poster.in_shop && !poster.in_pos);
        assert!(
            demo.orders
                .iter()
                .any(|o| o.lines.iter().any(|(sku, _)| sku == "TB-POSTER-01"))
        );
        assert!(demo.customers.iter().any(|c| c.company.is_some()));
        assert!(demo.customers.iter().any(|c| c.in_pos));
        assert!(demo.categories.iter().any(|path| path.len() == 3));
    }
}
