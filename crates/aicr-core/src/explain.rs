//! Explanations of a resolution (`aicr recipe --explain`): for the query,
//! every overlay and why it matched or not, the maximal leaves with their
//! chains and mixins; for each component, constraint and validation phase,
//! the documents that set it; for each value of each hydrated component,
//! every source that set it, in order, the last one winning.
//!
//! Built only when asked for: [`explain`] resolves with the merge trace on
//! ([`crate::resolve::resolve_traced`]); a plain resolution records nothing.

mod lines;
mod table;
mod values;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::catalog::{BASE, Catalog};
use crate::criteria::Criteria;
use crate::error::{Error, Result};
use crate::header::{ApiVersion, Document, Kind};
use crate::recipe::{ExcludedOverlay, RecipeResult};
use crate::resolve::{Contributor, MergeTrace, chain, maximal_leaves, resolve_traced};
use crate::snapshot::Snapshot;

pub use lines::of as value_lines;
pub use table::{render_selection, render_table};

/// The explanation of one resolution.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// Always `RecipeExplanation`.
    pub kind: Kind<Explanation>,
    /// Always `aicr.nvidia.com/v1alpha1`.
    pub api_version: ApiVersion<Explanation>,
    /// The query explained.
    pub criteria: Criteria,
    /// Every overlay of the catalog but `base`, in catalog order, with
    /// whether it matched and what became of it.
    pub overlays: Vec<OverlayExplanation>,
    /// The maximal leaves that remain, least specific first: the overlays
    /// merged, each with its chain.
    pub leaves: Vec<LeafExplanation>,
    /// Leaves left out because their constraints failed against a snapshot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_overlays: Vec<ExcludedOverlay>,
    /// The documents in the order they were merged: `base`, each leaf's
    /// chain from the root down, then the mixins.
    pub merge_order: Vec<Source>,
    /// Each constraint of the recipe with the documents that set it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<ConstraintExplanation>,
    /// Each validation phase of the recipe with the document that set it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation: Vec<PhaseExplanation>,
    /// Each component of the recipe, sorted by name.
    pub components: Vec<ComponentExplanation>,
}

impl Document for Explanation {
    const KIND: &'static str = "RecipeExplanation";
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// What kind of document.
    pub kind: SourceKind,
    /// The overlay or mixin name; none for a values file or the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The file it was read from (a path under the embedded catalog, or
    /// the `--data` / `--catalog` directory's file).
    pub file: String,
    /// The 1-based line of the setting, for values files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// The kinds of [`Source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SourceKind {
    /// An overlay (`base` included).
    Overlay,
    /// A mixin.
    Mixin,
    /// A registry default (`registry.yaml`).
    Registry,
    /// A Helm values file.
    ValuesFile,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.kind, &self.name) {
            (SourceKind::Overlay, Some(name)) => write!(f, "overlay {name} ({})", self.file),
            (SourceKind::Mixin, Some(name)) => write!(f, "mixin {name} ({})", self.file),
            (SourceKind::Registry, _) => write!(f, "registry default ({})", self.file),
            (_, _) => match self.line {
                Some(line) => write!(f, "{}:{line}", self.file),
                None => f.write_str(&self.file),
            },
        }
    }
}

/// One overlay, matched or not.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverlayExplanation {
    /// The overlay.
    pub name: String,
    /// Its file.
    pub file: String,
    /// What became of it.
    pub outcome: Outcome,
    /// For an overlay that did not match, each criterion that failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<Mismatch>,
    /// For a matched overlay dropped as an ancestor, the leaves whose
    /// chains include it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ancestor_of: Vec<String>,
}

/// What became of an overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Matched and is a maximal leaf: merged with its chain.
    Leaf,
    /// Matched, but is an ancestor of another match: merged only through
    /// that match's chain.
    Ancestor,
    /// Matched, but a snapshot constraint left it out: a maximal leaf
    /// whose constraints failed, or an ancestor of such leaves only.
    Excluded,
    /// Did not match.
    NotMatched,
}

/// One failed criterion, with the rule that failed spelled out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Mismatch {
    /// The dimension: service, accelerator, intent, os, platform or nodes.
    pub dimension: String,
    /// What the overlay asks for.
    pub overlay: String,
    /// What the query says (`any` when it leaves the dimension open).
    pub query: String,
    /// The rule in words.
    pub reason: String,
}

/// A maximal leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeafExplanation {
    /// The leaf overlay.
    pub name: String,
    /// Its `spec.base` chain, from `base` down to the leaf.
    pub chain: Vec<String>,
    /// The mixins the chain names, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mixins: Vec<String>,
}

/// One setting of a field or constraint.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Setting {
    /// Who set it.
    pub source: Source,
    /// What it set.
    pub value: Value,
}

/// A constraint of the recipe.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConstraintExplanation {
    /// The constraint's name.
    pub name: String,
    /// Its final expression.
    pub value: String,
    /// Every document that set it, in merge order; the last one wins.
    pub history: Vec<Setting>,
}

/// A validation phase of the recipe.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhaseExplanation {
    /// readiness, deployment, performance or conformance.
    pub phase: String,
    /// The phase's checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// The names of the phase's thresholds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<String>,
    /// The document whose phase is in the recipe (a later one replaces a
    /// phase whole).
    pub source: Source,
    /// Every document that set the phase, in merge order.
    pub history: Vec<Source>,
}

/// One component of the recipe.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentExplanation {
    /// The component.
    pub name: String,
    /// The document that first named it.
    pub added_by: Source,
    /// Each field of the resolved component that has a value, with every
    /// setting in order; a gap filled from the registry comes last.
    /// `dependencyRefs`, `manifestFiles` and `preManifestFiles`
    /// accumulate: each setting shows what that document added.
    pub fields: Vec<FieldExplanation>,
    /// Each value path of the hydrated component (leaves: scalars, lists,
    /// nulls and empty mappings), in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ValueExplanation>,
    /// Value paths that were set and are not in the hydrated values:
    /// deleted by a `null` override, or replaced by a later setting of a
    /// parent path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_values: Vec<ValueExplanation>,
}

/// One field of a component.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldExplanation {
    /// The field, as written in a recipe (`version`, `valuesFile`, ...).
    pub field: String,
    /// Its final value.
    pub value: Value,
    /// Every setting, in order.
    pub history: Vec<Setting>,
}

/// The history of one value path.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValueExplanation {
    /// The dotted path under the component's values (`driver.version`).
    pub path: String,
    /// The hydrated value; absent for a removed path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Every change, in order: the last one is the hydrated value, or the
    /// removal.
    pub history: Vec<ValueChange>,
}

/// One change of a value path.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValueChange {
    /// Who made it.
    pub source: Source,
    /// What it does.
    pub action: ValueAction,
    /// The value set; absent for a removal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// The kinds of [`ValueChange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ValueAction {
    /// Sets the path.
    Set,
    /// Deletes it: a `null` override of a key the values file has.
    Delete,
    /// Removes it by setting a parent path to a non-mapping.
    Replace,
}

/// Resolves `query` with the trace on and explains the result.
pub fn explain(
    catalog: &Catalog,
    query: &Criteria,
    version: &str,
    snapshot: Option<&Snapshot>,
) -> Result<(RecipeResult, Explanation)> {
    let (recipe, trace) = resolve_traced(catalog, query, version, snapshot)?;
    let explanation = Builder { catalog }.build(query, &recipe, &trace)?;
    Ok((recipe, explanation))
}

struct Builder<'c> {
    catalog: &'c Catalog,
}

impl Builder<'_> {
    fn build(
        &self,
        query: &Criteria,
        recipe: &RecipeResult,
        trace: &MergeTrace,
    ) -> Result<Explanation> {
        let catalog = self.catalog;
        let leaves = maximal_leaves(catalog, query)?;
        let excluded = &recipe.metadata.excluded_overlays;
        let mut chains = Vec::new();
        for leaf in &leaves {
            chains.push((*leaf, chain(catalog, leaf)?));
        }
        let is_excluded = |leaf: &str| excluded.iter().any(|e| e.name == leaf);
        let mut overlays = Vec::new();
        for (name, overlay) in &catalog.overlays {
            if name == BASE {
                continue;
            }
            let mismatches = mismatches(&overlay.spec.criteria, query);
            let ancestor_of: Vec<String> = if mismatches.is_empty() {
                chains
                    .iter()
                    .filter(|(leaf, chain)| *leaf != name && chain.contains(&name.as_str()))
                    .map(|(leaf, _)| leaf.to_string())
                    .collect()
            } else {
                Vec::new()
            };
            let outcome = if !mismatches.is_empty() {
                Outcome::NotMatched
            } else if is_excluded(name) {
                Outcome::Excluded
            } else if leaves.contains(&name.as_str()) {
                Outcome::Leaf
            } else if !ancestor_of.is_empty() && ancestor_of.iter().all(|l| is_excluded(l)) {
                // Dropped with the chains of the excluded leaves.
                Outcome::Excluded
            } else {
                Outcome::Ancestor
            };
            overlays.push(OverlayExplanation {
                name: name.clone(),
                file: self.overlay_file(name),
                outcome,
                mismatches,
                ancestor_of,
            });
        }
        let leaves = chains
            .iter()
            .filter(|(leaf, _)| !is_excluded(leaf))
            .map(|(leaf, chain)| LeafExplanation {
                name: leaf.to_string(),
                chain: chain.iter().map(|s| s.to_string()).collect(),
                mixins: mixins_named(catalog, chain.iter().copied()),
            })
            .collect();
        let mut merge_order: Vec<Source> = recipe
            .metadata
            .applied_overlays
            .iter()
            .map(|name| self.source(&Contributor::Overlay(name.clone())))
            .collect();
        // Mixins in the order they were applied: the order overlays named them.
        let applied = recipe.metadata.applied_overlays.iter().map(String::as_str);
        for name in mixins_named(catalog, applied) {
            merge_order.push(self.source(&Contributor::Mixin(name)));
        }

        Ok(Explanation {
            kind: Kind::new(),
            api_version: ApiVersion::new(),
            criteria: *query,
            overlays,
            leaves,
            excluded_overlays: excluded.clone(),
            merge_order,
            constraints: self.constraints(recipe, trace),
            validation: self.validation(recipe, trace),
            components: self.components(recipe, trace)?,
        })
    }

    fn overlay_file(&self, name: &str) -> String {
        self.catalog
            .overlay_origins
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    fn source(&self, by: &Contributor) -> Source {
        match by {
            Contributor::Overlay(name) => Source {
                kind: SourceKind::Overlay,
                name: Some(name.clone()),
                file: self.overlay_file(name),
                line: None,
            },
            Contributor::Mixin(name) => Source {
                kind: SourceKind::Mixin,
                name: Some(name.clone()),
                file: self
                    .catalog
                    .mixin_origins
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| name.clone()),
                line: None,
            },
        }
    }

    fn constraints(&self, recipe: &RecipeResult, trace: &MergeTrace) -> Vec<ConstraintExplanation> {
        recipe
            .constraints
            .iter()
            .map(|c| ConstraintExplanation {
                name: c.name.clone(),
                value: c.value.clone(),
                history: trace
                    .constraints
                    .get(&c.name)
                    .into_iter()
                    .flatten()
                    .map(|(by, set)| Setting {
                        source: self.source(by),
                        value: Value::String(set.value.clone()),
                    })
                    .collect(),
            })
            .collect()
    }

    fn validation(&self, recipe: &RecipeResult, trace: &MergeTrace) -> Vec<PhaseExplanation> {
        let Some(v) = &recipe.validation else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, phase) in v.phases() {
            let Some(phase) = phase else { continue };
            let history: Vec<Source> = trace
                .validation
                .iter()
                .filter(|(p, _)| *p == name)
                .map(|(_, by)| self.source(by))
                .collect();
            let Some(source) = history.last().cloned() else {
                continue;
            };
            out.push(PhaseExplanation {
                phase: name.to_string(),
                checks: phase.checks.clone(),
                constraints: phase.constraints.iter().map(|c| c.name.clone()).collect(),
                source,
                history,
            });
        }
        out
    }

    fn components(
        &self,
        recipe: &RecipeResult,
        trace: &MergeTrace,
    ) -> Result<Vec<ComponentExplanation>> {
        let registry_file = self.catalog.components().provider().origin("registry.yaml");
        let mut out = Vec::new();
        for c in &recipe.component_refs {
            let t = trace.components.get(&c.name).ok_or_else(|| {
                Error::internal(format!("component {:?} has no merge trace", c.name))
            })?;
            let resolved = crate::yaml::to_value(c);
            let mut fields = Vec::new();
            for (field, value) in resolved.as_object().into_iter().flatten() {
                let empty = match value {
                    Value::String(s) => s.is_empty(),
                    Value::Array(a) => a.is_empty(),
                    Value::Object(_) | Value::Null => true,
                    Value::Bool(b) => !b,
                    Value::Number(_) => false,
                };
                if field == "name" || field == "overrides" || empty {
                    continue;
                }
                let mut history: Vec<Setting> = t
                    .fields
                    .get(field.as_str())
                    .into_iter()
                    .flatten()
                    .map(|(by, v)| Setting {
                        source: self.source(by),
                        value: v.clone(),
                    })
                    .collect();
                // A field no document set has its value from the registry;
                // `type` too, unless the default (helm) is all there is.
                let from_registry = match history.last() {
                    None => {
                        field != "type"
                            || *value
                                != crate::yaml::to_value(&crate::model::ComponentType::default())
                    }
                    Some(last) => {
                        last.value != *value
                            && !matches!(
                                field.as_str(),
                                "dependencyRefs" | "manifestFiles" | "preManifestFiles"
                            )
                    }
                };
                if from_registry {
                    history.push(Setting {
                        source: Source {
                            kind: SourceKind::Registry,
                            name: None,
                            file: registry_file.clone(),
                            line: None,
                        },
                        value: value.clone(),
                    });
                }
                if history.is_empty() {
                    continue;
                }
                fields.push(FieldExplanation {
                    field: field.clone(),
                    value: value.clone(),
                    history,
                });
            }
            let overrides: Vec<(Source, &crate::model::Values)> = t
                .overrides
                .iter()
                .map(|(by, o)| (self.source(by), o))
                .collect();
            let (values, removed_values) = values::trace(self.catalog.components(), c, &overrides)?;
            out.push(ComponentExplanation {
                name: c.name.clone(),
                added_by: self.source(&t.added_by),
                fields,
                values,
                removed_values,
            });
        }
        Ok(out)
    }
}

/// The mixins `overlays` name, in order, each once: the order the
/// resolver applies them in.
fn mixins_named<'a>(catalog: &Catalog, overlays: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in overlays {
        for m in catalog
            .overlays
            .get(o)
            .into_iter()
            .flat_map(|o| &o.spec.mixins)
        {
            if !out.contains(m) {
                out.push(m.clone());
            }
        }
    }
    out
}

/// Why `overlay` does not match `query`, criterion by criterion; empty when
/// it matches. Mirrors [`Criteria::matches`].
pub fn mismatches(overlay: &Criteria, query: &Criteria) -> Vec<Mismatch> {
    let nodes = |n: u32| {
        if n == 0 {
            "any".to_string()
        } else {
            n.to_string()
        }
    };
    // Every dimension reads `any` when open; an overlay matches when it
    // leaves the dimension open or says what the query says.
    let dimensions = [
        (
            "service",
            overlay.service.to_string(),
            query.service.to_string(),
        ),
        (
            "accelerator",
            overlay.accelerator.to_string(),
            query.accelerator.to_string(),
        ),
        (
            "intent",
            overlay.intent.to_string(),
            query.intent.to_string(),
        ),
        ("os", overlay.os.to_string(), query.os.to_string()),
        (
            "platform",
            overlay.platform.to_string(),
            query.platform.to_string(),
        ),
        ("nodes", nodes(overlay.nodes), nodes(query.nodes)),
    ];
    dimensions
        .into_iter()
        .filter(|(_, wanted, asked)| wanted != "any" && wanted != asked)
        .map(|(dimension, wanted, asked)| Mismatch {
            reason: if asked == "any" {
                format!("overlay says {dimension}={wanted}, query leaves {dimension} open")
            } else {
                format!("overlay says {dimension}={wanted}, query says {dimension}={asked}")
            },
            dimension: dimension.to_string(),
            overlay: wanted,
            query: asked,
        })
        .collect()
}

/// The part of `explanation` that `selector` names (see [`pick`]) in
/// `format`. YAML and JSON keep the declared order of fields (sources
/// before values, a path before its history), which reads better here than
/// the sorted keys of recipe documents; both are deterministic.
pub fn render(
    explanation: &Explanation,
    selector: &str,
    format: crate::output::Format,
) -> Result<String> {
    use crate::output::Format;
    let selection = pick(explanation, selector)?;
    Ok(match format {
        Format::Table => render_selection(&selection),
        Format::Json => crate::yaml::to_json(&selection.to_value()),
        Format::Yaml => serde_saphyr::to_string(&selection.to_value())
            .map_err(|e| Error::internal(format!("rendering the explanation as YAML: {e}")))?,
    })
}

/// The part of an explanation a selector names (see [`pick`]).
#[derive(Debug)]
pub enum Selection<'e> {
    /// The whole explanation (an empty selector or `.`).
    Whole(&'e Explanation),
    /// `constraints.NAME`.
    Constraint(&'e ConstraintExplanation),
    /// `components.NAME`.
    Component(&'e ComponentExplanation),
    /// `components.NAME.FIELD`.
    Field(&'e FieldExplanation),
    /// `components.NAME.values[.PATH]`: the value paths at or under PATH,
    /// removed ones included; never both empty.
    Values {
        /// The component.
        component: &'e ComponentExplanation,
        /// Its hydrated value paths at or under PATH.
        values: Vec<&'e ValueExplanation>,
        /// Its removed value paths at or under PATH.
        removed: Vec<&'e ValueExplanation>,
    },
}

impl Selection<'_> {
    /// The selection as a document.
    pub fn to_value(&self) -> Value {
        use crate::yaml::to_value;
        match self {
            Selection::Whole(e) => to_value(e),
            Selection::Constraint(c) => to_value(c),
            Selection::Component(c) => to_value(c),
            Selection::Field(f) => to_value(f),
            Selection::Values {
                values, removed, ..
            } => {
                let mut out = serde_json::Map::new();
                out.insert("values".into(), to_value(values));
                if !removed.is_empty() {
                    out.insert("removedValues".into(), to_value(removed));
                }
                Value::Object(out)
            }
        }
    }
}

/// The part of an explanation a query selector names: `components.NAME`
/// (the component), `components.NAME.values[.PATH]` (the value paths at or
/// under PATH, removed ones included), `components.NAME.FIELD` (one
/// field), `constraints.NAME`, or empty / `.` for everything.
pub fn pick<'e>(explanation: &'e Explanation, selector: &str) -> Result<Selection<'e>> {
    let path = selector.strip_prefix('.').unwrap_or(selector);
    if path.is_empty() {
        return Ok(Selection::Whole(explanation));
    }
    let bad = || {
        Error::invalid(format!(
            "explain selector {selector:?}: expected components.NAME[.values[.PATH] | .FIELD] or constraints.NAME"
        ))
    };
    let (head, rest) = path.split_once('.').ok_or_else(bad)?;
    match head {
        "constraints" => explanation
            .constraints
            .iter()
            .find(|c| c.name == rest)
            .map(Selection::Constraint)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "explain selector {selector:?}: the recipe has no constraint {rest:?}"
                ))
            }),
        "components" => {
            let (name, tail) = rest.split_once('.').unwrap_or((rest, ""));
            let c = explanation
                .components
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> =
                        explanation.components.iter().map(|c| c.name.as_str()).collect();
                    Error::not_found(format!(
                        "explain selector {selector:?}: component {name:?} not found, available: {}",
                        names.join(", ")
                    ))
                })?;
            if tail.is_empty() {
                return Ok(Selection::Component(c));
            }
            if let Some(prefix) = tail.strip_prefix("values")
                && (prefix.is_empty() || prefix.starts_with('.'))
            {
                let prefix = prefix.strip_prefix('.').unwrap_or(prefix);
                let under = |v: &&ValueExplanation| {
                    prefix.is_empty()
                        || v.path == prefix
                        || v.path.starts_with(&format!("{prefix}."))
                };
                let values: Vec<&ValueExplanation> = c.values.iter().filter(under).collect();
                let removed: Vec<&ValueExplanation> =
                    c.removed_values.iter().filter(under).collect();
                if values.is_empty() && removed.is_empty() {
                    return Err(Error::not_found(format!(
                        "explain selector {selector:?}: no value of {name} at or under {prefix:?}"
                    )));
                }
                return Ok(Selection::Values {
                    component: c,
                    values,
                    removed,
                });
            }
            c.fields
                .iter()
                .find(|f| f.field == tail)
                .map(Selection::Field)
                .ok_or_else(|| {
                    let names: Vec<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
                    Error::not_found(format!(
                        "explain selector {selector:?}: {name} has no field {tail:?}, available: values, {}",
                        names.join(", ")
                    ))
                })
        }
        _ => Err(bad()),
    }
}

/// [`pick`] as a document.
pub fn select(explanation: &Explanation, selector: &str) -> Result<Value> {
    Ok(pick(explanation, selector)?.to_value())
}

#[cfg(test)]
mod tests;
