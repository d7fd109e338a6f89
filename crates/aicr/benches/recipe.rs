//! Criterion benchmarks: catalog load, one resolution, one hydrated query,
//! and the whole reference corpus (when `../shared` is present).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use aicr::{Client, Criteria};
use aicr_core::criteria::{Accelerator, Intent, Os, Platform, Service};
use aicr_core::{Catalog, DirProvider, EmbeddedProvider, resolve};
use criterion::{Criterion, criterion_group, criterion_main};

fn query() -> Criteria {
    Criteria {
        service: Service::Eks,
        accelerator: Accelerator::H100,
        os: Os::Ubuntu,
        intent: Intent::Training,
        platform: Platform::Kubeflow,
        nodes: 0,
    }
}

fn benches(c: &mut Criterion) {
    c.bench_function("catalog load (embedded)", |b| {
        b.iter(|| Catalog::load(Box::new(EmbeddedProvider)).unwrap())
    });
    let catalog = Catalog::load(Box::new(EmbeddedProvider)).unwrap();
    c.bench_function("resolve eks/h100/ubuntu/training/kubeflow", |b| {
        b.iter(|| resolve(&catalog, &query(), "v0").unwrap())
    });
    let client = Client::embedded().unwrap();
    c.bench_function("query . eks/h100/ubuntu/training/kubeflow", |b| {
        b.iter(|| client.query(&query(), ".").unwrap())
    });

    let shared =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    let Ok(tsv) = std::fs::read_to_string(shared.join("recipe/queries.tsv")) else {
        eprintln!("skipping corpus benchmark: ../shared is absent");
        return;
    };
    let upstream = Catalog::load(Box::new(
        DirProvider::open(shared.join("upstream-catalog")).unwrap(),
    ))
    .unwrap();
    let queries: Vec<Criteria> = tsv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let q = Criteria {
                service: Service::parse(f[0]).ok()?,
                accelerator: Accelerator::parse(f[1]).ok()?,
                os: Os::parse(f[2]).ok()?,
                intent: Intent::parse(f[3]).ok()?,
                platform: Platform::parse(f[4]).ok()?,
                nodes: 0,
            };
            (!q.is_empty()).then_some(q)
        })
        .collect();
    c.bench_function("whole corpus (4,265 resolutions)", |b| {
        b.iter(|| {
            for q in &queries {
                resolve(&upstream, q, "v0").unwrap();
            }
        })
    });
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(group);
