//! Bundling one corpus case by name, and reading the resulting tree.

use aicr_bundle::{BundleOptions, Deployer};
use aicr_core::{Components, RecipeResult};

use crate::corpus;

/// The reference catalog and the recipe of a corpus case.
pub fn case(case: &str) -> Option<(Components, RecipeResult)> {
    let dir = aicr_test_support::conformance_dir()?;
    let recipe = corpus::recipe(&dir.join("bundle").join(case));
    Some((corpus::upstream_catalog(&dir), recipe))
}

/// Options for `deployer` with the corpus's repository.
pub fn options(deployer: Deployer) -> BundleOptions {
    BundleOptions {
        deployer,
        repo: Some("https://git.example.com/org/gitops.git".into()),
        tool_version: "test".into(),
        ..BundleOptions::default()
    }
}

/// A file of a tree as text.
pub fn text(tree: &aicr_bundle::FileTree, path: &str) -> String {
    String::from_utf8(
        tree.get(path)
            .unwrap_or_else(|| panic!("{path} missing"))
            .bytes
            .clone(),
    )
    .unwrap()
}
