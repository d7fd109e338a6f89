//! The committed JSON Schemas match the types, and every catalog file
//! validates against the schema its `yaml-language-server` line names.

use std::path::{Path, PathBuf};

use aicr_core::criteria::{Accelerator, Intent, Service};
use aicr_core::schema::all;
use aicr_core::{Catalog, Criteria, EmbeddedProvider, resolve};
use aicr_test_support::{recipes_dir, repo_root};
use serde_json::Value;

fn committed(name: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join("schemas").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&committed(name)).unwrap()
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

#[test]
fn committed_schemas_match_the_types() {
    let mut stale = Vec::new();
    for file in all() {
        let path = repo_root().join("schemas").join(file.name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(file.text.as_str()) {
            stale.push(file.name);
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas {stale:?}: run `cargo xtask codegen`"
    );
}

/// Every YAML file under `dir`, recursively, sorted.
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    out.sort();
}

#[test]
fn every_catalog_file_validates_against_its_schema() {
    let recipes = recipes_dir();
    let mut files = Vec::new();
    for dir in ["overlays", "mixins", "validators"] {
        yaml_files(&recipes.join(dir), &mut files);
    }
    files.push(recipes.join("registry.yaml"));
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let schema = text
            .lines()
            .find_map(|l| l.strip_prefix("# yaml-language-server: $schema="))
            .unwrap_or_else(|| panic!("{} names no schema", path.display()));
        let name = schema.rsplit('/').next().unwrap();
        let linked = path.parent().unwrap().join(schema);
        assert!(
            linked.is_file(),
            "{}: {schema} does not resolve",
            path.display()
        );
        let doc: Value = serde_saphyr::from_str(&text).unwrap();
        for e in errors(&validator(name), &doc) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(files.len() > 60);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_resolved_recipe_validates_against_the_recipe_result_schema() {
    let catalog = Catalog::load(Box::new(EmbeddedProvider)).unwrap();
    let query = Criteria {
        service: Service::Eks,
        accelerator: Accelerator::H100,
        intent: Intent::Training,
        ..Criteria::default()
    };
    let recipe = resolve(&catalog, &query, "v0.1.0").unwrap();
    let doc = serde_json::to_value(&recipe).unwrap();
    let errs = errors(&validator("recipe-result.schema.json"), &doc);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn schema_rejects_a_misspelt_field_and_a_bad_criteria_value() {
    let v = validator("recipe-metadata.schema.json");
    let doc: Value = serde_saphyr::from_str(
        "apiVersion: aicr.nvidia.com/v1alpha1\nkind: RecipeMetadata\nmetadata:\n  name: x\nspec:\n  criteria:\n    service: ekss\n  componentRefs:\n    - name: a\n      valueFile: b\n",
    )
    .unwrap();
    let errs = errors(&v, &doc);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs.iter().any(|e| e.starts_with("/spec/criteria/service")));
    assert!(errs.iter().any(|e| e.contains("valueFile")));
}
