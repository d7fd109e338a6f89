//! Parity with the reference on its own catalog: every query of
//! `../shared/conformance/recipe/queries.tsv` resolved through the library
//! on `upstream-catalog` equals the reference output as data.

use std::collections::HashMap;

use aicr::Client;
use aicr_core::output::{Format, render};
use aicr_core::yaml::to_value;
use serde_json::Value;

use aicr_test_support::{conformance_dir, reference_queries, strip_recipe, yaml};

use crate::support::criteria;

#[test]
fn every_reference_query_resolves_to_the_reference_recipe() {
    let Some(dir) = conformance_dir() else { return };
    let client = Client::open(&aicr::CatalogSource::Dir(dir.join("upstream-catalog"))).unwrap();
    let mut expected_cache: HashMap<String, Value> = HashMap::new();
    let all = reference_queries(&dir);
    let mut failures = Vec::new();
    for q in &all {
        let criteria = criteria(q);
        let outcome = if criteria.is_empty() {
            Err(aicr::Error::invalid("no criteria provided"))
        } else {
            client.recipe(&criteria)
        };
        match (q.expected.strip_prefix("error:"), outcome) {
            (Some(code), Err(e)) => {
                if e.code().as_str() != code || e.exit_status() != q.exit {
                    failures.push(format!("{:?}: got {e}, want {code}/{}", q.flags, q.exit));
                }
            }
            (Some(code), Ok(_)) => failures.push(format!("{:?}: resolved, want {code}", q.flags)),
            (None, Err(e)) => failures.push(format!("{:?}: {e}", q.flags)),
            (None, Ok(recipe)) => {
                let expected = expected_cache.entry(q.expected.clone()).or_insert_with(|| {
                    let path = dir.join(format!("recipe/outputs/{}.yaml", q.expected));
                    yaml(&std::fs::read_to_string(path).unwrap())
                });
                // Through the rendered YAML, so emission is checked too.
                let ours = strip_recipe(yaml(&render(&to_value(&recipe), Format::Yaml)));
                if &ours != expected {
                    failures.push(format!("{:?}: differs from {}", q.flags, q.expected));
                }
            }
        }
    }
    let equal = all.len() - failures.len();
    println!("parity {equal}/{}", all.len());
    for f in failures.iter().take(20) {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "parity {equal}/{}", all.len());
}
