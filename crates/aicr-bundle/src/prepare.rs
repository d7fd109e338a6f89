//! Per-component preparation shared by every deployer: filtering disabled
//! components, the values pipeline (`--set`, node scheduling, storage
//! class, node count, `--dynamic`) and reading manifests.

use indexmap::IndexMap;
use serde_json::Value;

use aicr_core::catalog::{Components, FetchedFiles};
use aicr_core::error::{Error, Result};
use aicr_core::model::{RegistryEntry, Values};
use aicr_core::query::component_values;
use aicr_core::recipe::{RecipeResult, ResolvedComponent};
use aicr_core::values::set_path;

use crate::options::BundleOptions;

/// A manifest file of a component, as read from the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Catalog-relative path (`components/gpu-operator/manifests/x.yaml`).
    pub path: String,
    /// File text, unrendered.
    pub text: String,
}

/// A component ready for a deployer.
#[derive(Debug, Clone)]
pub struct Component {
    /// The recipe entry.
    pub resolved: ResolvedComponent,
    /// Final values (dynamic paths removed).
    pub values: Values,
    /// Install-time values: each `--dynamic` path with its value (or `""`).
    pub cluster_values: Values,
    /// The `--dynamic` paths of this component.
    pub dynamic_paths: Vec<Vec<String>>,
    /// The first registry `valueOverrideKeys` entry (name without hyphens
    /// when the registry has none).
    pub override_key: String,
    /// Manifests applied before the chart.
    pub pre_manifests: Vec<Manifest>,
    /// Manifests applied after the chart (or the chart itself, when the
    /// component is manifest-only).
    pub manifests: Vec<Manifest>,
}

impl Component {
    /// The component name.
    pub fn name(&self) -> &str {
        &self.resolved.name
    }

    /// True when the chart comes from a repository (not manifest-only).
    pub fn has_source(&self) -> bool {
        !self.resolved.source.is_empty()
    }

    /// True when the component is built with Kustomize.
    pub fn is_kustomize(&self) -> bool {
        !self.resolved.tag.is_empty() || !self.resolved.path.is_empty()
    }
}

/// The recipe after filtering and the prepared components in deployment
/// order, enabled only.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The recipe as written into the bundle: disabled components removed.
    pub recipe: RecipeResult,
    /// Components in deployment order.
    pub components: Vec<Component>,
}

/// Resolves a `--set`/`--dynamic` key to a component name: the name
/// itself or one of its registry aliases.
pub fn component_for_key<'r>(
    recipe: &'r RecipeResult,
    registry: &IndexMap<String, RegistryEntry>,
    key: &str,
) -> Option<&'r str> {
    recipe
        .component_refs
        .iter()
        .map(|c| c.name.as_str())
        .find(|name| {
            *name == key
                || registry
                    .get(*name)
                    .map_or(name.replace('-', "") == key, |e| {
                        e.value_override_keys.iter().any(|k| k == key)
                    })
        })
}

/// Runs the values pipeline for every enabled component.
pub fn prepare(
    catalog: &Components,
    recipe: &RecipeResult,
    options: &BundleOptions,
    fetched: &FetchedFiles,
) -> Result<Prepared> {
    let registry = &catalog.registry;
    for set in &options.sets {
        if component_for_key(recipe, registry, &set.component).is_none() {
            return Err(Error::invalid(format!(
                "--set {}: component {:?} is not in the recipe",
                set.path.join("."),
                set.component
            )));
        }
    }
    for dynamic in &options.dynamic {
        if component_for_key(recipe, registry, &dynamic.component).is_none() {
            return Err(Error::invalid(format!(
                "--dynamic {}: component {:?} is not in the recipe",
                dynamic.path.join("."),
                dynamic.component
            )));
        }
    }

    let mut kept = Vec::new();
    for c in &recipe.component_refs {
        let sets: Vec<_> = options
            .sets
            .iter()
            .filter(|s| component_for_key(recipe, registry, &s.component) == Some(c.name.as_str()))
            .collect();
        let toggle = sets
            .iter()
            .rev()
            .find(|s| s.path.len() == 1 && s.path[0] == "enabled")
            .map(|s| s.value == Value::Bool(true) || s.value == Value::String("true".into()));
        if !toggle.unwrap_or_else(|| c.is_enabled()) {
            continue;
        }
        kept.push(prepare_component(
            catalog, recipe, c, &sets, options, fetched,
        )?);
    }

    let order_of = |name: &str| recipe.deployment_order.iter().position(|n| n == name);
    kept.sort_by(|a, b| match (order_of(a.name()), order_of(b.name())) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name().cmp(b.name()),
    });
    let names: Vec<&str> = kept.iter().map(Component::name).collect();
    let mut filtered = recipe.clone();
    filtered
        .component_refs
        .retain(|c| names.contains(&c.name.as_str()));
    filtered
        .deployment_order
        .retain(|n| names.contains(&n.as_str()));
    Ok(Prepared {
        recipe: filtered,
        components: kept,
    })
}

fn prepare_component(
    catalog: &Components,
    recipe: &RecipeResult,
    c: &ResolvedComponent,
    sets: &[&aicr_core::values::SetOverride],
    options: &BundleOptions,
    fetched: &FetchedFiles,
) -> Result<Component> {
    let entry = catalog.registry.get(&c.name);
    let mut values = component_values(catalog, c)
        .map_err(|e| e.context(format!("values of component {:?}", c.name)))?;
    for set in sets {
        if !(set.path.len() == 1 && set.path[0] == "enabled") {
            set.apply(&mut values);
        }
    }
    if let Some(entry) = entry {
        apply_scheduling(&mut values, entry, options, sets);
    }

    let dynamic_paths: Vec<Vec<String>> = options
        .dynamic
        .iter()
        .filter(|d| {
            component_for_key(recipe, &catalog.registry, &d.component) == Some(c.name.as_str())
        })
        .map(|d| d.path.clone())
        .collect();
    let mut cluster_values = Values::new();
    for path in &dynamic_paths {
        let value = take_path(&mut values, path).unwrap_or_else(|| Value::String(String::new()));
        set_path(&mut cluster_values, path, value);
    }

    let read = |paths: &[String]| -> Result<Vec<Manifest>> {
        paths
            .iter()
            .map(|p| {
                let bytes = catalog.read_file(p, fetched)?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::invalid(format!("manifest {p} is not UTF-8")))?;
                Ok(Manifest {
                    path: p.clone(),
                    text,
                })
            })
            .collect()
    };
    Ok(Component {
        resolved: c.clone(),
        values,
        cluster_values,
        dynamic_paths,
        override_key: entry
            .and_then(|e| e.value_override_keys.first().cloned())
            .unwrap_or_else(|| c.name.replace('-', "")),
        pre_manifests: read(&c.pre_manifest_files)?,
        manifests: read(&c.manifest_files)?,
    })
}

/// Writes the node-scheduling flags at the registry's paths.
fn apply_scheduling(
    values: &mut Values,
    entry: &RegistryEntry,
    o: &BundleOptions,
    sets: &[&aicr_core::values::SetOverride],
) {
    let split = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
    let selector = |m: &IndexMap<String, String>| {
        Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    // Without a toleration flag the reference tolerates every taint
    // (`[{operator: Exists}]`) at each registry toleration path.
    let tolerations = |t: &[crate::options::Toleration]| {
        if t.is_empty() {
            serde_json::json!([{"operator": "Exists"}])
        } else {
            Value::Array(t.iter().map(|t| t.to_value()).collect())
        }
    };
    if let Some(ns) = &entry.node_scheduling {
        for (paths, flag) in [
            (&ns.system, &o.system_node_selector),
            (&ns.accelerated, &o.accelerated_node_selector),
        ] {
            if let (Some(p), false) = (paths, flag.is_empty()) {
                for path in &p.node_selector_paths {
                    set_path(values, &split(path), selector(flag));
                }
            }
        }
        for (paths, flag) in [
            (&ns.system, &o.system_node_tolerations),
            (&ns.accelerated, &o.accelerated_node_tolerations),
        ] {
            if let Some(p) = paths {
                for path in &p.toleration_paths {
                    set_path(values, &split(path), tolerations(flag));
                }
            }
        }
        if let (Some(p), Some(gate)) = (&ns.accelerated, &o.workload_gate) {
            for path in &p.taint_str_paths {
                set_path(values, &split(path), Value::String(gate.taint_string()));
            }
        }
        if o.nodes > 0 {
            for path in &ns.node_count_paths {
                set_path(values, &split(path), Value::from(o.nodes));
            }
        }
    }
    if let Some(ws) = entry
        .pod_scheduling
        .as_ref()
        .and_then(|p| p.workload.as_ref())
        .filter(|_| !o.workload_selector.is_empty())
    {
        for path in &ws.workload_selector_paths {
            set_path(values, &split(path), selector(&o.workload_selector));
        }
    }
    if let Some(class) = &o.storage_class {
        for path in &entry.storage_class_paths {
            let path = split(path);
            if !sets.iter().any(|s| s.path == path) {
                set_path(values, &path, Value::String(class.clone()));
            }
        }
    }
}

/// Removes and returns the value at `path`, if present.
fn take_path(values: &mut Values, path: &[String]) -> Option<Value> {
    let (last, parents) = path.split_last()?;
    let mut node = values;
    for key in parents {
        node = node.get_mut(key)?.as_object_mut()?;
    }
    node.shift_remove(last)
}
