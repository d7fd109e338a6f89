//! Request types every frontend fills in (the CLI from flags, the server
//! from query parameters and bodies, the MCP server from tool arguments),
//! and the rules that turn them into what the [`crate::Client`] runs:
//! config-file defaults under explicit values, "0 or less nodes means not
//! given", the "no criteria" check, the output format and destination.

use std::path::PathBuf;

use aicr_core::config::{AicrConfig, BundleConfig, CriteriaConfig, RecipeConfig};
use aicr_core::fingerprint::Fingerprint;
use aicr_core::output::Format;
use aicr_core::snapshot::Snapshot;
use aicr_core::{Criteria, Error, Result};

use crate::io::{Input, MAX_DOCUMENT_BYTES, Output};
use crate::oci::{OciReference, RegistryOptions};

/// Where the catalog comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CatalogSource {
    /// The catalog compiled into the binary.
    #[default]
    Embedded,
    /// A directory used as the whole catalog (`--catalog`).
    Dir(PathBuf),
    /// A directory layered over the embedded catalog (`--data`).
    Layered(PathBuf),
}

impl CatalogSource {
    /// The source named by `--catalog`, else `--data`, else a config
    /// file's `spec.recipe.data`, else the embedded catalog.
    pub fn choose(
        catalog: Option<PathBuf>,
        data: Option<PathBuf>,
        config_data: Option<PathBuf>,
    ) -> Self {
        match (catalog, data.or(config_data)) {
            (Some(dir), _) => CatalogSource::Dir(dir),
            (None, Some(dir)) => CatalogSource::Layered(dir),
            (None, None) => CatalogSource::Embedded,
        }
    }

    /// Lints this catalog without loading it, so every problem is
    /// reported rather than the first load error.
    pub fn lint(&self) -> Result<aicr_core::lint::LintReport> {
        use aicr_core::{DirProvider, EmbeddedProvider, LayeredProvider};
        Ok(match self {
            CatalogSource::Dir(dir) => aicr_core::lint::lint(&DirProvider::open(dir)?),
            CatalogSource::Layered(dir) => {
                aicr_core::lint::lint(&LayeredProvider::new(dir, Box::new(EmbeddedProvider))?)
            }
            CatalogSource::Embedded => aicr_core::lint::lint(&EmbeddedProvider),
        })
    }
}

/// Reads and checks an `AICRConfig` from a file, `-` or an HTTP(S) URL.
/// ConfigMaps are refused, as in the reference.
pub fn load_config(source: &str) -> Result<AicrConfig> {
    let input = Input::parse(source)?;
    if matches!(input, Input::ConfigMap { .. } | Input::Oci(_)) {
        return Err(Error::invalid(format!(
            "--config {}: only a local file path or an http(s) URL is accepted",
            input.describe()
        )));
    }
    let bytes = input
        .read_blocking(MAX_DOCUMENT_BYTES)
        .map_err(|e| e.context(format!("reading config {}", input.describe())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::invalid(format!("config {} is not UTF-8 text", input.describe())))?;
    let config = AicrConfig::parse(&text, &input.describe(), input.is_json())?;
    // Every spec.bundle value must parse, as in the reference, whichever
    // command reads the config: through the one set of flag parsers.
    if let Some(bundle) = &config.spec.bundle {
        let mut request = BundleRequest::default();
        request.fill_from(bundle);
        request
            .options()
            .map_err(|e| e.context(format!("{}: spec.bundle", input.describe())))?;
    }
    Ok(config)
}

/// Criteria as given by a caller, each dimension as written (parsed by
/// [`RecipeRequest::plan`]); `None` means "not given". Deserialisable, with
/// a schema, for callers that pass criteria as JSON (the MCP tools).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CriteriaFlags {
    // Kept as written (parsed later, with the config's values under
    // them); the schema is the parsed type's, which lists the values.
    /// Kubernetes service: eks, gke, aks, oke, kind, lke.
    #[schemars(with = "Option<aicr_core::criteria::Service>")]
    pub service: Option<String>,
    /// GPU: h100, gb200, b200, a100, l40, rtx-pro-6000.
    #[schemars(with = "Option<aicr_core::criteria::Accelerator>")]
    pub accelerator: Option<String>,
    /// Worker OS: ubuntu, rhel, cos, amazonlinux, talos.
    #[schemars(with = "Option<aicr_core::criteria::Os>")]
    pub os: Option<String>,
    /// Workload intent: training, inference.
    #[schemars(with = "Option<aicr_core::criteria::Intent>")]
    pub intent: Option<String>,
    /// Platform: dynamo, kubeflow, nim, slurm.
    #[schemars(with = "Option<aicr_core::criteria::Platform>")]
    pub platform: Option<String>,
    /// GPU node count; 0 means not given. A negative count is refused, as
    /// `bundle --nodes` and `POST /v1/recipe` refuse it (the reference's
    /// `recipe` ignored it silently).
    pub nodes: Option<i64>,
}

impl CriteriaFlags {
    /// These values alone, parsed; nothing given means every criterion is
    /// `any` (the server's `GET /v1/recipe` with no parameters).
    pub fn criteria(&self) -> Result<Criteria> {
        self.over(Criteria::default(), None)
    }

    /// These values over the config's, over `base` (the criteria a
    /// snapshot implies, or all `any`), parsed. A blank value or a node
    /// count of 0 is "not given" and keeps what lies under it.
    fn over(&self, base: Criteria, config: Option<&CriteriaConfig>) -> Result<Criteria> {
        let base = match config {
            Some(config) => config.over(base)?,
            None => base,
        };
        CriteriaConfig {
            service: self.service.clone(),
            accelerator: self.accelerator.clone(),
            intent: self.intent.clone(),
            os: self.os.clone(),
            platform: self.platform.clone(),
            nodes: self.nodes,
        }
        .over(base)
    }
}

/// The body of `POST /v1/recipe`: a `RecipeCriteria` document,
/// `{kind?, apiVersion?, metadata?: {name?}, spec: {service, accelerator,
/// intent, os, platform, nodes}}`, in JSON or YAML (one parser reads both).
/// `kind` and `apiVersion`, when given, must be `RecipeCriteria` and
/// `aicr.nvidia.com/v1alpha1`; unknown fields are refused.
pub fn criteria_document(bytes: &[u8], origin: &str) -> Result<Criteria> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Document {
        #[serde(default)]
        kind: Option<String>,
        #[serde(default)]
        api_version: Option<String>,
        #[serde(default)]
        #[allow(dead_code)] // accepted, not used
        metadata: Option<Metadata>,
        spec: CriteriaConfig,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Metadata {
        #[serde(default)]
        #[allow(dead_code)] // accepted, not used
        name: Option<String>,
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid("request body is empty"));
    }
    let doc: Document = aicr_core::yaml::parse(bytes, origin)?;
    if let Some(kind) = doc.kind.filter(|k| k != "RecipeCriteria") {
        return Err(Error::invalid(format!(
            "kind {:?} is not RecipeCriteria",
            aicr_core::error::escape(&kind)
        )));
    }
    if let Some(v) = doc.api_version.filter(|v| v != "aicr.nvidia.com/v1alpha1") {
        return Err(Error::invalid(format!(
            "apiVersion {:?} is not aicr.nvidia.com/v1alpha1",
            aicr_core::error::escape(&v)
        )));
    }
    doc.spec.criteria()
}

/// The body of `POST /v1/query`: `{criteria: {service, ...}, selector}` in
/// JSON or YAML. A missing selector selects everything.
pub fn query_document(bytes: &[u8], origin: &str) -> Result<(Criteria, String)> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Document {
        criteria: Option<CriteriaConfig>,
        #[serde(default)]
        selector: String,
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid("request body is empty"));
    }
    let doc: Document = aicr_core::yaml::parse(bytes, origin)?;
    let Some(criteria) = doc.criteria else {
        return Err(Error::invalid("query criteria cannot be empty"));
    };
    Ok((criteria.criteria()?, doc.selector))
}

/// `aicr recipe` and `aicr query` as asked for.
#[derive(Debug, Clone, Default)]
pub struct RecipeRequest {
    /// Explicit criteria.
    pub criteria: CriteriaFlags,
    /// An `AICRConfig` source whose `spec.recipe` gives defaults.
    pub config: Option<String>,
    /// A snapshot source (file, `-`, `http(s)://`) to derive criteria from
    /// and to check overlay constraints against.
    pub snapshot: Option<String>,
    /// Output format (`yaml`, `json`, `table`; for a recipe also `dot`
    /// and `mermaid`).
    pub format: Option<String>,
    /// Output destination.
    pub output: Option<String>,
    /// `--catalog`.
    pub catalog: Option<PathBuf>,
    /// `--data`.
    pub data: Option<PathBuf>,
}

/// A [`RecipeRequest`] with every rule applied: what to resolve, against
/// which catalog, and how and where to write it.
#[derive(Debug, Clone)]
pub struct RecipePlan {
    /// The catalog to open.
    pub catalog: CatalogSource,
    /// The criteria to resolve.
    pub criteria: Criteria,
    /// The snapshot read, if one was given: overlays whose constraints
    /// fail against it are left out (see [`crate::Client::recipe_with`]).
    pub snapshot: Option<Snapshot>,
    /// How to show the recipe.
    pub view: RecipeView,
    /// The output destination.
    pub output: Output,
}

/// How `aicr recipe` shows a recipe: the document, or a drawing of its
/// deployment graph (components, `dependencyRefs`, install tiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipeView {
    /// The recipe document as YAML, JSON or a table.
    Document(Format),
    /// The deployment graph as Graphviz DOT.
    Dot,
    /// The deployment graph as a Mermaid flowchart.
    Mermaid,
}

impl RecipeView {
    /// Parses `yaml`, `json`, `table`, `dot` or `mermaid`.
    pub fn parse(input: &str) -> Result<Self> {
        match input.trim().to_ascii_lowercase().as_str() {
            "dot" => Ok(RecipeView::Dot),
            "mermaid" => Ok(RecipeView::Mermaid),
            _ => Format::parse(input).map(RecipeView::Document).map_err(|_| {
                Error::invalid(format!(
                    "unknown output format: {:?}, valid formats are: yaml, json, table, dot, mermaid",
                    aicr_core::error::escape(input)
                ))
            }),
        }
    }
}

impl RecipePlan {
    /// The document format, for commands that print values (`query`):
    /// a drawing is refused.
    pub fn format(&self) -> Result<Format> {
        match self.view {
            RecipeView::Document(format) => Ok(format),
            RecipeView::Dot | RecipeView::Mermaid => Err(Error::invalid(
                "dot and mermaid draw a whole recipe (aicr recipe -t dot); a query prints values: use yaml, json or table",
            )),
        }
    }
}

impl RecipeRequest {
    /// Reads the config and the snapshot (if any) and applies the
    /// precedence rules. Criteria: explicit values, then the config's,
    /// then what the snapshot's measurements imply (its fingerprint's
    /// criteria); the snapshot named here wins over the config's.
    pub fn plan(&self) -> Result<RecipePlan> {
        let config = self.config.as_deref().map(load_config).transpose()?;
        let recipe_config: Option<&RecipeConfig> =
            config.as_ref().and_then(|c| c.spec.recipe.as_ref());
        let snapshot_source = self
            .snapshot
            .clone()
            .or_else(|| recipe_config?.input.as_ref().map(|i| i.snapshot.clone()))
            .filter(|s| !s.trim().is_empty());
        let snapshot = snapshot_source
            .map(|s| crate::client::read_snapshot_blocking(&Input::parse(&s)?))
            .transpose()?;
        let config_output = recipe_config.and_then(|r| r.output.as_ref());
        let view = match (&self.format, config_output.filter(|o| !o.format.is_empty())) {
            (Some(flag), _) => RecipeView::parse(flag)?,
            (None, Some(out)) => RecipeView::parse(&out.format)?,
            (None, None) => RecipeView::Document(Format::Yaml),
        };
        let base = snapshot
            .as_ref()
            .map(|s| Fingerprint::from_snapshot(s).criteria())
            .unwrap_or_default();
        let criteria = self
            .criteria
            .over(base, recipe_config.and_then(|r| r.criteria.as_ref()))?;
        // A snapshot is the criteria, even when it implies none (the
        // reference then resolves the generic recipe).
        if criteria.is_empty() && snapshot.is_none() {
            return Err(Error::invalid(
                "no criteria provided: specify at least one of --service, --accelerator, --intent, --os, --platform, --nodes, --config, or use --snapshot to load from a snapshot file",
            ));
        }
        let output = match (&self.output, config_output.filter(|o| !o.path.is_empty())) {
            (Some(flag), _) => Output::parse(flag)?,
            (None, Some(out)) => Output::parse(&out.path)?,
            (None, None) => Output::Stdout,
        };
        if matches!(output, Output::ConfigMap { .. }) && !matches!(view, RecipeView::Document(_)) {
            return Err(Error::invalid(
                "a dot or mermaid drawing goes to stdout or a file, not a ConfigMap",
            ));
        }
        Ok(RecipePlan {
            catalog: CatalogSource::choose(
                self.catalog.clone(),
                self.data.clone(),
                recipe_config
                    .and_then(|r| r.data.clone())
                    .map(PathBuf::from),
            ),
            criteria,
            snapshot,
            view,
            output,
        })
    }
}

/// How to render a bundle, in the flag grammars of `aicr bundle` (and the
/// query parameters of `POST /v1/bundle`); parsed by
/// [`BundleRequest::options`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct BundleRequest {
    /// helm (default), helmfile, argocd, argocd-helm or flux.
    pub deployer: Option<String>,
    /// GitOps repository URL (argocd, argocd-helm, flux).
    pub repo: Option<String>,
    /// `component:dotted.path=value` overrides; `component:enabled=false`
    /// drops a component.
    pub set: Vec<String>,
    /// `component:dotted.path` values supplied at install time.
    pub dynamic: Vec<String>,
    /// `key=value` node selector for system components.
    pub system_node_selector: Vec<String>,
    /// `key[=value]:Effect` tolerations for system components.
    pub system_node_toleration: Vec<String>,
    /// `key=value` node selector for GPU nodes.
    pub accelerated_node_selector: Vec<String>,
    /// `key[=value]:Effect` tolerations for GPU nodes.
    pub accelerated_node_toleration: Vec<String>,
    /// `key[=value]:Effect` taint that gates workloads on tuned nodes.
    pub workload_gate: Option<String>,
    /// `key=value` selector of the workloads to protect.
    pub workload_selector: Vec<String>,
    /// Expected number of GPU nodes (at least 0).
    pub nodes: Option<i64>,
    /// Storage class for components with persistent volumes.
    pub storage_class: Option<String>,
}

impl BundleRequest {
    /// Fills what was not given from a config's `spec.bundle`. A list
    /// given explicitly replaces the config's list; it does not append.
    pub fn fill_from(&mut self, config: &BundleConfig) {
        let text = |s: &String| (!s.trim().is_empty()).then(|| s.clone());
        let fill = |list: &mut Vec<String>, from: Vec<String>| {
            if list.is_empty() {
                *list = from;
            }
        };
        let pairs = |map: &indexmap::IndexMap<String, String>| -> Vec<String> {
            map.iter().map(|(k, v)| format!("{k}={v}")).collect()
        };
        if let Some(d) = &config.deployment {
            self.deployer = self.deployer.take().or_else(|| text(&d.deployer));
            self.repo = self.repo.take().or_else(|| text(&d.repo));
            fill(&mut self.set, d.set.clone());
            fill(&mut self.dynamic, d.dynamic.clone());
        }
        if let Some(s) = &config.scheduling {
            fill(
                &mut self.system_node_selector,
                pairs(&s.system_node_selector),
            );
            fill(
                &mut self.accelerated_node_selector,
                pairs(&s.accelerated_node_selector),
            );
            fill(&mut self.workload_selector, pairs(&s.workload_selector));
            fill(
                &mut self.system_node_toleration,
                s.system_node_tolerations.clone(),
            );
            fill(
                &mut self.accelerated_node_toleration,
                s.accelerated_node_tolerations.clone(),
            );
            self.workload_gate = self.workload_gate.take().or_else(|| text(&s.workload_gate));
            self.storage_class = self.storage_class.take().or_else(|| text(&s.storage_class));
            self.nodes = self.nodes.or(s.nodes);
        }
    }

    /// Parses every grammar into [`aicr_bundle::BundleOptions`]; nothing is
    /// read or written before all of them are valid.
    pub fn options(&self) -> Result<aicr_bundle::BundleOptions> {
        use aicr_bundle::options::parse_selector;
        use aicr_bundle::{BundleOptions, Deployer, DynamicPath, Toleration};
        let nodes = match self.nodes {
            Some(n) if n < 0 => return Err(Error::invalid("nodes must be a non-negative integer")),
            Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
            None => 0,
        };
        let mut o = BundleOptions {
            deployer: Deployer::parse(self.deployer.as_deref().unwrap_or("helm"))?,
            repo: self.repo.clone().filter(|r| !r.trim().is_empty()),
            tool_version: crate::VERSION.to_string(),
            nodes,
            ..BundleOptions::default()
        };
        for s in &self.set {
            o.sets.push(aicr_core::values::SetOverride::parse(s)?);
        }
        for d in &self.dynamic {
            o.dynamic.push(DynamicPath::parse(d)?);
        }
        for s in &self.system_node_selector {
            parse_selector(s, &mut o.system_node_selector)?;
        }
        for s in &self.accelerated_node_selector {
            parse_selector(s, &mut o.accelerated_node_selector)?;
        }
        for s in &self.workload_selector {
            parse_selector(s, &mut o.workload_selector)?;
        }
        for t in &self.system_node_toleration {
            o.system_node_tolerations.push(Toleration::parse(t)?);
        }
        for t in &self.accelerated_node_toleration {
            o.accelerated_node_tolerations.push(Toleration::parse(t)?);
        }
        o.workload_gate = self
            .workload_gate
            .as_deref()
            .map(Toleration::parse)
            .transpose()?;
        if let Some(class) = &self.storage_class {
            if class.trim().is_empty() {
                return Err(Error::invalid("--storage-class must not be blank"));
            }
            o.storage_class = Some(class.trim().to_string());
        }
        Ok(o)
    }
}

/// `aicr bundle` as asked for: the rendering request plus where the
/// recipe comes from and where the bundle goes.
#[derive(Debug, Clone, Default)]
pub struct BundleCommand {
    /// How to render.
    pub request: BundleRequest,
    /// Recipe source (file, `-`, URL).
    pub recipe: Option<String>,
    /// Output: a directory (default `./bundle`), `oci://registry/repo[:tag]`
    /// or `oci-layout:DIR`.
    pub output: Option<String>,
    /// An `AICRConfig` source whose `spec.bundle` gives defaults.
    pub config: Option<String>,
    /// Replace an existing directory that is not a previous bundle.
    pub force: bool,
    /// `--catalog`.
    pub catalog: Option<PathBuf>,
    /// `--data`.
    pub data: Option<PathBuf>,
    /// `--vendor-charts`: put every Helm chart into the bundle.
    pub vendor_charts: bool,
    /// `--attest`: sign the bundle's provenance.
    pub attest: bool,
    /// `--signing-key`: the PEM private key `--attest` signs with.
    pub signing_key: Option<PathBuf>,
    /// Transport and credentials for `oci://` output (`--plain-http`,
    /// `--insecure-tls`, `--registry-username`, ...).
    pub registry: RegistryOptions,
    /// `--image-refs`: a file to write the pushed `registry/repo:tag@digest` to.
    pub image_refs: Option<PathBuf>,
}

/// Where a bundle goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleTarget {
    /// A directory, written atomically.
    Dir(PathBuf),
    /// A registry: the bundle is pushed as an OCI artifact, nothing is
    /// written locally. The reference always carries a tag.
    Registry(OciReference),
    /// An OCI image layout directory (`oci-layout:DIR`), tagged `tag`.
    Layout {
        /// The layout directory.
        dir: PathBuf,
        /// The tag in its `index.json` (the CLI version).
        tag: String,
    },
}

/// The prefix of an OCI image layout output.
pub const OCI_LAYOUT_PREFIX: &str = "oci-layout:";

impl BundleTarget {
    /// Parses an output: `oci://...` (a missing tag becomes `default_tag`),
    /// `oci-layout:DIR`, else a directory; stdout and `cm://` are refused.
    pub fn parse(text: &str, default_tag: &str) -> Result<Self> {
        if let Some(dir) = text.trim().strip_prefix(OCI_LAYOUT_PREFIX) {
            if dir.trim().is_empty() {
                return Err(Error::invalid("--output oci-layout: needs a directory"));
            }
            return Ok(BundleTarget::Layout {
                dir: PathBuf::from(dir.trim()),
                tag: default_tag.to_string(),
            });
        }
        match Output::parse(text)? {
            Output::File(dir) => Ok(BundleTarget::Dir(dir)),
            Output::Stdout => Err(Error::invalid("--output must name a directory")),
            Output::Oci(reference) => {
                let reference = OciReference::parse(&reference)?;
                if reference.digest.is_some() {
                    return Err(Error::invalid(format!(
                        "--output {reference}: a bundle is pushed under a tag, not a digest"
                    )));
                }
                Ok(BundleTarget::Registry(
                    reference.with_default_tag(default_tag),
                ))
            }
            Output::ConfigMap { .. } => Err(Error::invalid(
                "--output: a bundle is a directory, not a ConfigMap",
            )),
        }
    }
}

/// A [`BundleCommand`] with every rule applied.
#[derive(Debug, Clone)]
pub struct BundlePlan {
    /// The catalog to open.
    pub catalog: CatalogSource,
    /// Where the recipe comes from.
    pub recipe: Input,
    /// Where the bundle goes.
    pub output: BundleTarget,
    /// Parsed rendering options.
    pub options: aicr_bundle::BundleOptions,
    /// Replace an existing directory that is not a previous bundle.
    pub force: bool,
    /// With `--attest`: the key (already read) and the provenance facts.
    pub signing: Option<aicr_bundle::Signing>,
    /// Transport and credentials for a registry output.
    pub registry: RegistryOptions,
    /// Where to record the pushed reference (registry output only).
    pub image_refs: Option<PathBuf>,
}

impl BundleCommand {
    /// Reads the config (if any), fills what was not given from its
    /// `spec.bundle`, and parses every flag before anything is read.
    pub fn plan(&self) -> Result<BundlePlan> {
        let mut request = self.request.clone();
        let mut recipe = self.recipe.clone();
        let mut output = self.output.clone();
        let mut registry = self.registry.clone();
        let mut image_refs = self.image_refs.clone();
        if let Some(source) = &self.config {
            let config = load_config(source)?;
            if let Some(bundle) = &config.spec.bundle {
                request.fill_from(bundle);
                let text = |s: &str| (!s.trim().is_empty()).then(|| s.to_string());
                recipe = recipe.or_else(|| bundle.input.as_ref().and_then(|i| text(&i.recipe)));
                output = output.or_else(|| bundle.output.as_ref().and_then(|o| text(&o.target)));
                image_refs = image_refs.or_else(|| {
                    bundle
                        .output
                        .as_ref()
                        .and_then(|o| text(&o.image_refs))
                        .map(PathBuf::from)
                });
                fill_registry(&mut registry, bundle.registry.as_ref())?;
            }
        }
        let mut options = request.options()?;
        options.vendor_charts = self.vendor_charts;
        let output = BundleTarget::parse(output.as_deref().unwrap_or("./bundle"), crate::VERSION)?;
        if let BundleTarget::Registry(reference) = &output {
            // The reference's rule: an Argo CD bundle pushed to a registry
            // is synced from there unless --repo says otherwise.
            if options.deployer == aicr_bundle::Deployer::Argocd && options.repo.is_none() {
                options.repo = Some(reference.name());
            }
            // ...at the pushed tag.
            options.target_revision = reference.tag.clone();
        } else if image_refs.is_some() {
            return Err(Error::invalid(
                "--image-refs records a pushed reference; it needs --output oci://...",
            ));
        }
        let recipe = recipe.ok_or_else(|| {
            Error::invalid("--recipe is required (or spec.bundle.input.recipe in --config)")
        })?;
        let catalog = CatalogSource::choose(self.catalog.clone(), self.data.clone(), None);
        let signing = self.signing(&catalog)?;
        Ok(BundlePlan {
            catalog,
            recipe: Input::parse(&recipe)?,
            output,
            options,
            force: self.force,
            signing,
            registry,
            image_refs,
        })
    }

    /// `--attest` and `--signing-key`: the key read and parsed before
    /// anything is rendered. Only key signing exists: keyless signing
    /// (Fulcio certificates, Rekor entries) needs the network and an OIDC
    /// identity, so `--attest` alone is INVALID_REQUEST saying so.
    fn signing(&self, catalog: &CatalogSource) -> Result<Option<aicr_bundle::Signing>> {
        let path = match (self.attest, &self.signing_key) {
            (false, None) => return Ok(None),
            (false, Some(_)) => {
                return Err(Error::invalid(
                    "--signing-key is only used with --attest; add --attest to sign the bundle",
                ));
            }
            (true, None) => {
                return Err(Error::invalid(
                    "--attest needs --signing-key FILE (a PEM ECDSA P-256 or Ed25519 private key): keyless signing through Fulcio and Rekor needs the network and an OIDC identity and is not supported yet",
                ));
            }
            (true, Some(path)) => path,
        };
        Ok(Some(aicr_bundle::Signing {
            key: crate::client::read_signing_key(path)?,
            recipe_source: match catalog {
                CatalogSource::Embedded => "embedded",
                CatalogSource::Dir(_) | CatalogSource::Layered(_) => "external",
            }
            .to_string(),
            builder_id: BUILDER_ID.to_string(),
        }))
    }
}

/// `spec.bundle.registry.{plainHTTP,insecureTLS}` under the flags: a flag
/// set wins; the config can only switch one on.
fn fill_registry(registry: &mut RegistryOptions, config: Option<&serde_json::Value>) -> Result<()> {
    let Some(config) = config else {
        return Ok(());
    };
    let flag = |key: &str| -> Result<bool> {
        match config.get(key) {
            None | Some(serde_json::Value::Null) => Ok(false),
            Some(serde_json::Value::Bool(b)) => Ok(*b),
            Some(_) => Err(Error::invalid(format!(
                "spec.bundle.registry.{key} must be true or false"
            ))),
        }
    };
    registry.plain_http |= flag("plainHTTP")?;
    registry.insecure_tls |= flag("insecureTLS")?;
    Ok(())
}

/// `aicr pull` (and `aicr verify oci://...`) as asked for.
#[derive(Debug, Clone, Default)]
pub struct PullCommand {
    /// `oci://registry/repo[:tag|@digest]`; a missing tag becomes the CLI
    /// version.
    pub reference: String,
    /// Directory to write the bundle to (`pull` only).
    pub output: Option<PathBuf>,
    /// Replace an existing directory that is not a previous bundle.
    pub force: bool,
    /// Transport and credentials.
    pub registry: RegistryOptions,
}

/// A [`PullCommand`] with its rules applied.
#[derive(Debug, Clone)]
pub struct PullPlan {
    /// What to pull (tag or digest always set).
    pub reference: OciReference,
    /// Where to write it.
    pub output: PathBuf,
    /// Replace an existing directory that is not a previous bundle.
    pub force: bool,
    /// Transport and credentials.
    pub registry: RegistryOptions,
}

impl PullCommand {
    /// Parses the reference (it must be `oci://`) and the output directory
    /// (default `./bundle`).
    pub fn plan(&self) -> Result<PullPlan> {
        let text = self.reference.trim();
        if !text.starts_with("oci://") {
            return Err(Error::invalid(format!(
                "{}: expected an oci://registry/repository[:tag|@digest] reference",
                aicr_core::error::escape(text)
            )));
        }
        Ok(PullPlan {
            reference: OciReference::parse(text)?.with_default_tag(crate::VERSION),
            output: self
                .output
                .clone()
                .unwrap_or_else(|| PathBuf::from("./bundle")),
            force: self.force,
            registry: self.registry.clone(),
        })
    }
}

/// `runDetails.builder.id` of our attestations: this project, at the
/// version that built the bundle.
const BUILDER_ID: &str = concat!(
    "https://github.com/aicr-rs/aicr-rs@v",
    env!("CARGO_PKG_VERSION")
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_criteria_win_and_zero_nodes_mean_unset() {
        let flags = CriteriaFlags {
            service: Some("gke".into()),
            nodes: Some(0),
            ..CriteriaFlags::default()
        };
        let defaults = CriteriaConfig {
            service: Some("eks".into()),
            accelerator: Some("h100".into()),
            nodes: Some(4),
            ..CriteriaConfig::default()
        };
        let c = flags.over(Criteria::default(), Some(&defaults)).unwrap();
        assert_eq!(c.service.to_string(), "gke");
        assert_eq!(c.accelerator.to_string(), "h100");
        // As the reference: `--nodes 0` is "not given" and keeps the config's.
        assert_eq!(c.nodes, 4);
    }

    #[test]
    fn recipe_and_bundle_refuse_negative_nodes_alike() {
        let recipe = CriteriaFlags {
            nodes: Some(-1),
            ..CriteriaFlags::default()
        }
        .criteria()
        .unwrap_err();
        let bundle = BundleRequest {
            nodes: Some(-1),
            ..BundleRequest::default()
        }
        .options()
        .unwrap_err();
        assert_eq!(recipe.code(), aicr_core::Code::InvalidRequest);
        assert_eq!(recipe.to_string(), bundle.to_string());
    }

    #[test]
    fn a_request_without_criteria_is_refused() {
        let err = RecipeRequest::default().plan().unwrap_err();
        assert!(err.to_string().contains("no criteria provided"), "{err}");
    }

    #[test]
    fn catalog_flag_beats_data_flag_beats_config_data() {
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(
            CatalogSource::choose(p("c"), p("d"), p("e")),
            CatalogSource::Dir("c".into())
        );
        assert_eq!(
            CatalogSource::choose(None, None, p("e")),
            CatalogSource::Layered("e".into())
        );
        assert_eq!(
            CatalogSource::choose(None, None, None),
            CatalogSource::Embedded
        );
    }

    #[test]
    fn oci_output_gets_the_cli_version_as_tag_and_argocd_syncs_from_the_registry() {
        let command = |deployer: &str, output: &str| BundleCommand {
            request: BundleRequest {
                deployer: Some(deployer.into()),
                ..BundleRequest::default()
            },
            recipe: Some("r.yaml".into()),
            output: Some(output.into()),
            ..BundleCommand::default()
        };
        let plan = command("argocd", "oci://ghcr.io/acme/bundle")
            .plan()
            .unwrap();
        let BundleTarget::Registry(reference) = &plan.output else {
            panic!("{:?}", plan.output)
        };
        assert_eq!(reference.tag.as_deref(), Some(crate::VERSION));
        assert_eq!(plan.options.repo.as_deref(), Some("ghcr.io/acme/bundle"));
        assert_eq!(
            plan.options.target_revision.as_deref(),
            Some(crate::VERSION)
        );
        // An explicit --repo wins; other deployers keep theirs.
        let mut explicit = command("argocd", "oci://ghcr.io/acme/bundle:v2");
        explicit.request.repo = Some("https://git.example/r.git".into());
        let plan = explicit.plan().unwrap();
        assert_eq!(
            plan.options.repo.as_deref(),
            Some("https://git.example/r.git")
        );
        assert_eq!(plan.options.target_revision.as_deref(), Some("v2"));
        let plan = command("helm", "oci://ghcr.io/acme/bundle:v2")
            .plan()
            .unwrap();
        assert_eq!(plan.options.repo, None);
        // A directory keeps the default revision; a layout its tag.
        let plan = command("argocd", "./out").plan().unwrap();
        assert_eq!(plan.output, BundleTarget::Dir("./out".into()));
        assert_eq!(plan.options.target_revision, None);
        let plan = command("helm", "oci-layout:./lay").plan().unwrap();
        assert_eq!(
            plan.output,
            BundleTarget::Layout {
                dir: "./lay".into(),
                tag: crate::VERSION.into()
            }
        );
        let err = command("helm", "oci://ghcr.io/Acme/bundle")
            .plan()
            .unwrap_err();
        assert_eq!(err.code(), aicr_core::Code::InvalidRequest);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test writes its config file
    fn a_config_supplies_registry_settings_and_image_refs_under_the_flags() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            "kind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  bundle:\n    input:\n      recipe: r.yaml\n    output:\n      target: oci://localhost:5000/a/b:c\n      imageRefs: refs.txt\n    registry:\n      plainHTTP: true\n",
        )
        .unwrap();
        let command = BundleCommand {
            config: Some(config.display().to_string()),
            ..BundleCommand::default()
        };
        let plan = command.plan().unwrap();
        assert!(plan.registry.plain_http && !plan.registry.insecure_tls);
        assert_eq!(plan.image_refs, Some(PathBuf::from("refs.txt")));
        let flags = BundleCommand {
            image_refs: Some("mine.txt".into()),
            ..command
        };
        assert_eq!(
            flags.plan().unwrap().image_refs,
            Some(PathBuf::from("mine.txt"))
        );
        std::fs::write(
            &config,
            "kind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  bundle:\n    registry:\n      plainHTTP: yes please\n",
        )
        .unwrap();
        let err = flags.plan().unwrap_err();
        assert!(err.to_string().contains("plainHTTP"), "{err}");
    }

    #[test]
    fn bundle_requests_deserialise_from_query_style_keys() {
        let req: BundleRequest = serde_json::from_value(serde_json::json!({
            "deployer": "flux", "set": ["gpuoperator:driver.version=1"], "nodes": 2
        }))
        .unwrap();
        assert_eq!(req.options().unwrap().nodes, 2);
        let negative = BundleRequest {
            nodes: Some(-1),
            ..BundleRequest::default()
        };
        assert!(negative.options().is_err());
        assert!(serde_json::from_value::<BundleRequest>(serde_json::json!({"bogus": 1})).is_err());
    }
}

/// `aicr validate` as asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidateRequest {
    /// `--phase` values as written; none means every phase.
    pub phases: Vec<String>,
    /// `--no-cluster`: check the snapshot only and report the phases'
    /// checks as skipped.
    pub no_cluster: bool,
}
