//! How long the CCV simulator takes to start on a large catalogue: 10,000 products (one in five
//! with variants), 1,000 orders, every product in the POS.
//!
//! `cargo bench -p tillbridge-sim --bench ccv_seed`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tillbridge_sim::ccv::{CcvOptions, CcvSim, Seed};
use tillbridge_sim::dataset::Dataset;

fn large() -> Dataset {
    Dataset::generated(10_000, 1_000, 1.0, 42)
}

async fn start_and_stop(seed: Seed) {
    let sim = CcvSim::start(CcvOptions {
        seed,
        ..CcvOptions::default()
    })
    .await
    .expect("the simulator starts");
    black_box(sim.base_url());
    sim.stop().await;
}

fn seed(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut group = c.benchmark_group("ccv_seed_10k");
    group.sample_size(10);

    group.bench_function("generate_dataset", |b| b.iter(|| black_box(large())));

    let dataset = large();
    group.bench_function("start_from_dataset", |b| {
        b.iter(|| runtime.block_on(start_and_stop(Seed::Dataset(dataset.clone()))))
    });

    let dump = runtime.block_on(async {
        let sim = CcvSim::start(CcvOptions {
            seed: Seed::Dataset(dataset.clone()),
            ..CcvOptions::default()
        })
        .await
        .expect("the simulator starts");
        let dump = sim.dump();
        sim.stop().await;
        dump
    });
    let path = std::env::temp_dir().join(format!("ccv-seed-bench-{}.json", std::process::id()));
    std::fs::write(&path, dump.to_string()).expect("the dump is written");
    group.bench_function("start_from_dump_file", |b| {
        b.iter(|| runtime.block_on(start_and_stop(Seed::File(path.clone()))))
    });
    group.finish();
    std::fs::remove_file(&path).ok();
}

criterion_group!(benches, seed);
criterion_main!(benches);
