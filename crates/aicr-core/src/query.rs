//! The hydrated recipe (components keyed by name with fully merged values)
//! and the dot-path selector of `aicr query`.

use serde_json::{Map, Value, json};

use crate::catalog::Components;
use crate::error::{Error, Result};
use crate::model::Values;
use crate::recipe::{RecipeResult, ResolvedComponent};
use crate::values::{coalesce, deep_merge};
use crate::yaml::to_value;

/// The merged Helm values of a component: the base `values.yaml` beside
/// its values file (when the values file is a variant such as
/// `values-eks-training.yaml`), then the values file, then its overrides.
pub fn component_values(catalog: &Components, c: &ResolvedComponent) -> Result<Values> {
    let mut values = Values::new();
    for path in values_files(catalog, c)? {
        deep_merge(&mut values, &catalog.values_file(&path)?);
    }
    coalesce(&mut values, &c.overrides);
    Ok(values)
}

/// The values files of `c`, in the order they merge: the base
/// `values.yaml` beside a variant values file when the catalog has one,
/// then the values file.
pub(crate) fn values_files(catalog: &Components, c: &ResolvedComponent) -> Result<Vec<String>> {
    let mut files = Vec::new();
    if c.values_file.is_empty() {
        return Ok(files);
    }
    if let Some(base) = base_values_path(&c.values_file)
        && catalog.provider().read(&base)?.is_some()
    {
        files.push(base);
    }
    files.push(c.values_file.clone());
    Ok(files)
}

/// `dir/values.yaml` for a variant `dir/values-*.yaml`; `None` otherwise.
fn base_values_path(values_file: &str) -> Option<String> {
    let (dir, file) = values_file.rsplit_once('/').unwrap_or(("", values_file));
    let variant =
        file.starts_with("values-") && (file.ends_with(".yaml") || file.ends_with(".yml"));
    variant.then(|| {
        if dir.is_empty() {
            "values.yaml".to_string()
        } else {
            format!("{dir}/values.yaml")
        }
    })
}

/// Builds the hydrated document that `aicr query` selects from.
pub fn hydrate(catalog: &Components, recipe: &RecipeResult) -> Result<Value> {
    let mut components = Map::new();
    for c in &recipe.component_refs {
        let mut entry = Map::new();
        entry.insert("name".into(), json!(c.name));
        entry.insert("type".into(), to_value(&c.kind));
        entry.insert("source".into(), json!(c.source));
        for (key, text) in [
            ("namespace", &c.namespace),
            ("chart", &c.chart),
            ("version", &c.version),
            ("tag", &c.tag),
            ("path", &c.path),
        ] {
            if !text.is_empty() {
                entry.insert(key.into(), json!(text));
            }
        }
        if !c.dependency_refs.is_empty() {
            entry.insert("dependencyRefs".into(), json!(c.dependency_refs));
        }
        let values = component_values(catalog, c)?;
        if !values.is_empty() {
            entry.insert("values".into(), Value::Object(values));
        }
        components.insert(c.name.clone(), Value::Object(entry));
    }
    let mut criteria = match to_value(&recipe.criteria) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    criteria.insert("nodes".into(), json!(recipe.criteria.nodes));

    let mut doc = Map::new();
    doc.insert("kind".into(), json!(recipe.kind));
    doc.insert("apiVersion".into(), json!(recipe.api_version));
    doc.insert("metadata".into(), to_value(&recipe.metadata));
    doc.insert("deploymentOrder".into(), json!(recipe.deployment_order));
    doc.insert("criteria".into(), Value::Object(criteria));
    if !recipe.constraints.is_empty() {
        doc.insert("constraints".into(), to_value(&recipe.constraints));
    }
    doc.insert("components".into(), Value::Object(components));
    Ok(Value::Object(doc))
}

/// Walks a dot path (`components.gpu-operator.values.driver`) through
/// mappings. One leading `.` is allowed; empty or `.` selects everything.
pub fn select<'v>(doc: &'v Value, selector: &str) -> Result<&'v Value> {
    let path = selector.strip_prefix('.').unwrap_or(selector);
    if path.is_empty() {
        return Ok(doc);
    }
    let mut node = doc;
    for key in path.split('.') {
        let Value::Object(map) = node else {
            return Err(Error::not_found(format!(
                "selector {selector:?}: cannot select key {key:?} from a non-map value"
            )));
        };
        node = map.get(key).ok_or_else(|| {
            let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
            keys.sort_unstable();
            Error::not_found(format!(
                "selector {selector:?}: key {key:?} not found, available keys: {}",
                keys.join(", ")
            ))
        })?;
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_walks_maps_and_reports_sorted_keys() {
        let doc = json!({"b": 1, "a": {"x": "y"}});
        assert_eq!(select(&doc, ".a.x").unwrap(), &json!("y"));
        assert_eq!(select(&doc, "").unwrap(), &doc);
        let err = select(&doc, "nope").unwrap_err();
        assert_eq!(
            err.to_string(),
            "[NOT_FOUND] selector \"nope\": key \"nope\" not found, available keys: a, b"
        );
        assert!(select(&doc, "b.c").is_err());
    }
}
