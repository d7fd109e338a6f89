//! The reference corpus and its catalog.

use std::path::PathBuf;

use aicr_bundle::{BundleOptions, Deployer};
use aicr_core::{Catalog, DirProvider, RecipeResult};

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

/// The reference catalog and the recipe of a corpus case.
pub fn case(case: &str) -> Option<(Catalog, RecipeResult)> {
    let dir = conformance_dir()?;
    let provider = DirProvider::open(dir.join("upstream-catalog")).unwrap();
    let catalog = Catalog::load(Box::new(provider)).unwrap();
    let path = dir.join("bundle").join(case).join("recipe.yaml");
    let recipe = aicr_core::yaml::parse(&std::fs::read(&path).unwrap(), "recipe.yaml").unwrap();
    Some((catalog, recipe))
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
