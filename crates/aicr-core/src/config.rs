//! The `AICRConfig` document (`--config`): defaults for the flags of
//! `recipe`, `bundle` and `validate`. Decoding is strict and the semantic
//! checks are the reference's; explicit CLI flags win over it.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::criteria::{Accelerator, Intent, Os, Platform, Service};
use crate::error::{Error, Result};
use crate::header::{ApiVersion, Document, Kind};
use crate::output::Format;

/// An `AICRConfig` document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AicrConfig {
    /// Always `AICRConfig`.
    pub kind: Kind<AicrConfig>,
    /// Always `aicr.nvidia.com/v1alpha1`.
    pub api_version: ApiVersion<AicrConfig>,
    /// Optional name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ConfigMeta>,
    /// The defaults.
    pub spec: ConfigSpec,
}

impl Document for AicrConfig {
    const KIND: &'static str = "AICRConfig";
}

/// `metadata` of a config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigMeta {
    /// Name of the config.
    #[serde(default)]
    pub name: String,
}

/// `spec` of a config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// Defaults for `aicr recipe` and `aicr query`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<RecipeConfig>,
    /// Defaults for `aicr bundle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<BundleConfig>,
    /// Defaults for `aicr validate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<serde_json::Value>,
}

/// `spec.recipe`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipeConfig {
    /// Query criteria.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria: Option<CriteriaConfig>,
    /// Snapshot input (exclusive with criteria).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<RecipeInput>,
    /// Output destination and format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputConfig>,
    /// External data directory (`--data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// Criteria as written in a config (validated on load).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CriteriaConfig {
    /// Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Accelerator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerator: Option<String>,
    /// Intent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// OS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// GPU node count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<i64>,
}

/// `spec.recipe.input`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipeInput {
    /// Snapshot source.
    #[serde(default)]
    pub snapshot: String,
}

/// An output destination.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// File path, `-`, or `cm://ns/name`.
    #[serde(default)]
    pub path: String,
    /// yaml, json or table.
    #[serde(default)]
    pub format: String,
}

/// `spec.bundle`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BundleConfig {
    /// Recipe input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<BundleInput>,
    /// Output target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<BundleOutput>,
    /// Deployer settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<BundleDeployment>,
    /// Node scheduling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling: Option<BundleScheduling>,
    /// Signing settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<serde_json::Value>,
    /// OCI registry settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<serde_json::Value>,
}

/// `spec.bundle.input`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleInput {
    /// Recipe source.
    #[serde(default)]
    pub recipe: String,
}

/// `spec.bundle.output`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BundleOutput {
    /// Output directory or `oci://` reference.
    #[serde(default)]
    pub target: String,
    /// Image references file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_refs: String,
}

/// `spec.bundle.deployment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BundleDeployment {
    /// helm, argocd, argocd-helm, flux or helmfile.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub deployer: String,
    /// GitOps repository URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repo: String,
    /// `--set` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    /// `--dynamic` paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dynamic: Vec<String>,
    /// Vendor charts into the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_charts: Option<bool>,
}

/// `spec.bundle.scheduling`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BundleScheduling {
    /// System node selector.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub system_node_selector: IndexMap<String, String>,
    /// System node tolerations (`key=value:Effect`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system_node_tolerations: Vec<String>,
    /// Accelerated node selector.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub accelerated_node_selector: IndexMap<String, String>,
    /// Accelerated node tolerations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accelerated_node_tolerations: Vec<String>,
    /// Workload gate taint.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub workload_gate: String,
    /// Workload selector.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub workload_selector: IndexMap<String, String>,
    /// GPU node count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<i64>,
    /// Storage class.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub storage_class: String,
}

impl AicrConfig {
    /// Parses and checks a config; `json` selects the JSON decoder.
    pub fn parse(text: &str, origin: &str, json: bool) -> Result<Self> {
        let config: AicrConfig = if json {
            serde_json::from_str(text).map_err(|e| Error::invalid(format!("{origin}: {e}")))?
        } else {
            crate::yaml::parse_str(text, origin)?
        };
        config.check(origin)?;
        Ok(config)
    }

    fn check(&self, origin: &str) -> Result<()> {
        let fail = |msg: String| Err(Error::invalid(format!("{origin}: {msg}")));
        let spec = &self.spec;
        if spec.recipe.is_none() && spec.bundle.is_none() && spec.validate.is_none() {
            return fail("spec must set at least one of recipe, bundle, validate".into());
        }
        if let Some(recipe) = &spec.recipe {
            if recipe.criteria.is_some()
                && recipe
                    .input
                    .as_ref()
                    .is_some_and(|i| !i.snapshot.is_empty())
            {
                return fail(
                    "spec.recipe.criteria and spec.recipe.input.snapshot are mutually exclusive"
                        .into(),
                );
            }
            if let Some(c) = &recipe.criteria {
                c.criteria()
                    .map_err(|e| e.context(format!("{origin}: spec.recipe.criteria")))?;
            }
            if let Some(out) = recipe.output.as_ref().filter(|o| !o.format.is_empty()) {
                Format::parse(&out.format)
                    .map_err(|e| e.context(format!("{origin}: spec.recipe.output.format")))?;
            }
        }
        if let Some(n) = spec
            .bundle
            .as_ref()
            .and_then(|b| b.scheduling.as_ref())
            .and_then(|s| s.nodes)
            && n < 0
        {
            return fail("spec.bundle.scheduling.nodes must be at least 0".into());
        }
        Ok(())
    }
}

impl CriteriaConfig {
    /// The criteria this config gives, each field parsed.
    pub fn criteria(&self) -> Result<crate::Criteria> {
        self.over(crate::Criteria::default())
    }

    /// `base` with each field this config gives replaced: a blank value
    /// and a node count of 0 mean "not given", so they keep `base`'s
    /// (how config values and flags lie over snapshot-derived criteria).
    pub fn over(&self, base: crate::Criteria) -> Result<crate::Criteria> {
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|s| !s.trim().is_empty())
        }
        let nodes = self.nodes.unwrap_or(0);
        if nodes < 0 {
            return Err(Error::invalid("nodes must be a non-negative integer"));
        }
        let mut c = base;
        if let Some(v) = given(&self.service) {
            c.service = Service::parse_flag(v)?;
        }
        if let Some(v) = given(&self.accelerator) {
            c.accelerator = Accelerator::parse(v)?;
        }
        if let Some(v) = given(&self.intent) {
            c.intent = Intent::parse(v)?;
        }
        if let Some(v) = given(&self.os) {
            c.os = Os::parse(v)?;
        }
        if let Some(v) = given(&self.platform) {
            c.platform = Platform::parse(v)?;
        }
        if nodes > 0 {
            c.nodes = u32::try_from(nodes).unwrap_or(u32::MAX);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    const GOOD: &str = "kind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  recipe:\n    criteria:\n      service: eks\n      accelerator: h100\n";

    #[test]
    fn good_config_parses() {
        let c = AicrConfig::parse(GOOD, "c.yaml", false).unwrap();
        let criteria = c.spec.recipe.unwrap().criteria.unwrap().criteria().unwrap();
        assert_eq!(criteria.service, Service::Eks);
    }

    #[test]
    fn bad_configs_are_invalid_requests() {
        let cases = [
            GOOD.replace("AICRConfig", "NotARealKind"),
            GOOD.replace("service: eks", "service: eks\n      foo: 1"),
            GOOD.replace("service: eks", "service: windows"),
            format!("{GOOD}    input:\n      snapshot: s.yaml\n"),
            "kind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec: {}\n".to_string(),
        ];
        for text in cases {
            let err = AicrConfig::parse(&text, "c.yaml", false).unwrap_err();
            assert_eq!(err.code(), Code::InvalidRequest, "{text}");
            assert!(err.to_string().contains("c.yaml"), "{err}");
        }
    }
}
