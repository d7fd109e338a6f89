//! Helpers for building subtypes' expected data and throw-away trees.

use std::collections::BTreeMap;
use std::path::Path;

use aicr_core::snapshot::Reading;

/// Expected string readings.
pub fn strings(pairs: &[(&str, &str)]) -> BTreeMap<String, Reading> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Reading::from(*v)))
        .collect()
}

/// Writes `files` (relative path → content) under `root`, making parents.
pub fn tree(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}
