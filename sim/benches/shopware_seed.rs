//! How long the Shopware simulator takes to start with a large shop: the generated dataset of
//! 10,000 products (about 12,000 with variants) and 1,000 orders, built from the dataset and
//! loaded from a dump file, for the legacy (6.4) and current (6.6) stock models.
//!
//! `cargo bench -p tillbridge-sim --bench shopware_seed`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tillbridge_sim::dataset::Dataset;
use tillbridge_sim::shopware::{ApiVersion, Seed, ShopwareOptions, ShopwareSim};

fn options(version: ApiVersion, seed: Seed) -> ShopwareOptions {
    ShopwareOptions {
        api_version: version,
        seed,
        ..ShopwareOptions::default()
    }
}

fn seed(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let data = Dataset::generated(10_000, 1_000, 0.5, 42);
    let mut group = c.benchmark_group("shopware_seed");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    for version in [ApiVersion::V6_4, ApiVersion::V6_6] {
        group.bench_function(format!("generated_10k_products/{version}"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let sim = ShopwareSim::start(options(version, Seed::Dataset(data.clone())))
                        .await
                        .expect("starts");
                    sim.stop().await;
                })
            })
        });
    }
    let dump = runtime.block_on(async {
        let sim = ShopwareSim::start(options(ApiVersion::V6_6, Seed::Dataset(data.clone())))
            .await
            .expect("starts");
        let dump = sim.dump();
        sim.stop().await;
        dump
    });
    let file =
        std::env::temp_dir().join(format!("shopware-seed-bench-{}.json", std::process::id()));
    std::fs::write(&file, dump.to_string()).expect("dump written");
    group.bench_function("dump_file_10k_products/6.6", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let sim = ShopwareSim::start(options(ApiVersion::V6_6, Seed::File(file.clone())))
                    .await
                    .expect("starts");
                sim.stop().await;
            })
        })
    });
    group.finish();
    let _ = std::fs::remove_file(&file);
}

criterion_group!(benches, seed);
criterion_main!(benches);
