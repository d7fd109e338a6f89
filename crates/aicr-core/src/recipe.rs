//! The resolved recipe (`RecipeResult`): what `aicr recipe` prints and what
//! bundles are made from.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::criteria::Criteria;
use crate::header::{ApiVersion, Document, Kind};
use crate::model::{ComponentType, Constraint, ExpectedResource, Validation, Values};

impl Document for RecipeResult {
    const KIND: &'static str = "RecipeResult";
}

/// A fully resolved recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecipeResult {
    /// Always `RecipeResult`; may be left out of a recipe file.
    #[serde(default)]
    pub kind: Kind<RecipeResult>,
    /// Always `aicr.nvidia.com/v1alpha1`.
    pub api_version: ApiVersion<RecipeResult>,
    /// Version and provenance.
    pub metadata: RecipeResultMeta,
    /// The query that produced this recipe; a recipe file may leave it out
    /// (the reference's outputs in the conformance corpus do).
    #[serde(default)]
    pub criteria: Criteria,
    /// Merged constraints, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// Resolved components, sorted by name.
    #[serde(default)]
    pub component_refs: Vec<ResolvedComponent>,
    /// Component names in dependency order.
    #[serde(default)]
    pub deployment_order: Vec<String>,
    /// Validation phases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
}

/// `metadata` of a [`RecipeResult`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecipeResultMeta {
    /// Version of the tool that resolved the recipe.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Overlays merged, `base` first, in merge order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_overlays: Vec<String>,
    /// Overlays that matched but were dropped because their constraints
    /// failed against a snapshot; only a recipe built from one has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_overlays: Vec<ExcludedOverlay>,
    /// Each failed constraint behind an excluded overlay.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraint_warnings: Vec<ConstraintWarning>,
}

/// An overlay that matched the criteria but was left out of the recipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExcludedOverlay {
    /// The overlay (a maximal leaf; its whole chain is left out with it).
    pub name: String,
    /// Which check left it out.
    pub reason: ExclusionReason,
}

/// Why an overlay was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExclusionReason {
    /// One of its own constraints failed.
    ConstraintFailed,
    /// A constraint a mixin of its chain contributes failed.
    MixinConstraintFailed,
}

/// One constraint that failed against the snapshot, and the overlay it
/// excluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstraintWarning {
    /// The excluded overlay.
    pub overlay: String,
    /// The constraint's path (`OS.sysctl./proc/sys/kernel/osrelease`).
    pub constraint: String,
    /// Its expression (`>= 6.8`).
    pub expected: String,
    /// The reading found; absent when the snapshot lacks it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actual: String,
    /// Why it failed, in words.
    pub reason: String,
}

/// A component after merging the chain and applying registry defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResolvedComponent {
    /// Component name.
    pub name: String,
    /// Target namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Helm chart name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chart: String,
    /// Deployment type.
    #[serde(rename = "type", default)]
    pub kind: ComponentType,
    /// Repository URL or OCI reference; empty for manifest-only components.
    #[serde(default)]
    pub source: String,
    /// Chart version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Kustomize tag.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tag: String,
    /// Values file, relative to the catalog root.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub values_file: String,
    /// Inline values merged through the chain.
    #[serde(default, skip_serializing_if = "Values::is_empty")]
    pub overrides: Values,
    /// Kustomize patch files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<String>,
    /// Components deployed before this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependency_refs: Vec<String>,
    /// Manifests applied after the chart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifest_files: Vec<String>,
    /// Manifests applied before the chart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_manifest_files: Vec<String>,
    /// Kustomize path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Uninstall after validation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cleanup: bool,
    /// Objects the deployment phase checks for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected_resources: Vec<ExpectedResource>,
}

impl ResolvedComponent {
    /// False when the overrides switch the component off (`enabled: false`).
    pub fn is_enabled(&self) -> bool {
        !["enabled", "install"]
            .iter()
            .any(|k| self.overrides.get(*k) == Some(&serde_json::Value::Bool(false)))
    }
}
