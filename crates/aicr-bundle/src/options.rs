//! Bundle options and the parsers of their flag grammars.

use indexmap::IndexMap;
use serde_json::{Value, json};

use aicr_core::error::{Error, Result};
use aicr_core::values::SetOverride;

/// Which deployment tool the bundle is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deployer {
    /// Numbered folders with install scripts and deploy.sh.
    #[default]
    Helm,
    /// App-of-apps plus one Application per folder.
    Argocd,
    /// The bundle as a Helm chart of Applications.
    ArgocdHelm,
    /// HelmReleases with dependsOn and sources.
    Flux,
    /// helmfile.yaml with a release graph.
    Helmfile,
}

impl Deployer {
    /// Every deployer, in `--deployer` help order.
    pub const ALL: [Deployer; 5] = [
        Deployer::Helm,
        Deployer::Helmfile,
        Deployer::Argocd,
        Deployer::ArgocdHelm,
        Deployer::Flux,
    ];

    /// Parses a `--deployer` value.
    pub fn parse(input: &str) -> Result<Self> {
        match input.trim() {
            "helm" => Ok(Deployer::Helm),
            "argocd" => Ok(Deployer::Argocd),
            "argocd-helm" => Ok(Deployer::ArgocdHelm),
            "flux" => Ok(Deployer::Flux),
            "helmfile" => Ok(Deployer::Helmfile),
            other => Err(Error::invalid(format!(
                "invalid deployer type {other:?}: must be one of [helm argocd argocd-helm flux helmfile]"
            ))),
        }
    }

    /// The flag value of this deployer.
    pub fn as_str(self) -> &'static str {
        match self {
            Deployer::Helm => "helm",
            Deployer::Argocd => "argocd",
            Deployer::ArgocdHelm => "argocd-helm",
            Deployer::Flux => "flux",
            Deployer::Helmfile => "helmfile",
        }
    }
}

/// A Kubernetes toleration from `key[=value]:Effect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toleration {
    /// Taint key.
    pub key: String,
    /// Taint value; `None` means `operator: Exists`.
    pub value: Option<String>,
    /// Which taint effect is tolerated.
    pub effect: Effect,
}

/// A taint effect. Kubernetes reads an empty effect as "every effect", but
/// the flag grammar (like the reference's) requires one, so there is no
/// variant for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `NoSchedule`.
    NoSchedule,
    /// `PreferNoSchedule`.
    PreferNoSchedule,
    /// `NoExecute`.
    NoExecute,
}

impl Effect {
    /// Parses the exact Kubernetes spelling.
    pub fn parse(input: &str) -> Option<Self> {
        match input {
            "NoSchedule" => Some(Effect::NoSchedule),
            "PreferNoSchedule" => Some(Effect::PreferNoSchedule),
            "NoExecute" => Some(Effect::NoExecute),
            _ => None,
        }
    }

    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::NoSchedule => "NoSchedule",
            Effect::PreferNoSchedule => "PreferNoSchedule",
            Effect::NoExecute => "NoExecute",
        }
    }
}

impl std::fmt::Display for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Toleration {
    /// Parses `key=value:Effect` or `key:Effect`.
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "invalid toleration format {input:?}: {why} (expected key=value:Effect or key:Effect)"
            ))
        };
        let (kv, effect) = input
            .rsplit_once(':')
            .ok_or_else(|| bad("missing ':Effect'"))?;
        let effect = Effect::parse(effect)
            .ok_or_else(|| bad("effect must be NoSchedule, PreferNoSchedule or NoExecute"))?;
        let (key, value) = match kv.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (kv, None),
        };
        if key.trim().is_empty() {
            return Err(bad("empty key"));
        }
        Ok(Toleration {
            key: key.to_string(),
            value,
            effect,
        })
    }

    /// The toleration as Helm values (`{effect, key, operator, value}`).
    pub fn to_value(&self) -> Value {
        match &self.value {
            Some(v) => {
                json!({"effect": self.effect.as_str(), "key": self.key, "operator": "Equal", "value": v})
            }
            None => json!({"effect": self.effect.as_str(), "key": self.key, "operator": "Exists"}),
        }
    }

    /// The taint text form: `key=value:Effect` or `key:Effect`.
    pub fn taint_string(&self) -> String {
        match &self.value {
            Some(v) => format!("{}={v}:{}", self.key, self.effect),
            None => format!("{}:{}", self.key, self.effect),
        }
    }
}

/// Parses a `key=value` selector flag into `map`.
pub fn parse_selector(input: &str, map: &mut IndexMap<String, String>) -> Result<()> {
    match input.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => {
            map.insert(k.trim().to_string(), v.trim().to_string());
            Ok(())
        }
        _ => Err(Error::invalid(format!(
            "invalid node selector format {input:?}: expected key=value"
        ))),
    }
}

/// A `--dynamic component:dotted.path`: a value supplied at install time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicPath {
    /// Component name or registry alias, as written.
    pub component: String,
    /// Dotted path into the component's values.
    pub path: Vec<String>,
}

impl DynamicPath {
    /// Parses `component:dotted.path`.
    pub fn parse(input: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(format!(
                "invalid --dynamic format {input:?}: expected component:path"
            ))
        };
        let (component, path) = input.split_once(':').ok_or_else(bad)?;
        let (component, path) = (component.trim(), path.trim());
        if component.is_empty() || path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(bad());
        }
        let max = aicr_core::values::MAX_PATH_SEGMENTS;
        if path.split('.').count() > max {
            return Err(Error::invalid(format!(
                "invalid --dynamic for component {:?}: the path has more than {max} segments",
                aicr_core::error::escape(component)
            )));
        }
        Ok(DynamicPath {
            component: component.to_string(),
            path: path.split('.').map(str::to_string).collect(),
        })
    }
}

/// Everything that shapes a bundle besides the recipe.
#[derive(Debug, Clone, Default)]
pub struct BundleOptions {
    /// Target deployment tool.
    pub deployer: Deployer,
    /// GitOps repository URL (argocd, flux).
    pub repo: Option<String>,
    /// `--set` assignments, in order.
    pub sets: Vec<SetOverride>,
    /// `--dynamic` paths.
    pub dynamic: Vec<DynamicPath>,
    /// `--system-node-selector`.
    pub system_node_selector: IndexMap<String, String>,
    /// `--system-node-toleration`.
    pub system_node_tolerations: Vec<Toleration>,
    /// `--accelerated-node-selector`.
    pub accelerated_node_selector: IndexMap<String, String>,
    /// `--accelerated-node-toleration`.
    pub accelerated_node_tolerations: Vec<Toleration>,
    /// `--workload-gate`.
    pub workload_gate: Option<Toleration>,
    /// `--workload-selector`.
    pub workload_selector: IndexMap<String, String>,
    /// `--storage-class`.
    pub storage_class: Option<String>,
    /// `--nodes`; 0 means not given.
    pub nodes: u32,
    /// Text stamped into generated prose (`Generated by AICR <version>`).
    pub tool_version: String,
    /// `--vendor-charts`: install every chart from an archive in the
    /// bundle (see [`crate::vendor`]).
    pub vendor_charts: bool,
    /// The revision Argo CD syncs the bundle at (`targetRevision`); the
    /// pushed tag for OCI output, else `main`.
    pub target_revision: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn very_deep_dynamic_paths_are_refused() {
        let deep = format!("c:{}", vec!["a"; 20_000].join("."));
        let err = DynamicPath::parse(&deep).unwrap_err();
        assert!(err.to_string().len() < 400);
    }

    #[test]
    fn tolerations_parse_both_forms() {
        let t = Toleration::parse("dedicated=gpu:NoSchedule").unwrap();
        assert_eq!(
            t.to_value(),
            json!({"effect":"NoSchedule","key":"dedicated","operator":"Equal","value":"gpu"})
        );
        let t = Toleration::parse("nvidia.com/gpu:NoExecute").unwrap();
        assert_eq!(t.to_value()["operator"], "Exists");
        assert!(Toleration::parse("foo=bar").is_err());
        assert!(Toleration::parse("foo=bar:Sometimes").is_err());
    }

    #[test]
    fn toleration_effect_keeps_its_spelling_and_must_be_given() {
        for effect in ["NoSchedule", "PreferNoSchedule", "NoExecute"] {
            let t = Toleration::parse(&format!("k=v:{effect}")).unwrap();
            assert_eq!(t.effect.as_str(), effect);
            assert_eq!(t.taint_string(), format!("k=v:{effect}"));
        }
        assert!(Toleration::parse("k=v:").is_err());
        assert!(Toleration::parse("k:noschedule").is_err());
    }

    #[test]
    fn unknown_deployer_is_rejected() {
        assert_eq!(
            Deployer::parse("argocd-helm").unwrap(),
            Deployer::ArgocdHelm
        );
        assert!(
            Deployer::parse("nope")
                .unwrap_err()
                .to_string()
                .contains("invalid deployer type")
        );
    }
}
