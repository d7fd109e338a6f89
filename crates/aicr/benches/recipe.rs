//! Criterion benchmarks: catalog load (whole, and the components a bundle
//! reads), one resolution (plain, traced, explained), one hydrated query, one helm bundle rendered in
//! memory, and the whole reference corpus (when `../shared` is present).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]
// Benches are not library code; the clippy.toml rules do not apply.
#![allow(clippy::disallowed_methods)]

use aicr::{BundleOptions, Client, Criteria};
use aicr_core::criteria::{Accelerator, Intent, Os, Platform, Service};
use aicr_core::{Catalog, Components, DirProvider, EmbeddedProvider, resolve};
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
    c.bench_function("components load (embedded, what a bundle reads)", |b| {
        b.iter(|| Components::load(Box::new(EmbeddedProvider)).unwrap())
    });
    let catalog = Catalog::load(Box::new(EmbeddedProvider)).unwrap();
    c.bench_function("resolve eks/h100/ubuntu/training/kubeflow", |b| {
        b.iter(|| resolve(&catalog, &query(), "v0").unwrap())
    });
    // Tracing is off in `resolve`; the traced merge and the whole
    // explanation (value histories, values files read for their lines)
    // cost only when asked for.
    c.bench_function("resolve traced eks/h100/ubuntu/training/kubeflow", |b| {
        b.iter(|| aicr_core::resolve::resolve_traced(&catalog, &query(), "v0", None).unwrap())
    });
    let client = Client::embedded().unwrap();
    c.bench_function("explain eks/h100/ubuntu/training/kubeflow", |b| {
        b.iter(|| client.explain(&query(), None).unwrap())
    });
    c.bench_function("query . eks/h100/ubuntu/training/kubeflow", |b| {
        b.iter(|| client.query(&query(), ".").unwrap())
    });
    let recipe = client.recipe(&query()).unwrap();
    let options = BundleOptions {
        tool_version: "v0".into(),
        ..BundleOptions::default()
    };
    c.bench_function(
        "render bundle -d helm eks/h100/ubuntu/training/kubeflow",
        |b| {
            b.iter(|| {
                client
                    .render_bundle(&recipe, &options, &Default::default())
                    .unwrap()
            })
        },
    );

    let Some(shared) = aicr_test_support::conformance_dir() else {
        return;
    };
    let upstream = Catalog::load(Box::new(
        DirProvider::open(shared.join("upstream-catalog")).unwrap(),
    ))
    .unwrap();
    let queries: Vec<Criteria> = aicr_test_support::reference_queries(&shared)
        .iter()
        .filter_map(|row| {
            let [s, a, o, i, p] = &row.flags;
            let q = Criteria {
                service: Service::parse(s).ok()?,
                accelerator: Accelerator::parse(a).ok()?,
                os: Os::parse(o).ok()?,
                intent: Intent::parse(i).ok()?,
                platform: Platform::parse(p).ok()?,
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
