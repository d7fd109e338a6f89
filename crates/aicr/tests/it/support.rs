//! Shared helpers: where `../shared` is, and parsing the reference corpus.

use std::path::PathBuf;

use aicr::Criteria;
use aicr_core::criteria::{Accelerator, Intent, Os, Platform, Service};
use serde_json::Value;

/// `../shared/conformance`, or `None` (with a printed reason) when absent.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent", dir.display());
        None
    }
}

/// One row of `recipe/queries.tsv`.
#[derive(Debug, Clone)]
pub struct Query {
    pub flags: [String; 5],
    pub exit: i32,
    pub expected: String,
}

impl Query {
    /// The criteria the reference CLI was given (`any` = flag omitted).
    pub fn criteria(&self) -> Criteria {
        let [s, a, o, i, p] = &self.flags;
        Criteria {
            service: Service::parse(s).unwrap(),
            accelerator: Accelerator::parse(a).unwrap(),
            os: Os::parse(o).unwrap(),
            intent: Intent::parse(i).unwrap(),
            platform: Platform::parse(p).unwrap(),
            nodes: 0,
        }
    }
}

/// Every query of the corpus.
pub fn queries(dir: &std::path::Path) -> Vec<Query> {
    let text = std::fs::read_to_string(dir.join("recipe/queries.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Query {
                flags: std::array::from_fn(|i| cols[i].to_string()),
                exit: cols[5].parse().unwrap(),
                expected: cols[6].to_string(),
            }
        })
        .collect()
}

/// Parses a YAML document into the JSON value model.
pub fn parse_yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

/// Removes the fields the corpus leaves out: `criteria`, `metadata.version`.
pub fn strip_recipe(mut doc: Value) -> Value {
    let map = doc.as_object_mut().unwrap();
    map.shift_remove("criteria");
    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
        meta.shift_remove("version");
    }
    doc
}
