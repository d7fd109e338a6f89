//! Explanations (`Client::explain`): on every query of the corpus, the last
//! source of every value path, field and constraint is the hydrated one;
//! and a worked case on the embedded catalog with a `--data` layer, whose
//! values pass through a values file, a middle overlay, a leaf and a
//! mixin, with a `null` deletion, checked source by source.

use std::collections::BTreeMap;

use aicr::{CatalogSource, Client};
use aicr_core::Code;
use aicr_core::criteria::{Accelerator, Criteria, Intent, Os, Platform, Service};
use aicr_core::explain::{Explanation, Outcome, SourceKind, ValueAction};
use aicr_core::yaml::to_value;
use serde_json::{Value, json};

use aicr_test_support::{conformance_dir, reference_queries};

use crate::support::criteria;

/// Leaves of `values` keyed by their dotted paths, as explanations key them.
fn flatten(values: &Value, path: &mut Vec<String>, out: &mut BTreeMap<String, Value>) {
    match values {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                path.push(k.clone());
                flatten(v, path, out);
                path.pop();
            }
        }
        _ => {
            out.insert(path.join("."), values.clone());
        }
    }
}

/// Every claim of `e` that can be checked against the hydrated recipe.
fn check_against_hydration(client: &Client, q: &Criteria, e: &Explanation) -> Result<(), String> {
    let hydrated = client.query(q, ".").map_err(|e| e.to_string())?;
    let recipe = client.recipe(q).map_err(|e| e.to_string())?;
    let names: Vec<&str> = e.components.iter().map(|c| c.name.as_str()).collect();
    let expected: Vec<&str> = recipe
        .component_refs
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    if names != expected {
        return Err(format!("components {names:?} != {expected:?}"));
    }
    for (c, resolved) in e.components.iter().zip(&recipe.component_refs) {
        let mut want = BTreeMap::new();
        if let Some(values) = hydrated["components"][&c.name].get("values") {
            flatten(values, &mut Vec::new(), &mut want);
        }
        let got: BTreeMap<String, Value> = c
            .values
            .iter()
            .map(|v| (v.path.clone(), v.value.clone().unwrap_or(Value::Null)))
            .collect();
        if got != want {
            return Err(format!("{}: explained values differ from hydrated", c.name));
        }
        for v in &c.values {
            let last = v
                .history
                .last()
                .ok_or(format!("{}.{}: no history", c.name, v.path))?;
            if last.action != ValueAction::Set || last.value != v.value {
                return Err(format!(
                    "{}.{}: last source is not the value",
                    c.name, v.path
                ));
            }
        }
        for v in &c.removed_values {
            let last = v.history.last().map(|l| l.action);
            if !matches!(last, Some(ValueAction::Delete | ValueAction::Replace)) {
                return Err(format!(
                    "{}.{}: removed but last change is {last:?}",
                    c.name, v.path
                ));
            }
            if got.contains_key(&v.path) {
                return Err(format!("{}.{}: both present and removed", c.name, v.path));
            }
        }
        let resolved = to_value(resolved);
        for f in &c.fields {
            if resolved[&f.field] != f.value {
                return Err(format!("{}.{}: field value differs", c.name, f.field));
            }
            let accumulates = matches!(
                f.field.as_str(),
                "dependencyRefs" | "manifestFiles" | "preManifestFiles"
            );
            let last = &f.history.last().ok_or("empty field history")?.value;
            if !accumulates && *last != f.value {
                return Err(format!(
                    "{}.{}: last setting is not the value",
                    c.name, f.field
                ));
            }
        }
    }
    for (c, want) in e.constraints.iter().zip(&recipe.constraints) {
        let last = c.history.last().map(|s| s.value.clone());
        if c.name != want.name || last != Some(json!(want.value)) {
            return Err(format!(
                "constraint {}: last setting is not the value",
                c.name
            ));
        }
    }
    if e.constraints.len() != recipe.constraints.len() {
        return Err("constraints differ in number".into());
    }
    Ok(())
}

/// Checks every `step`th query of the corpus.
fn check_corpus(client: &Client, label: &str, step: usize) {
    let Some(dir) = conformance_dir() else { return };
    let queries: Vec<_> = reference_queries(&dir).into_iter().step_by(step).collect();
    // Two threads: the machine has two cores and every query is checked.
    let halves: Vec<Vec<String>> = std::thread::scope(|s| {
        let workers: Vec<_> = queries
            .chunks(queries.len().div_ceil(2))
            .map(|chunk| {
                s.spawn(move || {
                    let mut failures = Vec::new();
                    for q in chunk {
                        let criteria = criteria(q);
                        match (client.explain(&criteria, None), client.recipe(&criteria)) {
                            (Ok((_, e)), Ok(_)) => {
                                if let Err(why) = check_against_hydration(client, &criteria, &e) {
                                    failures.push(format!("{:?}: {why}", q.flags));
                                }
                            }
                            (Err(a), Err(b)) if a.code() == b.code() => {}
                            (a, b) => failures.push(format!(
                                "{:?}: explain {:?} but recipe {:?}",
                                q.flags,
                                a.err(),
                                b.err()
                            )),
                        }
                    }
                    failures
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let failures: Vec<String> = halves.into_iter().flatten().collect();
    for f in failures.iter().take(10) {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{label}: {} of {} queries explained wrongly",
        failures.len(),
        queries.len()
    );
}

#[test]
fn every_corpus_query_on_the_reference_catalog_is_explained_by_its_sources() {
    let Some(dir) = conformance_dir() else { return };
    let client = Client::open(&CatalogSource::Dir(dir.join("upstream-catalog"))).unwrap();
    check_corpus(&client, "upstream catalog", 1);
}

#[test]
fn corpus_queries_on_the_embedded_catalog_are_explained_by_their_sources() {
    // Every third query: the catalog is the same facts as the reference's,
    // checked whole above.
    check_corpus(&Client::embedded().unwrap(), "embedded catalog", 3);
}

const CRITERIA: &str = "
    service: eks
    accelerator: h100
    os: ubuntu
    intent: training
    platform: kubeflow
    nodes: 8";

/// A `--data` layer over the embedded catalog: a middle overlay and a leaf
/// below the catalog's own eks/h100/ubuntu/training/kubeflow leaf, both
/// overriding gpu-operator's driver values, the leaf deleting one with
/// `null`, and a mixin adding a component with its own values.
fn data_layer(dir: &std::path::Path) {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "registry.yaml",
        "apiVersion: aicr.nvidia.com/v1alpha1\nkind: ComponentRegistry\ncomponents:\n  - name: explain-probe\n    displayName: explain-probe\n    helm:\n      defaultRepository: https://charts.example.com\n      defaultChart: explain-probe\n      defaultVersion: 1.0.0\n      defaultNamespace: probe\n",
    );
    write(
        "overlays/explain-mid.yaml",
        &format!(
            "apiVersion: aicr.nvidia.com/v1alpha1\nkind: RecipeMetadata\nmetadata:\n  name: explain-mid\nspec:\n  base: h100-eks-ubuntu-training-kubeflow\n  criteria:{CRITERIA}\n  componentRefs:\n    - name: gpu-operator\n      overrides:\n        driver:\n          version: 590.1.0\n          rdma:\n            enabled: false\n"
        ),
    );
    write(
        "overlays/explain-leaf.yaml",
        &format!(
            "apiVersion: aicr.nvidia.com/v1alpha1\nkind: RecipeMetadata\nmetadata:\n  name: explain-leaf\nspec:\n  base: explain-mid\n  criteria:{CRITERIA}\n  mixins:\n    - explain-probe\n  componentRefs:\n    - name: gpu-operator\n      version: v99.0.0\n      overrides:\n        driver:\n          version: 595.2.0\n          maxParallelUpgrades: null\n"
        ),
    );
    write(
        "mixins/explain-probe.yaml",
        "apiVersion: aicr.nvidia.com/v1alpha1\nkind: RecipeMixin\nmetadata:\n  name: explain-probe\nspec:\n  componentRefs:\n    - name: explain-probe\n      type: Helm\n      valuesFile: components/explain-probe/values.yaml\n      overrides:\n        replicas: 3\n",
    );
    write(
        "components/explain-probe/values.yaml",
        "# probe\nreplicas: 1\nimage:\n  tag: v1\n",
    );
}

#[test]
fn values_through_file_middle_overlay_leaf_and_mixin_with_a_null_deletion() {
    let data = tempfile::tempdir().unwrap();
    data_layer(data.path());
    let client = Client::open(&CatalogSource::Layered(data.path().to_path_buf())).unwrap();
    let query = Criteria {
        service: Service::Eks,
        accelerator: Accelerator::H100,
        os: Os::Ubuntu,
        intent: Intent::Training,
        platform: Platform::Kubeflow,
        nodes: 8,
    };
    let (_, e) = client.explain(&query, None).unwrap();
    check_against_hydration(&client, &query, &e).unwrap();

    let data_file = |p: &str| data.path().join(p).display().to_string();
    let overlay = |name: &str| e.overlays.iter().find(|o| o.name == name).unwrap();
    assert_eq!(overlay("explain-leaf").outcome, Outcome::Leaf);
    assert_eq!(
        overlay("explain-leaf").file,
        data_file("overlays/explain-leaf.yaml")
    );
    assert_eq!(overlay("explain-mid").outcome, Outcome::Ancestor);
    assert_eq!(overlay("explain-mid").ancestor_of, ["explain-leaf"]);
    let catalog_leaf = overlay("h100-eks-ubuntu-training-kubeflow");
    assert_eq!(catalog_leaf.outcome, Outcome::Ancestor);
    // The asymmetric rule, spelled out.
    let inference = overlay("h100-eks-inference");
    assert_eq!(inference.outcome, Outcome::NotMatched);
    assert_eq!(
        inference.mismatches[0].reason,
        "overlay says intent=inference, query says intent=training"
    );
    let leaf = e.leaves.iter().find(|l| l.name == "explain-leaf").unwrap();
    assert_eq!(
        leaf.chain,
        [
            "base",
            "eks",
            "eks-training",
            "h100-eks-training",
            "h100-eks-ubuntu-training",
            "h100-eks-ubuntu-training-kubeflow",
            "explain-mid",
            "explain-leaf"
        ]
    );
    assert_eq!(
        leaf.mixins,
        ["os-ubuntu", "platform-kubeflow", "explain-probe"]
    );

    let gpu = e
        .components
        .iter()
        .find(|c| c.name == "gpu-operator")
        .unwrap();
    assert_eq!(gpu.added_by.name.as_deref(), Some("base"));
    // The chart version: base, then the leaf.
    let version = gpu.fields.iter().find(|f| f.field == "version").unwrap();
    let by: Vec<(Option<&str>, &Value)> = version
        .history
        .iter()
        .map(|s| (s.source.name.as_deref(), &s.value))
        .collect();
    assert_eq!(
        by,
        [
            (Some("base"), &json!("v25.10.1")),
            (Some("explain-leaf"), &json!("v99.0.0"))
        ]
    );

    // driver.version: the values file (with its line), the middle overlay,
    // the leaf; the last one is the hydrated value.
    let value = |path: &str| gpu.values.iter().find(|v| v.path == path).unwrap();
    let driver = value("driver.version");
    let file = "embedded:components/gpu-operator/values.yaml";
    let line = include_str!("../../../../recipes/components/gpu-operator/values.yaml")
        .lines()
        .position(|l| l.trim_start().starts_with("version: 580."))
        .unwrap() as u64
        + 1;
    type Step<'a> = (SourceKind, Option<&'a str>, &'a str, Option<u64>, Value);
    let steps: Vec<Step> = driver
        .history
        .iter()
        .map(|c| {
            (
                c.source.kind,
                c.source.name.as_deref(),
                c.source.file.as_str(),
                c.source.line,
                c.value.clone().unwrap(),
            )
        })
        .collect();
    let mid_file = data_file("overlays/explain-mid.yaml");
    let leaf_file = data_file("overlays/explain-leaf.yaml");
    assert_eq!(
        steps,
        [
            (
                SourceKind::ValuesFile,
                None,
                file,
                Some(line),
                json!("580.105.08")
            ),
            (
                SourceKind::Overlay,
                Some("explain-mid"),
                mid_file.as_str(),
                None,
                json!("590.1.0")
            ),
            (
                SourceKind::Overlay,
                Some("explain-leaf"),
                leaf_file.as_str(),
                None,
                json!("595.2.0")
            ),
        ]
    );
    assert_eq!(driver.value, Some(json!("595.2.0")));
    assert_eq!(value("driver.rdma.enabled").history.len(), 2);

    // driver.maxParallelUpgrades: set by the file, deleted by the leaf's null.
    let deleted = gpu
        .removed_values
        .iter()
        .find(|v| v.path == "driver.maxParallelUpgrades")
        .unwrap();
    let steps: Vec<(ValueAction, Option<&str>)> = deleted
        .history
        .iter()
        .map(|c| (c.action, c.source.name.as_deref()))
        .collect();
    assert_eq!(
        steps,
        [
            (ValueAction::Set, None),
            (ValueAction::Delete, Some("explain-leaf"))
        ]
    );
    assert!(
        gpu.values
            .iter()
            .all(|v| v.path != "driver.maxParallelUpgrades")
    );

    // The mixin's component: added by the mixin, registry defaults for the
    // chart coordinates, values from the data layer's file and the mixin.
    let probe = e
        .components
        .iter()
        .find(|c| c.name == "explain-probe")
        .unwrap();
    assert_eq!(probe.added_by.kind, SourceKind::Mixin);
    assert_eq!(probe.added_by.file, data_file("mixins/explain-probe.yaml"));
    let namespace = probe
        .fields
        .iter()
        .find(|f| f.field == "namespace")
        .unwrap();
    assert_eq!(namespace.history.len(), 1);
    assert_eq!(namespace.history[0].source.kind, SourceKind::Registry);
    let replicas = probe.values.iter().find(|v| v.path == "replicas").unwrap();
    let steps: Vec<(SourceKind, Option<u64>, Value)> = replicas
        .history
        .iter()
        .map(|c| (c.source.kind, c.source.line, c.value.clone().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            (SourceKind::ValuesFile, Some(2), json!(1)),
            (SourceKind::Mixin, None, json!(3))
        ]
    );
    assert_eq!(
        probe
            .values
            .iter()
            .find(|v| v.path == "image.tag")
            .unwrap()
            .history[0]
            .source
            .file,
        data_file("components/explain-probe/values.yaml")
    );

    // The query selector narrows to one path's history.
    let selected = client
        .render_explanation(
            &e,
            "components.gpu-operator.values.driver.version",
            aicr_core::output::Format::Json,
        )
        .unwrap();
    let selected: Value = serde_json::from_str(&selected).unwrap();
    assert_eq!(selected["values"].as_array().unwrap().len(), 1);
    assert_eq!(selected["values"][0]["path"], "driver.version");
    let err = client
        .render_explanation(&e, "components.nope", aicr_core::output::Format::Yaml)
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[test]
fn explanation_matches_its_json_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            aicr_test_support::repo_root().join("schemas/recipe-explanation.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let client = Client::embedded().unwrap();
    for query in [
        Criteria {
            service: Service::Gke,
            accelerator: Accelerator::H100,
            intent: Intent::Inference,
            ..Criteria::default()
        },
        Criteria {
            service: Service::Oke,
            accelerator: Accelerator::Gb200,
            intent: Intent::Training,
            ..Criteria::default()
        },
    ] {
        let (_, e) = client.explain(&query, None).unwrap();
        let doc = to_value(&e);
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}
