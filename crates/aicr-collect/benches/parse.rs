//! Criterion benchmark: parsing a real `nvidia-smi -q -x` document of an
//! 8×H100 node (about 200 KiB) into the `smi` subtype. Skipped, with the
//! reason printed, when the reference corpus (`../shared`) is absent.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]
// Benches are not library code; the clippy.toml rules do not apply.
#![allow(clippy::disallowed_methods)]

use aicr_collect::gpu::parse_nvidia_smi;
use criterion::{Criterion, criterion_group, criterion_main};

fn benches(c: &mut Criterion) {
    let Some(path) = aicr_test_support::conformance_path("snapshot/nvidia-smi-h100x8.xml") else {
        return;
    };
    let xml = std::fs::read(path).unwrap();
    c.bench_function("parse nvidia-smi -q -x (8x H100)", |b| {
        b.iter(|| parse_nvidia_smi(std::hint::black_box(&xml)).unwrap())
    });
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(group);
