//! Strict document types of the catalog: overlays (`RecipeMetadata`),
//! mixins (`RecipeMixin`), the component registry and the validator
//! catalog. Unknown fields are rejected so a misspelled key fails loudly.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::criteria::Criteria;
pub use crate::header::{API_VERSION, ApiVersion, Document, Kind, VALIDATOR_API_VERSION};

/// Helm values: an ordered JSON-like map.
pub type Values = serde_json::Map<String, Value>;

/// `metadata` of a catalog document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectMeta {
    /// Unique name of the document.
    pub name: String,
}

impl Document for RecipeMetadata {
    const KIND: &'static str = "RecipeMetadata";
}

/// An overlay: criteria, a parent, constraints, components and validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecipeMetadata {
    /// Always `RecipeMetadata`.
    pub kind: Kind<RecipeMetadata>,
    /// Always `aicr.nvidia.com/v1alpha1`.
    pub api_version: ApiVersion<RecipeMetadata>,
    /// Name of the overlay.
    pub metadata: ObjectMeta,
    /// Body of the overlay.
    pub spec: OverlaySpec,
}

/// Body of an overlay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OverlaySpec {
    /// Parent overlay; empty means `base`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub base: String,
    /// When this overlay applies.
    #[serde(default)]
    pub criteria: Criteria,
    /// Mixins composed into the recipe when this overlay is applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mixins: Vec<String>,
    /// Constraints on the measured environment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// Components, merged by name through the chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub component_refs: Vec<ComponentRef>,
    /// Validation phases; each set phase replaces the earlier one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
}

impl Document for RecipeMixin {
    const KIND: &'static str = "RecipeMixin";
}

/// A mixin: constraints and components composed into leaf overlays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecipeMixin {
    /// Always `RecipeMixin`.
    pub kind: Kind<RecipeMixin>,
    /// Always `aicr.nvidia.com/v1alpha1`.
    pub api_version: ApiVersion<RecipeMixin>,
    /// Name of the mixin.
    pub metadata: ObjectMeta,
    /// Body of the mixin.
    pub spec: MixinSpec,
}

/// Body of a mixin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MixinSpec {
    /// Constraints added by the mixin.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// Components added by the mixin.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub component_refs: Vec<ComponentRef>,
}

/// A named expectation on a measurement (`K8s.server.version >= 1.32`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Constraint {
    /// Fully qualified measurement path, or a validator metric name.
    pub name: String,
    /// Expression: `>= 1.32`, `ubuntu`, `!= x`, ...
    pub value: String,
    /// How bad a failure is; unset means `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// What to do when the constraint fails.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remediation: String,
    /// Unit of a numeric constraint.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
}

/// How bad a failed constraint or a fired check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails anything.
    Info,
    /// Reported, does not fail.
    Warning,
    /// Fails.
    Error,
}

/// How a component is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
pub enum ComponentType {
    /// A Helm chart (or a manifest-only local chart).
    #[default]
    Helm,
    /// A Kustomize build.
    Kustomize,
}

/// A Kubernetes object that must exist after deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectedResource {
    /// Kind of the object.
    pub kind: String,
    /// Name of the object.
    pub name: String,
    /// Namespace of the object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

/// A deployable component as written in an overlay or mixin; every field
/// but `name` is optional so later overlays can set just what they change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComponentRef {
    /// Unique component name (a registry entry).
    pub name: String,
    /// Target namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Helm chart name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    /// Deployment type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<ComponentType>,
    /// Repository URL or OCI reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Chart version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Kustomize tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Values file, relative to the catalog root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_file: Option<String>,
    /// Inline values, deep-merged over the values file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<Values>,
    /// Kustomize patch files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<String>>,
    /// Components that must be deployed first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency_refs: Option<Vec<String>>,
    /// Manifests applied after the chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_files: Option<Vec<String>>,
    /// Manifests applied before the chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_manifest_files: Option<Vec<String>>,
    /// Kustomize path within the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Uninstall after validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<bool>,
    /// Objects the deployment phase checks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_resources: Option<Vec<ExpectedResource>>,
}

/// Validation phases of a recipe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    /// Pre-flight checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<ValidationPhase>,
    /// Checks after deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<ValidationPhase>,
    /// Performance checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<ValidationPhase>,
    /// Conformance checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conformance: Option<ValidationPhase>,
}

impl Validation {
    /// Each phase with its name, in recipe order.
    pub fn phases(&self) -> [(&'static str, &Option<ValidationPhase>); 4] {
        [
            ("readiness", &self.readiness),
            ("deployment", &self.deployment),
            ("performance", &self.performance),
            ("conformance", &self.conformance),
        ]
    }
}

/// One validation phase: named checks and their thresholds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidationPhase {
    /// Validator names from the validator catalog.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// Thresholds for the checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
}

impl Document for ComponentRegistry {
    const KIND: &'static str = "ComponentRegistry";
}

/// The component registry: defaults and injection paths per component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComponentRegistry {
    /// Always `ComponentRegistry`.
    pub kind: Kind<ComponentRegistry>,
    /// Always `aicr.nvidia.com/v1alpha1`.
    pub api_version: ApiVersion<ComponentRegistry>,
    /// Registry entries.
    pub components: Vec<RegistryEntry>,
}

/// One component of the registry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistryEntry {
    /// Component name.
    pub name: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// Aliases accepted by `--set alias:path=value`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_override_keys: Vec<String>,
    /// Chainsaw health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// Helm defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmDefaults>,
    /// Kustomize defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kustomize: Option<KustomizeDefaults>,
    /// Default manifests when a recipe names none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifest_files: Vec<String>,
    /// Test tier override for component tests.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub test_tier: String,
    /// Where node selectors and tolerations are written in the values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_scheduling: Option<NodeScheduling>,
    /// Where workload selectors are written in the values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_scheduling: Option<PodScheduling>,
    /// Where `--storage-class` is written in the values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage_class_paths: Vec<String>,
    /// Advisory checks run at bundle time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validations: Vec<RegistryValidation>,
}

/// Reference to a health-check file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HealthCheck {
    /// Chainsaw assert file, relative to the catalog root.
    pub assert_file: String,
}

/// Helm defaults of a registry entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HelmDefaults {
    /// Chart repository; empty for manifest-only components.
    #[serde(default)]
    pub default_repository: String,
    /// Chart name, possibly `repo/chart`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_chart: String,
    /// Chart version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_version: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_namespace: String,
}

/// Kustomize defaults of a registry entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KustomizeDefaults {
    /// Git repository or OCI reference.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_source: String,
    /// Path to the kustomization.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_path: String,
    /// Git tag, branch or commit.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_tag: String,
}

/// Value paths for node scheduling flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeScheduling {
    /// System (control-plane style) pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SchedulingPaths>,
    /// Pods that run on GPU nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerated: Option<SchedulingPaths>,
    /// Where `--nodes` is written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_count_paths: Vec<String>,
}

/// Value paths for one class of nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulingPaths {
    /// Paths that receive the node selector map.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_selector_paths: Vec<String>,
    /// Paths that receive the toleration list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub toleration_paths: Vec<String>,
    /// Paths that receive a taint as `key=value:Effect` text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taint_str_paths: Vec<String>,
}

/// Value paths for workload pod scheduling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodScheduling {
    /// Workload pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadScheduling>,
}

/// Value paths for the workload selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadScheduling {
    /// Paths that receive `--workload-selector`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workload_selector_paths: Vec<String>,
}

/// An advisory check the bundler runs for a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryValidation {
    /// Name of the check function.
    pub function: String,
    /// How loudly the check reports; unset means the bundler's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Criteria dimension → values under which the check applies.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub conditions: IndexMap<String, Vec<String>>,
    /// Message shown when the check fires.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl Document for ValidatorCatalog {
    const KIND: &'static str = "ValidatorCatalog";
    const API_VERSION: &'static str = VALIDATOR_API_VERSION;
}

/// The validator catalog: container images that implement checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValidatorCatalog {
    /// Always `validator.nvidia.com/v1alpha1`.
    pub api_version: ApiVersion<ValidatorCatalog>,
    /// Always `ValidatorCatalog`.
    pub kind: Kind<ValidatorCatalog>,
    /// Catalog name and version.
    pub metadata: CatalogMeta,
    /// The validators.
    pub validators: Vec<Validator>,
}

/// `metadata` of the validator catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogMeta {
    /// Catalog name.
    pub name: String,
    /// Catalog version.
    pub version: String,
}

/// One validator container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Validator {
    /// Check name used in recipes.
    pub name: String,
    /// `deployment`, `performance` or `conformance`.
    pub phase: String,
    /// What the check verifies.
    #[serde(default)]
    pub description: String,
    /// Container image.
    pub image: String,
    /// Timeout as a Go duration (`2m`).
    #[serde(default)]
    pub timeout: String,
    /// Container arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Container environment.
    #[serde(default)]
    pub env: Vec<EnvVar>,
}

/// An environment variable of a validator container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    /// Variable name.
    pub name: String,
    /// Variable value.
    #[serde(default)]
    pub value: String,
}

impl Document for ExternalManifests {
    const KIND: &'static str = "ExternalManifests";
}

/// `external-manifests.yaml`: third-party files the catalog names by URL and
/// digest instead of embedding a copy; fetched and verified at bundle time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalManifests {
    /// Always `aicr.nvidia.com/v1alpha1`.
    pub api_version: ApiVersion<ExternalManifests>,
    /// Always `ExternalManifests`.
    pub kind: Kind<ExternalManifests>,
    /// The files.
    pub files: Vec<ExternalFile>,
}

/// One externally hosted catalog file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalFile {
    /// Catalog-relative path recipes use for it.
    pub path: String,
    /// Where to download it.
    pub url: String,
    /// Upstream release version.
    pub version: String,
    /// Lowercase hex SHA-256 the content must have.
    pub sha256: String,
}
