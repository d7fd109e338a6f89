//! `aicr recipe --explain` and `aicr query --explain`: the explanation in
//! each format, one value's history, and the refusals.

use serde_json::Value;

use crate::support::run;

const QUERY: &[&str] = &[
    "--service",
    "gke",
    "--accelerator",
    "h100",
    "--intent",
    "inference",
];

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(QUERY).chain(tail).copied().collect()
}

#[test]
fn recipe_explain_json_names_every_overlay_and_component() {
    let (code, out, err) = run(args(&["recipe"], &["--explain", "-t", "json"]));
    assert_eq!(code, 0, "{err}");
    let e: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(e["kind"], "RecipeExplanation");
    // The components are those of the recipe for the same query.
    let (_, recipe, _) = run(args(&["recipe"], &["-t", "json"]));
    let recipe: Value = serde_json::from_str(&recipe).unwrap();
    let names = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&e, "components"), names(&recipe, "componentRefs"));
    let applied: Vec<&str> = recipe["metadata"]["appliedOverlays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let merged: Vec<&str> = e["mergeOrder"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "overlay")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(merged, applied);
    // A generic dimension of the query never matches a specific overlay,
    // and the explanation says so in words.
    let reasons: Vec<&str> = e["overlays"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["mismatches"].as_array().into_iter().flatten())
        .map(|m| m["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"overlay says os=cos, query leaves os open"),
        "{reasons:?}"
    );
}

#[test]
fn recipe_explain_table_is_readable() {
    let (code, out, err) = run(args(&["recipe"], &["--explain", "-t", "table"]));
    assert_eq!(code, 0, "{err}");
    for heading in ["OVERLAYS", "LEAVES", "MERGE ORDER", "COMPONENTS"] {
        assert!(
            out.contains(&format!("\n{heading}\n")),
            "{heading} missing:\n{out}"
        );
    }
    assert!(out.contains("  gpu-operator (added by overlay base (embedded:overlays/base.yaml))"));
}

#[test]
fn query_explain_prints_one_paths_history() {
    let selector = "components.gpu-operator.values.driver.version";
    let (code, out, err) = run(args(
        &["query"],
        &["--explain", "--selector", selector, "-t", "json"],
    ));
    assert_eq!(code, 0, "{err}");
    let got: Value = serde_json::from_str(&out).unwrap();
    let values = got["values"].as_array().unwrap();
    assert_eq!(values.len(), 1);
    // The last source is the value `aicr query` prints for the same path.
    let (_, plain, _) = run(args(&["query"], &["--selector", selector]));
    let history = values[0]["history"].as_array().unwrap();
    assert_eq!(
        history.last().unwrap()["value"].as_str().unwrap(),
        plain.trim()
    );
    assert_eq!(values[0]["value"].as_str().unwrap(), plain.trim());
    let first = &history[0]["source"];
    assert_eq!(first["kind"], "valuesFile");
    assert!(first["line"].as_u64().unwrap() > 0);

    let (code, table, _) = run(args(
        &["query"],
        &["--explain", "--selector", selector, "-t", "table"],
    ));
    assert_eq!(code, 0);
    assert!(
        table.contains(&format!("driver.version = {}", plain.trim())),
        "{table}"
    );
}

#[test]
fn explain_refusals_have_codes() {
    // A drawing of an explanation is not a thing.
    let (code, _, err) = run(args(&["recipe"], &["--explain", "-t", "dot"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("[INVALID_REQUEST]"), "{err}");
    // An unknown component is NOT_FOUND and lists the components.
    let (code, _, err) = run(args(
        &["query"],
        &["--explain", "--selector", "components.nope.values"],
    ));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("[NOT_FOUND]") && err.contains("gpu-operator"),
        "{err}"
    );
    // Selectors outside components and constraints are refused.
    let (code, _, err) = run(args(
        &["query"],
        &["--explain", "--selector", "criteria.service"],
    ));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn the_same_query_explains_byte_for_byte_the_same() {
    let first = run(args(&["recipe"], &["--explain"]));
    let second = run(args(&["recipe"], &["--explain"]));
    assert_eq!(first.0, 0, "{}", first.2);
    assert_eq!(first.1, second.1);
    // YAML keeps the declared order: the header first.
    assert!(
        first
            .1
            .starts_with("kind: RecipeExplanation\napiVersion: aicr.nvidia.com/v1alpha1\n")
    );
}
