//! What a plugin costs: instantiating one from its pre-instantiated component, and a transform
//! over 1,000 orders through WASM against the same transform in native Rust.
//!
//! Run: `cargo bench -p tillbridge --bench runtime`

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use tillbridge::runtime::bindings::exports::tillbridge::plugin::transformer::{
    Entity, FlowContext, FlowKind, Verdict,
};
use tillbridge::runtime::bindings::tillbridge::plugin::types::{
    Address, Customer, Order, OrderLine, OrderTotals, Person, Problem,
};
use tillbridge::runtime::{Grants, Limits, Runtime};

fn address() -> Address {
    Address {
        company: None,
        first_name: "Ada".into(),
        last_name: "Jansen".into(),
        street: "Dorpsstraat".into(),
        house_number: Some("12".into()),
        house_number_suffix: Some("a".into()),
        additional_line: None,
        postcode: "3512 AB".into(),
        city: "Utrecht".into(),
        country: "NL".into(),
        phone: None,
    }
}

fn order(i: usize) -> Order {
    let methods = ["PayPal", "Invoice", "Credit card", "iDEAL"];
    Order {
        id: format!("{i:032x}"),
        number: format!("{}", 100_000 + i),
        ordered_at: "2026-11-01T10:00:00Z".into(),
        updated_at: "2026-11-01T10:00:00Z".into(),
        order_state: "open".into(),
        payment_state: "paid".into(),
        delivery_state: Some("open".into()),
        currency: "EUR".into(),
        prices_include_tax: true,
        sales_channel: Some("Storefront".into()),
        customer: Customer {
            id: Some(format!("{i:032x}")),
            number: Some(format!("C{i}")),
            email: format!("customer{i}@example.org"),
            person: Person {
                salutation: None,
                first_name: "Ada".into(),
                last_name: "Jansen".into(),
            },
            company: None,
            phone: None,
            billing_address: Some(address()),
            shipping_address: None,
            custom_fields: vec![],
        },
        billing_address: address(),
        shipping_address: Some(address()),
        lines: (0..3)
            .map(|l| OrderLine {
                kind: "product".into(),
                sku: Some(format!("SKU-{l}")),
                name: format!("Article {l}"),
                quantity: 2,
                unit_price: "12.95".into(),
                total_price: "25.90".into(),
                tax_rate: "21".into(),
            })
            .collect(),
        totals: OrderTotals {
            net: "64.21".into(),
            gross: "77.70".into(),
            tax: "13.49".into(),
            shipping: "0".into(),
        },
        payment_method: Some(methods[i % methods.len()].into()),
        shipping_method: None,
        comment: None,
        custom_fields: vec![],
    }
}

/// The payment-map transform written natively, for comparison: same normalisation, same lookup,
/// same verdicts.
fn native_payment_map(map: &BTreeMap<String, String>, batch: Vec<Entity>) -> Vec<Verdict> {
    batch
        .into_iter()
        .map(|entity| match entity {
            Entity::Order(mut order) => {
                let key = order
                    .payment_method
                    .as_deref()
                    .map(|m| m.trim().to_lowercase());
                match key.and_then(|k| map.get(&k)) {
                    Some(id) => {
                        order.payment_method = Some(id.clone());
                        Verdict::Keep(Entity::Order(order))
                    }
                    None => Verdict::Fail(Problem {
                        message: "unmapped".into(),
                        field: Some("payment-method".into()),
                    }),
                }
            }
            other => Verdict::Keep(other),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(&dir.path().join("cache")).unwrap();
    let plugin = runtime
        .load(
            "payment-map",
            tillbridge::builtin::get("payment-map").unwrap().bytes,
        )
        .unwrap();
    let settings =
        json!({ "map": { "PayPal": "2", "Invoice": "3", "Credit card": "4", "iDEAL": "1" } });
    let grants = Grants::minimal("payment-map", Limits::TRANSFORM).with_settings(settings);

    c.bench_function(
        "instantiate payment-map from InstancePre (new store + instance)",
        |b| b.iter(|| rt.block_on(plugin.session(grants.clone())).unwrap()),
    );

    let batch: Vec<Entity> = (0..1000).map(|i| Entity::Order(order(i))).collect();
    let context = FlowContext {
        flow: "orders".into(),
        kind: FlowKind::Orders,
        source: "shop".into(),
        target: "pos".into(),
        run: "bench".into(),
        dry_run: true,
    };
    let mut group = c.benchmark_group("payment-map over 1,000 orders");
    group.throughput(Throughput::Elements(batch.len() as u64));
    let mut session = rt.block_on(plugin.session(grants.clone())).unwrap();
    group.bench_function("wasm", |b| {
        b.iter(|| {
            rt.block_on(session.transform(&context, black_box(&batch)))
                .unwrap()
        })
    });
    // The same orders, each dropped (no payment method is mapped): what crossing into the guest
    // costs without the records coming back.
    let dropping = grants
        .clone()
        .with_settings(json!({ "map": {}, "unmapped": "drop" }));
    let mut dropping = rt.block_on(plugin.session(dropping)).unwrap();
    group.bench_function("wasm, every order dropped (records in, not back)", |b| {
        b.iter(|| {
            rt.block_on(dropping.transform(&context, black_box(&batch)))
                .unwrap()
        })
    });
    let map: BTreeMap<String, String> = [
        ("paypal", "2"),
        ("invoice", "3"),
        ("credit card", "4"),
        ("ideal", "1"),
    ]
    .map(|(k, v)| (k.into(), v.into()))
    .into();
    group.bench_function("native", |b| {
        b.iter(|| native_payment_map(&map, black_box(batch.clone())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
