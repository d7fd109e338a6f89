//! Resolution: criteria → maximal-leaf overlays → inheritance chains →
//! merged spec → mixins → registry defaults → deployment order.

use std::collections::HashSet;

use indexmap::IndexMap;

use crate::catalog::{BASE, Catalog};
use crate::criteria::Criteria;
use crate::error::{Error, Result};
use crate::evaluate::{Evaluation, evaluate};
use crate::header::{ApiVersion, Kind};
use crate::load::{self, Chain};
use crate::model::{ComponentRef, Constraint, RegistryEntry, Validation, Values};
use crate::order::deployment_order;
use crate::recipe::{
    ConstraintWarning, ExcludedOverlay, ExclusionReason, RecipeResult, RecipeResultMeta,
    ResolvedComponent,
};
use crate::snapshot::Snapshot;
use crate::values::deep_merge;

pub use crate::load::MAX_DEPTH;

/// The spec as it is being merged.
#[derive(Debug, Default)]
struct Merged {
    constraints: IndexMap<String, Constraint>,
    components: IndexMap<String, ComponentRef>,
    validation: Validation,
    applied: Vec<String>,
    mixins: Vec<String>,
    /// What each document contributed; only when explaining, so that a
    /// plain resolution records nothing.
    trace: Option<Box<MergeTrace>>,
}

/// A document that contributes to a merge: an overlay (`base` included)
/// or a mixin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contributor {
    /// An overlay, by name.
    Overlay(String),
    /// A mixin, by name.
    Mixin(String),
}

/// What the merge did, document by document, in merge order: the raw
/// material of an explanation (`crate::explain`).
#[derive(Debug, Default)]
pub struct MergeTrace {
    /// Each constraint's settings, in order; the last one is in the recipe.
    pub constraints: IndexMap<String, Vec<(Contributor, Constraint)>>,
    /// Each component's history.
    pub components: IndexMap<String, ComponentTrace>,
    /// Which document set each validation phase (the last one wins whole).
    pub validation: Vec<(&'static str, Contributor)>,
}

/// One component's history through the merge.
#[derive(Debug)]
pub struct ComponentTrace {
    /// The document that first named the component.
    pub added_by: Contributor,
    /// Each field a document set (as written in the recipe, camelCase), in
    /// order, with the value it wrote. Lists that accumulate
    /// (`dependencyRefs`, `manifestFiles`, `preManifestFiles`) carry what
    /// that document added to them.
    pub fields: IndexMap<&'static str, Vec<(Contributor, serde_json::Value)>>,
    /// Each document's `overrides`, in merge order.
    pub overrides: Vec<(Contributor, Values)>,
}

impl ComponentTrace {
    fn record(&mut self, by: &Contributor, r: &ComponentRef) {
        for (field, value) in set_fields(r) {
            self.fields
                .entry(field)
                .or_default()
                .push((by.clone(), value));
        }
        if let Some(over) = &r.overrides {
            self.overrides.push((by.clone(), over.clone()));
        }
    }
}

/// The fields `r` sets, by the rule [`merge_component`] applies: text
/// that is not empty, a type, `cleanup: true`, lists that are not empty.
fn set_fields(r: &ComponentRef) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    let mut out = Vec::new();
    for (field, text) in [
        ("namespace", &r.namespace),
        ("chart", &r.chart),
        ("source", &r.source),
        ("version", &r.version),
        ("tag", &r.tag),
        ("valuesFile", &r.values_file),
        ("path", &r.path),
    ] {
        if let Some(text) = text.as_deref().filter(|t| !t.is_empty()) {
            out.push((field, json!(text)));
        }
    }
    if let Some(kind) = r.kind {
        out.push(("type", crate::yaml::to_value(&kind)));
    }
    if r.cleanup == Some(true) {
        out.push(("cleanup", json!(true)));
    }
    for (field, list) in [
        ("dependencyRefs", &r.dependency_refs),
        ("manifestFiles", &r.manifest_files),
        ("preManifestFiles", &r.pre_manifest_files),
        ("patches", &r.patches),
    ] {
        if let Some(list) = list.as_ref().filter(|l| !l.is_empty()) {
            out.push((field, json!(list)));
        }
    }
    if let Some(list) = r.expected_resources.as_ref().filter(|l| !l.is_empty()) {
        out.push(("expectedResources", crate::yaml::to_value(list)));
    }
    out
}

/// Resolves `query` against `catalog`.
pub fn resolve(catalog: &Catalog, query: &Criteria, version: &str) -> Result<RecipeResult> {
    resolve_with(catalog, query, version, None)
}

/// Resolves `query` against `catalog`; with a `snapshot`, a maximal leaf
/// whose constraints fail against its readings is left out, with its
/// whole chain, and the recipe says which and why
/// (`metadata.excludedOverlays`, `metadata.constraintWarnings`).
///
/// A leaf's own constraints are checked before merging. Constraints that
/// mixins contribute exist only after the merge, so they are checked then,
/// and the leaves whose chains name the failing mixins are left out by
/// merging the rest again. Constraints of a leaf's ancestors are not
/// checked: a leaf restates the ones it needs (the reference's rule).
pub fn resolve_with(
    catalog: &Catalog,
    query: &Criteria,
    version: &str,
    snapshot: Option<&Snapshot>,
) -> Result<RecipeResult> {
    Ok(resolve_inner(catalog, query, version, snapshot, false)?.0)
}

/// [`resolve_with`], also returning what each document contributed to the
/// final merge.
pub fn resolve_traced(
    catalog: &Catalog,
    query: &Criteria,
    version: &str,
    snapshot: Option<&Snapshot>,
) -> Result<(RecipeResult, MergeTrace)> {
    let (recipe, trace) = resolve_inner(catalog, query, version, snapshot, true)?;
    Ok((recipe, trace.unwrap_or_default()))
}

fn resolve_inner(
    catalog: &Catalog,
    query: &Criteria,
    version: &str,
    snapshot: Option<&Snapshot>,
    traced: bool,
) -> Result<(RecipeResult, Option<MergeTrace>)> {
    let leaves = maximal_leaves(catalog, query)?;
    let Some(snapshot) = snapshot else {
        let (merged, _) = merge(catalog, &leaves, traced)?;
        return finish(catalog, merged, query, version, Vec::new(), Vec::new());
    };
    let mut excluded = Vec::new();
    let mut warnings = Vec::new();
    let mut kept = Vec::new();
    for leaf in leaves {
        let failed = failures(&catalog.overlays[leaf].spec.constraints, snapshot);
        if failed.is_empty() {
            kept.push(leaf);
            continue;
        }
        excluded.push(ExcludedOverlay {
            name: leaf.to_string(),
            reason: ExclusionReason::ConstraintFailed,
        });
        warnings.extend(failed.into_iter().map(|(c, e)| warning(leaf, c, &e, "")));
    }
    let (mut merged, from_mixins) = merge(catalog, &kept, traced)?;
    let mut sorted: Vec<&Constraint> = merged
        .constraints
        .values()
        .filter(|c| from_mixins.contains(&c.name))
        .collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let failed = failures(sorted, snapshot);
    if !failed.is_empty() {
        let mut dropped = HashSet::new();
        for (constraint, evaluation) in failed {
            for leaf in leaves_naming(catalog, &kept, &constraint.name)? {
                dropped.insert(leaf);
                let reason = "mixin-constraint-failed: ";
                warnings.push(warning(leaf, constraint, &evaluation, reason));
            }
        }
        kept.retain(|leaf| {
            let drop = dropped.contains(leaf);
            if drop {
                excluded.push(ExcludedOverlay {
                    name: leaf.to_string(),
                    reason: ExclusionReason::MixinConstraintFailed,
                });
            }
            !drop
        });
        merged = merge(catalog, &kept, traced)?.0;
    }
    finish(catalog, merged, query, version, excluded, warnings)
}

/// The constraints of `constraints` that fail against `snapshot`, in order.
fn failures<'a>(
    constraints: impl IntoIterator<Item = &'a Constraint>,
    snapshot: &Snapshot,
) -> Vec<(&'a Constraint, Evaluation)> {
    constraints
        .into_iter()
        .map(|c| (c, evaluate(c, snapshot)))
        .filter(|(_, e)| !e.passed)
        .collect()
}

/// The warning for a failed constraint, worded as the reference words it.
fn warning(leaf: &str, c: &Constraint, e: &Evaluation, prefix: &str) -> ConstraintWarning {
    let why = e
        .error
        .clone()
        .unwrap_or_else(|| format!("expected {}, got {}", c.value, e.actual));
    ConstraintWarning {
        overlay: leaf.to_string(),
        constraint: c.name.clone(),
        expected: c.value.clone(),
        actual: e.actual.clone(),
        reason: format!("{prefix}{why}"),
    }
}

/// The leaves among `leaves` whose chain (`base` included) names a mixin
/// contributing the constraint `name`.
fn leaves_naming<'c>(catalog: &'c Catalog, leaves: &[&'c str], name: &str) -> Result<Vec<&'c str>> {
    let mut found = Vec::new();
    for leaf in leaves {
        let chain = chain(catalog, leaf)?;
        let names_it = chain
            .iter()
            .flat_map(|o| &catalog.overlays[*o].spec.mixins)
            .any(|m| {
                catalog
                    .mixins
                    .get(m)
                    .is_some_and(|m| m.spec.constraints.iter().any(|c| c.name == name))
            });
        if names_it {
            found.push(*leaf);
        }
    }
    if found.is_empty() {
        // Every mixin constraint comes from some chain that was merged.
        return Err(Error::internal(format!(
            "mixin constraint {name:?} maps to no candidate overlay"
        )));
    }
    Ok(found)
}

/// `base`, then each leaf's chain from the root down (an overlay shared by
/// two chains is merged once), then the mixins the merged overlays name.
/// Returns the names of the constraints the mixins contributed.
fn merge(catalog: &Catalog, leaves: &[&str], traced: bool) -> Result<(Merged, HashSet<String>)> {
    let mut merged = Merged {
        trace: traced.then(Box::default),
        ..Merged::default()
    };
    apply_overlay(catalog, &mut merged, BASE);
    for leaf in leaves {
        for name in chain(catalog, leaf)? {
            if !merged.applied.iter().any(|a| a == name) {
                apply_overlay(catalog, &mut merged, name);
            }
        }
    }
    let from_mixins = apply_mixins(catalog, &mut merged)?;
    Ok((merged, from_mixins))
}

fn finish(
    catalog: &Catalog,
    mut merged: Merged,
    query: &Criteria,
    version: &str,
    excluded_overlays: Vec<ExcludedOverlay>,
    constraint_warnings: Vec<ConstraintWarning>,
) -> Result<(RecipeResult, Option<MergeTrace>)> {
    let trace = merged.trace.take().map(|t| *t);
    let mut component_refs = Vec::with_capacity(merged.components.len());
    for (name, r) in &merged.components {
        component_refs.push(finish_component(r, catalog.components().registry.get(name)));
    }
    component_refs.sort_by(|a, b| a.name.cmp(&b.name));
    let deployment_order = deployment_order(
        component_refs
            .iter()
            .map(|c| (c.name.as_str(), c.dependency_refs.as_slice())),
    )?;
    let mut constraints: Vec<Constraint> = merged.constraints.into_values().collect();
    constraints.sort_by(|a, b| a.name.cmp(&b.name));
    let validation = (merged.validation != Validation::default()).then_some(merged.validation);

    let recipe = RecipeResult {
        kind: Kind::new(),
        api_version: ApiVersion::new(),
        metadata: RecipeResultMeta {
            version: version.into(),
            applied_overlays: merged.applied,
            excluded_overlays,
            constraint_warnings,
        },
        criteria: *query,
        constraints,
        component_refs,
        deployment_order,
        validation,
    };
    Ok((recipe, trace))
}

/// Overlays (not `base`) whose criteria match, minus ancestors of other
/// matches, least specific first, ties by name.
pub fn maximal_leaves<'c>(catalog: &'c Catalog, query: &Criteria) -> Result<Vec<&'c str>> {
    let matched: Vec<&str> = catalog
        .overlays
        .iter()
        .filter(|(name, o)| name.as_str() != BASE && o.spec.criteria.matches(query))
        .map(|(name, _)| name.as_str())
        .collect();
    let mut ancestors = HashSet::new();
    for name in &matched {
        let chain = chain(catalog, name)?;
        ancestors.extend(chain[..chain.len() - 1].iter().copied());
    }
    let mut leaves: Vec<&str> = matched
        .into_iter()
        .filter(|n| !ancestors.contains(n))
        .collect();
    leaves.sort_by_key(|n| (catalog.overlays[*n].spec.criteria.specificity(), *n));
    Ok(leaves)
}

/// The chain from `base` to `leaf` through `spec.base`. The loader has
/// checked every chain, so the errors only fire for a hand-built catalog.
pub fn chain<'c>(catalog: &'c Catalog, leaf: &str) -> Result<Vec<&'c str>> {
    match load::chain(&catalog.overlays, leaf, |o| o) {
        Chain::Ok(chain) => Ok(chain),
        Chain::Missing {
            child: None,
            parent,
        } => Err(Error::invalid(format!("overlay {parent:?} not found"))),
        Chain::Missing {
            child: Some(child),
            parent,
        } => Err(Error::invalid(format!(
            "{}: spec.base names {parent:?}, which is not an overlay",
            catalog
                .overlay_origins
                .get(child)
                .map_or(child, String::as_str)
        ))),
        Chain::Cycle(cycle) => Err(Error::invalid(format!(
            "circular inheritance: {}",
            cycle.join(" -> ")
        ))),
        Chain::TooDeep(names) => Err(Error::invalid(format!(
            "inheritance chain of {leaf:?} is deeper than {MAX_DEPTH} levels: {}",
            names.join(" -> ")
        ))),
    }
}

fn apply_overlay(catalog: &Catalog, merged: &mut Merged, name: &str) {
    let spec = &catalog.overlays[name].spec;
    if let Some(trace) = &mut merged.trace {
        trace.record(&Contributor::Overlay(name.to_string()), spec);
    }
    for c in &spec.constraints {
        merged.constraints.insert(c.name.clone(), c.clone());
    }
    for r in &spec.component_refs {
        match merged.components.get_mut(&r.name) {
            Some(into) => merge_component(into, r),
            None => {
                merged.components.insert(r.name.clone(), r.clone());
            }
        }
    }
    if let Some(v) = &spec.validation {
        let into = &mut merged.validation;
        for (slot, phase) in [
            (&mut into.readiness, &v.readiness),
            (&mut into.deployment, &v.deployment),
            (&mut into.performance, &v.performance),
            (&mut into.conformance, &v.conformance),
        ] {
            if phase.is_some() {
                slot.clone_from(phase);
            }
        }
    }
    for m in &spec.mixins {
        if !merged.mixins.contains(m) {
            merged.mixins.push(m.clone());
        }
    }
    merged.applied.push(name.to_string());
}

impl MergeTrace {
    fn record(&mut self, by: &Contributor, spec: &crate::model::OverlaySpec) {
        self.record_parts(by, &spec.constraints, &spec.component_refs);
        if let Some(v) = &spec.validation {
            for (name, phase) in v.phases() {
                if phase.is_some() {
                    self.validation.push((name, by.clone()));
                }
            }
        }
    }

    fn record_parts(
        &mut self,
        by: &Contributor,
        constraints: &[Constraint],
        refs: &[ComponentRef],
    ) {
        for c in constraints {
            self.constraints
                .entry(c.name.clone())
                .or_default()
                .push((by.clone(), c.clone()));
        }
        for r in refs {
            self.components
                .entry(r.name.clone())
                .or_insert_with(|| ComponentTrace {
                    added_by: by.clone(),
                    fields: IndexMap::new(),
                    overrides: Vec::new(),
                })
                .record(by, r);
        }
    }
}

fn apply_mixins(catalog: &Catalog, merged: &mut Merged) -> Result<HashSet<String>> {
    let mut contributed = HashSet::new();
    for name in std::mem::take(&mut merged.mixins) {
        let mixin = catalog
            .mixins
            .get(&name)
            .ok_or_else(|| Error::invalid(format!("mixin {name:?} not found")))?;
        if let Some(trace) = &mut merged.trace {
            let by = Contributor::Mixin(name.clone());
            trace.record_parts(&by, &mixin.spec.constraints, &mixin.spec.component_refs);
        }
        for c in &mixin.spec.constraints {
            if merged.constraints.contains_key(&c.name) {
                return Err(Error::invalid(format!(
                    "mixin {name:?} constraint {:?} conflicts with one already in the recipe",
                    c.name
                )));
            }
            merged.constraints.insert(c.name.clone(), c.clone());
            contributed.insert(c.name.clone());
        }
        for r in &mixin.spec.component_refs {
            if merged.components.contains_key(&r.name) {
                return Err(Error::invalid(format!(
                    "mixin {name:?} component {:?} conflicts with one already in the recipe",
                    r.name
                )));
            }
            merged.components.insert(r.name.clone(), r.clone());
        }
    }
    Ok(contributed)
}

/// Appends the names `from` adds, keeping order and dropping repeats.
fn union(into: &mut Option<Vec<String>>, from: &Option<Vec<String>>) {
    let Some(from) = from.as_ref().filter(|l| !l.is_empty()) else {
        return;
    };
    let into = into.get_or_insert_with(Vec::new);
    for item in from {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

/// Later wins for every scalar the later ref sets; overrides deep-merge;
/// dependencies and manifests accumulate; other lists are replaced.
fn merge_component(into: &mut ComponentRef, from: &ComponentRef) {
    fn text(into: &mut Option<String>, from: &Option<String>) {
        if from.as_deref().is_some_and(|s| !s.is_empty()) {
            into.clone_from(from);
        }
    }
    fn list<T: Clone>(into: &mut Option<Vec<T>>, from: &Option<Vec<T>>) {
        if from.as_ref().is_some_and(|l| !l.is_empty()) {
            into.clone_from(from);
        }
    }
    text(&mut into.namespace, &from.namespace);
    text(&mut into.chart, &from.chart);
    text(&mut into.source, &from.source);
    text(&mut into.version, &from.version);
    text(&mut into.tag, &from.tag);
    text(&mut into.values_file, &from.values_file);
    text(&mut into.path, &from.path);
    if from.kind.is_some() {
        into.kind = from.kind;
    }
    if from.cleanup == Some(true) {
        into.cleanup = Some(true);
    }
    if let Some(over) = &from.overrides {
        deep_merge(into.overrides.get_or_insert_with(Default::default), over);
    }
    list(&mut into.patches, &from.patches);
    list(&mut into.expected_resources, &from.expected_resources);
    union(&mut into.dependency_refs, &from.dependency_refs);
    union(&mut into.manifest_files, &from.manifest_files);
    union(&mut into.pre_manifest_files, &from.pre_manifest_files);
}

/// Turns a merged ref into its output form, filling gaps from the registry.
fn finish_component(r: &ComponentRef, registry: Option<&RegistryEntry>) -> ResolvedComponent {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let l = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
    let mut out = ResolvedComponent {
        name: r.name.clone(),
        namespace: s(&r.namespace),
        chart: s(&r.chart),
        kind: r.kind.unwrap_or_default(),
        source: s(&r.source),
        version: s(&r.version),
        tag: s(&r.tag),
        values_file: s(&r.values_file),
        overrides: r.overrides.clone().unwrap_or_default(),
        patches: l(&r.patches),
        dependency_refs: l(&r.dependency_refs),
        manifest_files: l(&r.manifest_files),
        pre_manifest_files: l(&r.pre_manifest_files),
        path: s(&r.path),
        cleanup: r.cleanup.unwrap_or(false),
        expected_resources: r.expected_resources.clone().unwrap_or_default(),
    };
    let Some(entry) = registry else {
        return out;
    };
    if r.kind.is_none() && entry.helm.is_none() && entry.kustomize.is_some() {
        out.kind = crate::model::ComponentType::Kustomize;
    }
    fn fill(slot: &mut String, default: &str) {
        if slot.is_empty() && !default.is_empty() {
            *slot = default.to_string();
        }
    }
    match out.kind {
        crate::model::ComponentType::Helm => {
            if let Some(h) = &entry.helm {
                fill(&mut out.source, &h.default_repository);
                fill(&mut out.version, &h.default_version);
                fill(&mut out.namespace, &h.default_namespace);
                let chart = h.default_chart.rsplit('/').next().unwrap_or_default();
                fill(&mut out.chart, chart);
            }
        }
        crate::model::ComponentType::Kustomize => {
            if let Some(k) = &entry.kustomize {
                fill(&mut out.source, &k.default_source);
                fill(&mut out.tag, &k.default_tag);
                fill(&mut out.path, &k.default_path);
            }
        }
    }
    if out.manifest_files.is_empty() {
        out.manifest_files.clone_from(&entry.manifest_files);
    }
    out
}
