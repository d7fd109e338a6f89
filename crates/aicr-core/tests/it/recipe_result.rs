//! `RecipeResult` documents parse strictly: every recipe the reference
//! produced in the conformance corpus, and nothing with a wrong header or
//! an unknown field.

use std::path::Path;

use aicr_core::{Code, RecipeResult, yaml};

#[test]
fn every_conformance_recipe_parses_as_a_recipe_result() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/recipe/outputs");
    if !dir.is_dir() {
        eprintln!("skipping: {} is absent", dir.display());
        return;
    }
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let origin = path.display().to_string();
        let recipe: RecipeResult = yaml::parse(&bytes, &origin).unwrap();
        let back: serde_json::Value = serde_json::to_value(&recipe).unwrap();
        let original: serde_json::Value = yaml::parse(&bytes, &origin).unwrap();
        assert_eq!(back["apiVersion"], original["apiVersion"], "{origin}");
        count += 1;
    }
    assert!(count > 50, "only {count} recipes");
}

const RECIPE: &str =
    "kind: RecipeResult\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata: {}\ncriteria: {}\n";

#[test]
fn recipe_result_without_kind_is_accepted() {
    let text = RECIPE.replace("kind: RecipeResult\n", "");
    let recipe: RecipeResult = yaml::parse_str(&text, "r.yaml").unwrap();
    assert_eq!(recipe.kind.as_str(), "RecipeResult");
}

#[test]
fn recipe_result_with_a_wrong_header_or_unknown_field_is_invalid() {
    for (from, to, says) in [
        (
            "aicr.nvidia.com/v1alpha1",
            "aicr.nvidia.com/v1",
            "apiVersion is \"aicr.nvidia.com/v1\"",
        ),
        (
            "kind: RecipeResult",
            "kind: RecipeMetadata",
            "kind is \"RecipeMetadata\"",
        ),
        ("metadata: {}", "metadata: {versoin: x}", "versoin"),
        ("criteria: {}", "criteria: {}\nextra: 1", "extra"),
    ] {
        let text = RECIPE.replace(from, to);
        let err = yaml::parse_str::<RecipeResult>(&text, "r.yaml").unwrap_err();
        assert_eq!(err.code(), Code::InvalidRequest);
        assert!(err.message().starts_with("r.yaml:"), "{err}");
        assert!(err.message().contains(says), "{err}");
    }
}
