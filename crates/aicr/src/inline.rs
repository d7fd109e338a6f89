//! Requests whose documents arrive inline, as text inside the request
//! rather than as paths or URLs: the MCP server's tool arguments. Each
//! derives `Deserialize` (unknown fields refused) and `JsonSchema`, so the
//! schema a tool advertises is generated from the type that parses its
//! arguments. Nothing here reads a file, the network or the environment.

use aicr_bundle::FileTree;
use aicr_core::diff::DiffReport;
use aicr_core::snapshot::Snapshot;
use aicr_core::validate::CtrfReport;
use aicr_core::{Error, RecipeResult, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::request::{BundleRequest, CriteriaFlags, ValidateRequest};
use crate::{Client, FetchedFiles};

/// The allowed values of each criteria dimension, for a caller to choose
/// from before asking for a recipe.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CriteriaValues {
    /// Kubernetes services.
    pub service: Vec<&'static str>,
    /// GPUs.
    pub accelerator: Vec<&'static str>,
    /// Worker operating systems.
    pub os: Vec<&'static str>,
    /// Workload intents.
    pub intent: Vec<&'static str>,
    /// Platforms.
    pub platform: Vec<&'static str>,
}

/// The specific values of every criteria dimension (`any` is always
/// accepted too), in the reference's alphabetical order.
pub fn criteria_values() -> CriteriaValues {
    use aicr_core::criteria::{Accelerator, Intent, Os, Platform, Service};
    CriteriaValues {
        service: Service::VALUES.to_vec(),
        accelerator: Accelerator::VALUES.to_vec(),
        os: Os::VALUES.to_vec(),
        intent: Intent::VALUES.to_vec(),
        platform: Platform::VALUES.to_vec(),
    }
}

/// A request without arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

/// Part of the hydrated recipe for some criteria (`aicr query`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct QueryRequest {
    /// The environment to resolve.
    pub criteria: CriteriaFlags,
    /// Dot path into the hydrated recipe
    /// (`components.gpu-operator.values.driver`); empty or `.` for all.
    pub selector: String,
}

/// Why the recipe for some criteria is what it is (`aicr recipe
/// --explain`, `aicr query --explain`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ExplainRequest {
    /// The environment to resolve.
    pub criteria: CriteriaFlags,
    /// The part to explain: `components.NAME`, `components.NAME.values[.PATH]`
    /// (every source of each value at or under PATH, in order, the last one
    /// winning), `components.NAME.FIELD` (`version`, `namespace`, ...),
    /// `constraints.NAME`; empty or `.` for the whole explanation (every
    /// overlay and why it matched or not, the leaves and their chains, and
    /// every component, constraint and value).
    pub selector: String,
}

impl Client {
    /// The explanation `request` asks for (see [`Client::explain`]), as a
    /// document.
    pub fn explain_inline(&self, request: &ExplainRequest) -> Result<Value> {
        let (_, explanation) = self.explain(&some_criteria(&request.criteria)?, None)?;
        aicr_core::explain::select(&explanation, &request.selector)
    }
}

/// A bundle rendered in memory (`aicr bundle`, never written anywhere).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RenderRequest {
    /// The environment to resolve the recipe for; give this or `recipe`.
    pub criteria: Option<CriteriaFlags>,
    /// A recipe document as YAML or JSON text (a RecipeResult, or a
    /// RecipeMetadata with spec.criteria); give this or `criteria`.
    pub recipe: Option<String>,
    /// How to render, in the flag grammars of `aicr bundle`.
    pub bundle: BundleRequest,
    /// Bundle paths whose contents to return (see the file list).
    pub files: Vec<String>,
}

/// A recipe checked against a snapshot (`aicr validate`), both inline.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct InlineValidateRequest {
    /// The recipe document as YAML or JSON text.
    pub recipe: String,
    /// The snapshot document as YAML or JSON text.
    pub snapshot: String,
    /// Phases (deployment, performance, conformance, all) whose checks are
    /// listed as skipped; needs `no_cluster`.
    pub phases: Vec<String>,
    /// Check the snapshot only; list the phases' checks as skipped.
    pub no_cluster: bool,
}

/// Two snapshots to compare (`aicr diff`), both inline.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct InlineDiffRequest {
    /// The earlier snapshot as YAML or JSON text.
    pub baseline: String,
    /// The later snapshot as YAML or JSON text.
    pub target: String,
}

/// One file of a rendered bundle.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BundleFile {
    /// Path inside the bundle.
    pub path: String,
    /// Size in bytes.
    pub size: usize,
    /// SHA-256 of the contents, hex.
    pub sha256: String,
    /// Written with mode 0755.
    pub executable: bool,
    /// The contents, when asked for (UTF-8 text; `null` otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// A bundle rendered in memory: every file, and the contents of the
/// files asked for.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RenderedBundle {
    /// The deployer that rendered it.
    pub deployer: String,
    /// Every file, sorted by path.
    pub files: Vec<BundleFile>,
}

impl Client {
    /// A recipe resolved from `criteria` or parsed from `text` (exactly
    /// one must be given).
    pub fn inline_recipe(
        &self,
        criteria: Option<&CriteriaFlags>,
        text: Option<&str>,
    ) -> Result<RecipeResult> {
        match (criteria, text) {
            (Some(criteria), None) => self.recipe(&some_criteria(criteria)?),
            (None, Some(text)) => self.parse_recipe(text.as_bytes(), "recipe"),
            _ => Err(Error::invalid(
                "give either criteria or recipe (a recipe document as text), not both or neither",
            )),
        }
    }

    /// Renders the bundle of `recipe` (from [`Client::inline_recipe`] of
    /// `request`) in memory, with only what the catalog embeds: a recipe
    /// that needs a manifest downloaded is refused rather than fetched. A
    /// requested file that is not in the bundle is NOT_FOUND.
    pub fn render_inline(
        &self,
        recipe: &RecipeResult,
        request: &RenderRequest,
    ) -> Result<RenderedBundle> {
        let options = request.bundle.options()?;
        let pending = self.components().external_files_to_fetch(recipe)?;
        if let Some(entry) = pending.first() {
            return Err(Error::invalid(format!(
                "{} is not embedded in the catalog and would have to be downloaded from {}; render this bundle with `aicr bundle`",
                entry.path, entry.url
            )));
        }
        let tree = self.render_bundle(recipe, &options, &FetchedFiles::default())?;
        for path in &request.files {
            if tree.get(path).is_none() {
                return Err(Error::not_found(format!(
                    "{:?} is not a file of this bundle",
                    aicr_core::error::escape(path)
                )));
            }
        }
        Ok(RenderedBundle {
            deployer: options.deployer.as_str().to_string(),
            files: list_files(&tree, &request.files),
        })
    }

    /// Checks an inline recipe against an inline snapshot, as
    /// [`Client::validate`] does with files.
    pub fn validate_inline(&self, request: &InlineValidateRequest) -> Result<CtrfReport> {
        let recipe = self.parse_recipe(request.recipe.as_bytes(), "recipe")?;
        let snapshot = Snapshot::parse(request.snapshot.as_bytes(), "snapshot")?;
        let options = ValidateRequest {
            phases: request.phases.clone(),
            no_cluster: request.no_cluster,
        };
        self.validate(&recipe, &snapshot, &options)
    }

    /// The drift between two inline snapshots, named `baseline` and
    /// `target` in the report.
    pub fn diff_inline(&self, request: &InlineDiffRequest) -> Result<DiffReport> {
        let baseline = Snapshot::parse(request.baseline.as_bytes(), "baseline")?;
        let target = Snapshot::parse(request.target.as_bytes(), "target")?;
        Ok(self.diff((&baseline, "baseline"), (&target, "target")))
    }

    /// The paths of the catalog's files, sorted.
    pub fn catalog_files(&self) -> Vec<String> {
        self.components().provider().files()
    }

    /// The bytes of one catalog file; NOT_FOUND when there is none.
    pub fn catalog_file(&self, path: &str) -> Result<Vec<u8>> {
        aicr_core::provider::check_relative(path)?;
        match self.components().provider().read(path)? {
            Some(bytes) => Ok(bytes.into_owned()),
            None => Err(Error::not_found(format!(
                "no catalog file {:?}",
                aicr_core::error::escape(path)
            ))),
        }
    }
}

/// The criteria `flags` give, refused when they give none: a recipe for
/// no criteria at all is never what a caller meant.
fn some_criteria(flags: &CriteriaFlags) -> Result<aicr_core::Criteria> {
    let criteria = flags.criteria()?;
    if criteria.is_empty() {
        return Err(Error::invalid(
            "no criteria provided: give at least one of service, accelerator, os, intent, platform, nodes",
        ));
    }
    Ok(criteria)
}

/// Every file of `tree` with its size and digest; the contents of those
/// in `wanted` (as text, lossily for the rare binary file).
fn list_files(tree: &FileTree, wanted: &[String]) -> Vec<BundleFile> {
    tree.iter()
        .map(|(path, file)| BundleFile {
            path: path.clone(),
            size: file.bytes.len(),
            sha256: aicr_bundle::checksum::sha256_hex(&file.bytes),
            executable: file.executable,
            content: wanted
                .contains(path)
                .then(|| String::from_utf8_lossy(&file.bytes).into_owned()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteria() -> CriteriaFlags {
        CriteriaFlags {
            service: Some("gke".into()),
            accelerator: Some("h100".into()),
            intent: Some("inference".into()),
            ..CriteriaFlags::default()
        }
    }

    #[test]
    fn a_rendered_bundle_lists_every_file_and_returns_only_those_asked_for() {
        let client = Client::embedded().unwrap();
        let recipe = client.inline_recipe(Some(&criteria()), None).unwrap();
        let all = client
            .render_inline(&recipe, &RenderRequest::default())
            .unwrap();
        assert!(all.files.iter().any(|f| f.path == "checksums.txt"));
        assert!(all.files.iter().all(|f| f.content.is_none()));
        let one = client
            .render_inline(
                &recipe,
                &RenderRequest {
                    files: vec!["checksums.txt".into()],
                    ..RenderRequest::default()
                },
            )
            .unwrap();
        let with: Vec<_> = one.files.iter().filter(|f| f.content.is_some()).collect();
        assert_eq!(with.len(), 1);
        assert_eq!(with[0].path, "checksums.txt");
    }

    #[test]
    fn criteria_and_recipe_text_are_exclusive() {
        let client = Client::embedded().unwrap();
        let err = client.inline_recipe(None, None).unwrap_err();
        assert_eq!(err.code(), aicr_core::Code::InvalidRequest);
        let err = client
            .inline_recipe(Some(&criteria()), Some("kind: RecipeResult"))
            .unwrap_err();
        assert_eq!(err.code(), aicr_core::Code::InvalidRequest);
        let err = client
            .inline_recipe(Some(&CriteriaFlags::default()), None)
            .unwrap_err();
        assert!(err.to_string().contains("no criteria"), "{err}");
    }

    #[test]
    fn a_file_not_in_the_bundle_is_not_found() {
        let client = Client::embedded().unwrap();
        let recipe = client.inline_recipe(Some(&criteria()), None).unwrap();
        let err = client
            .render_inline(
                &recipe,
                &RenderRequest {
                    files: vec!["nope.yaml".into()],
                    ..RenderRequest::default()
                },
            )
            .unwrap_err();
        assert_eq!(err.code(), aicr_core::Code::NotFound);
    }

    #[test]
    fn catalog_files_are_listed_and_read_but_paths_may_not_escape() {
        let client = Client::embedded().unwrap();
        let files = client.catalog_files();
        assert!(files.contains(&"registry.yaml".to_string()));
        assert!(!client.catalog_file("registry.yaml").unwrap().is_empty());
        let err = client.catalog_file("../Cargo.toml").unwrap_err();
        assert_eq!(err.code(), aicr_core::Code::InvalidRequest);
        let err = client.catalog_file("nope.yaml").unwrap_err();
        assert_eq!(err.code(), aicr_core::Code::NotFound);
    }
}
