//! The catalog's facts: for every expected recipe of the corpus, the
//! hydrated recipe (`aicr query --selector .`) equals the reference's as
//! data, ignoring `criteria` and `metadata`. Checked on the reference's own
//! catalog and on our embedded one, together with the `validation` block
//! of `aicr recipe`.

use std::collections::BTreeMap;

use aicr::Client;
use aicr_core::output::{Format, render};
use aicr_core::yaml::to_value;
use serde_json::Value;

use aicr_test_support::{ReferenceQuery, conformance_dir, reference_queries, yaml};

use crate::support::criteria;

fn strip(mut doc: Value) -> Value {
    let map = doc.as_object_mut().unwrap();
    map.shift_remove("criteria");
    map.shift_remove("metadata");
    doc
}

fn check(client: &Client, label: &str) {
    let Some(dir) = conformance_dir() else { return };
    let all = reference_queries(&dir);
    let mut by_id: BTreeMap<&str, Vec<&ReferenceQuery>> = BTreeMap::new();
    for q in all.iter().filter(|q| !q.expected.starts_with("error:")) {
        by_id.entry(q.expected.as_str()).or_default().push(q);
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    let outputs: BTreeMap<&str, Value> = by_id
        .keys()
        .map(|id| {
            let text =
                std::fs::read_to_string(dir.join(format!("recipe/outputs/{id}.yaml"))).unwrap();
            (*id, yaml(&text))
        })
        .collect();
    for (id, qs) in &by_id {
        let expected =
            yaml(&std::fs::read_to_string(dir.join(format!("hydrated/{id}.yaml"))).unwrap());
        for q in qs {
            checked += 1;
            let ours = match client.query(&criteria(q), ".") {
                Ok(doc) => strip(yaml(&render(&doc, Format::Yaml))),
                Err(e) => {
                    failures.push(format!("{:?}: {e}", q.flags));
                    continue;
                }
            };
            if ours != expected {
                failures.push(format!("{:?}: differs from hydrated/{id}", q.flags));
            }
            let validation = client.recipe(&criteria(q)).map(|r| to_value(&r.validation));
            if validation.as_ref().ok() != Some(&outputs[*id]["validation"]) {
                failures.push(format!(
                    "{:?}: validation differs from recipe/outputs/{id}",
                    q.flags
                ));
            }
        }
    }
    println!(
        "{label}: hydrated parity {}/{checked}",
        checked - failures.len()
    );
    for f in failures.iter().take(10) {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{label}: {} of {checked} differ",
        failures.len()
    );
}

#[test]
fn reference_catalog_hydrates_to_the_reference_values() {
    let Some(dir) = conformance_dir() else { return };
    check(
        &Client::open(&aicr::CatalogSource::Dir(dir.join("upstream-catalog"))).unwrap(),
        "upstream catalog",
    );
}

#[test]
fn embedded_catalog_carries_the_reference_facts() {
    check(&Client::embedded().unwrap(), "embedded catalog");
}
