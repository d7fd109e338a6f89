//! [`Client`]: every AICR operation as a method over one immutable catalog.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use aicr_bundle::{
    BundleOptions, FetchedCharts, FileTree, PublicKey, Signing, SigningKey, VendoredChart,
    VerifyReport,
};
use aicr_core::catalog::{FetchedFiles, offline_hint};
use aicr_core::{
    Catalog, Code, Components, Criteria, DirProvider, EmbeddedProvider, Error, LayeredProvider,
    RecipeResult, Result,
};
use serde_json::Value;

use aicr_core::diff::DiffReport;
use aicr_core::snapshot::{MAX_SNAPSHOT_BYTES, Snapshot};
use aicr_core::validate::{CtrfReport, Phase, ValidateOptions};

use aicr_core::explain::{self, Explanation};
use aicr_core::graph::DeploymentGraph;
use aicr_core::output::Format;

use crate::cluster::Connection;
use crate::io::{Input, MAX_DOCUMENT_BYTES, Output};
use crate::request::ValidateRequest;
use crate::request::{CatalogSource, RecipeView};

/// Largest external manifest we download.
const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

/// The AICR API. Cheap to clone; the catalog is shared read-only, so one
/// client serves concurrent calls, and no call sees another's downloads
/// or failures.
#[derive(Debug, Clone)]
pub struct Client {
    components: Arc<Components>,
    /// Overlays and mixins. `None` for the embedded catalog: they are
    /// parsed once per process by the first call that resolves, so a
    /// command that only bundles a recipe file never parses them.
    catalog: Option<Arc<Catalog>>,
    /// The cluster, for `cm://` sources and destinations, snapshots and the agent; connected on
    /// first use.
    pub(crate) cluster: Connection,
}

impl Client {
    /// A client over `source`. A directory is loaded whole, so its
    /// mistakes surface here; the embedded catalog is parsed once per
    /// process and shared by every client.
    pub fn open(source: &CatalogSource) -> Result<Self> {
        let catalog = match source {
            CatalogSource::Embedded => return Client::embedded(),
            CatalogSource::Dir(dir) => {
                let provider = DirProvider::open(dir)?;
                Catalog::load(Box::new(provider))
                    .map_err(|e| e.context(format!("loading catalog {}", dir.display())))?
            }
            CatalogSource::Layered(dir) => {
                let provider = LayeredProvider::new(dir, Box::new(EmbeddedProvider))?;
                Catalog::load(Box::new(provider))
                    .map_err(|e| e.context(format!("loading data directory {}", dir.display())))?
            }
        };
        let catalog = Arc::new(catalog);
        Ok(Client {
            components: catalog.components().clone(),
            catalog: Some(catalog),
            cluster: Connection::default(),
        })
    }

    /// A client over the catalog compiled into the binary.
    pub fn embedded() -> Result<Self> {
        Ok(Client {
            components: embedded_components()?,
            catalog: None,
            cluster: Connection::default(),
        })
    }

    /// This client with `cm://` reads and writes going through
    /// `kubeconfig` (`--kubeconfig`) instead of discovery.
    pub fn with_kubeconfig(mut self, kubeconfig: Option<PathBuf>) -> Self {
        self.cluster = Connection::new(kubeconfig);
        self
    }

    /// Writes a rendered document to `output`: stdout, a file (atomically)
    /// or a ConfigMap, stamped with `now` (seconds since the epoch, read by
    /// the caller).
    pub async fn write_output(
        &self,
        output: &Output,
        format: Format,
        text: &str,
        now: u64,
    ) -> Result<()> {
        self.cluster.write(output, format, text, now).await
    }

    /// [`Client::write_output`] for synchronous callers; a runtime is used
    /// only for a ConfigMap.
    pub fn write_output_blocking(
        &self,
        output: &Output,
        format: Format,
        text: &str,
        now: u64,
    ) -> Result<()> {
        match output {
            Output::ConfigMap { .. } => {
                crate::block_on(self.cluster.write(output, format, text, now))
            }
            _ => output.write(text.as_bytes()),
        }
    }

    /// The registry and the files components refer to.
    pub fn components(&self) -> &Components {
        &self.components
    }

    /// The whole catalog; for the embedded one, parses its overlays and
    /// mixins on the first call in the process.
    pub fn catalog(&self) -> Result<Arc<Catalog>> {
        match &self.catalog {
            Some(catalog) => Ok(catalog.clone()),
            None => {
                static EMBEDDED: OnceLock<std::result::Result<Arc<Catalog>, Error>> =
                    OnceLock::new();
                EMBEDDED
                    .get_or_init(|| Catalog::over(embedded_components()?).map(Arc::new))
                    .clone()
            }
        }
    }

    /// Resolves the recipe for `criteria`.
    pub fn recipe(&self, criteria: &Criteria) -> Result<RecipeResult> {
        self.recipe_with(criteria, None)
    }

    /// Resolves the recipe for `criteria`; with a `snapshot`, matching
    /// overlays whose constraints fail against its readings are left out
    /// and listed in `metadata.excludedOverlays` and
    /// `metadata.constraintWarnings` (see [`aicr_core::resolve_with`]).
    pub fn recipe_with(
        &self,
        criteria: &Criteria,
        snapshot: Option<&Snapshot>,
    ) -> Result<RecipeResult> {
        aicr_core::resolve_with(&*self.catalog()?, criteria, crate::VERSION, snapshot)
    }

    /// Resolves the recipe for `criteria` (and `snapshot`, as
    /// [`Client::recipe_with`]) and explains it: every overlay and why it
    /// matched or not, and the documents behind every component field,
    /// constraint and value. Tracing costs only here; [`Client::recipe`]
    /// records nothing.
    pub fn explain(
        &self,
        criteria: &Criteria,
        snapshot: Option<&Snapshot>,
    ) -> Result<(RecipeResult, Explanation)> {
        explain::explain(&*self.catalog()?, criteria, crate::VERSION, snapshot)
    }

    /// The part of `explanation` a `selector` names (`.` or empty for all;
    /// `components.gpu-operator.values.driver.version` for one value's
    /// history) in `format`.
    pub fn render_explanation(
        &self,
        explanation: &Explanation,
        selector: &str,
        format: Format,
    ) -> Result<String> {
        explain::render(explanation, selector, format)
    }

    /// The hydrated recipe for `criteria`, narrowed by a dot-path
    /// `selector` (`.` for all).
    pub fn query(&self, criteria: &Criteria, selector: &str) -> Result<Value> {
        self.query_recipe(&self.recipe(criteria)?, selector)
    }

    /// `recipe` as text: the document in its format, or a drawing of
    /// its deployment graph (a cycle is INVALID_REQUEST with its path).
    pub fn render_recipe(&self, recipe: &RecipeResult, view: RecipeView) -> Result<String> {
        Ok(match view {
            RecipeView::Document(format) => format.render(recipe),
            RecipeView::Dot => DeploymentGraph::of(recipe)?.to_dot(),
            RecipeView::Mermaid => DeploymentGraph::of(recipe)?.to_mermaid(),
        })
    }

    /// `recipe` hydrated and narrowed by a dot-path `selector`.
    pub fn query_recipe(&self, recipe: &RecipeResult, selector: &str) -> Result<Value> {
        let doc = aicr_core::query::hydrate(&self.components, recipe)?;
        aicr_core::query::select(&doc, selector).cloned()
    }

    /// Reads a recipe for bundling from `input` (see
    /// [`Client::parse_recipe`]).
    pub async fn read_recipe(&self, input: &Input) -> Result<RecipeResult> {
        let bytes = self.cluster.read(input, MAX_DOCUMENT_BYTES).await;
        self.recipe_from(input, bytes)
    }

    /// [`Client::read_recipe`] for synchronous callers; a runtime is
    /// started only for a remote source.
    pub fn read_recipe_blocking(&self, input: &Input) -> Result<RecipeResult> {
        let bytes = self.cluster.read_blocking(input, MAX_DOCUMENT_BYTES);
        self.recipe_from(input, bytes)
    }

    fn recipe_from(&self, input: &Input, bytes: Result<Vec<u8>>) -> Result<RecipeResult> {
        let shown = match input {
            Input::File(path) => std::path::absolute(path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
            _ => input.describe(),
        };
        let bytes = bytes.map_err(|e| match e.code() {
            // The reference's wording for a missing local recipe.
            Code::NotFound if matches!(input, Input::File(_)) => {
                Error::not_found(format!("recipe file not found: {shown}"))
            }
            _ => e.context(format!("reading recipe {shown}")),
        })?;
        self.parse_recipe(&bytes, &shown)
    }

    /// Parses recipe text: a `RecipeResult` (or a document without
    /// `kind`), or a `RecipeMetadata` with `spec.criteria`, which is
    /// resolved against this client's catalog. `origin` names it in errors.
    pub fn parse_recipe(&self, bytes: &[u8], origin: &str) -> Result<RecipeResult> {
        // Parse once as the common case; only a document that is not a
        // RecipeResult is read again to find out what it is.
        let recipe = match aicr_core::yaml::parse::<RecipeResult>(bytes, origin) {
            Ok(recipe) => recipe,
            Err(not_a_result) => self.recipe_from_other_kind(bytes, origin, not_a_result)?,
        };
        aicr_core::ident::check_recipe(&recipe, origin)?;
        Ok(recipe)
    }

    /// A recipe file that did not parse as a `RecipeResult`: a
    /// `RecipeMetadata` with `spec.criteria` is resolved; another kind is
    /// named in the error; a RecipeResult with a mistake keeps its error.
    fn recipe_from_other_kind(
        &self,
        bytes: &[u8],
        origin: &str,
        not_a_result: Error,
    ) -> Result<RecipeResult> {
        let doc: Value = aicr_core::yaml::parse(bytes, origin)?;
        match doc.get("kind").and_then(Value::as_str).unwrap_or("") {
            "" | "RecipeResult" => Err(not_a_result),
            "RecipeMetadata" => {
                let criteria = doc.pointer("/spec/criteria").cloned().ok_or_else(|| {
                    Error::invalid(format!(
                        "{origin}: a RecipeMetadata recipe needs spec.criteria to be resolved"
                    ))
                })?;
                let criteria: Criteria = serde_json::from_value(criteria).map_err(|e| {
                    Error::invalid(format!("{origin}: spec.criteria is not valid")).with_source(e)
                })?;
                self.recipe(&criteria)
            }
            other => Err(Error::invalid(format!(
                "recipe file has kind {:?}, but \"RecipeResult\" is required",
                aicr_core::error::escape(other)
            ))),
        }
    }

    /// Downloads the third-party manifests `recipe` names that the catalog
    /// pins by URL and digest (`external-manifests.yaml`) but does not
    /// hold, each checked against its digest. Returns at once, with
    /// nothing, when there is nothing to fetch.
    pub async fn fetch_manifests(&self, recipe: &RecipeResult) -> Result<FetchedFiles> {
        let mut fetched = FetchedFiles::default();
        for entry in self.components.external_files_to_fetch(recipe)? {
            let bytes = crate::http::get(&entry.url, MAX_MANIFEST_BYTES)
                .await
                .map_err(|e| {
                    e.context(format!(
                        "{} is not embedded in the catalog and downloading it ({}, sha256 {}) failed. {}",
                        entry.path,
                        entry.version,
                        entry.sha256,
                        offline_hint(&entry.path)
                    ))
                })?;
            fetched.add(entry, bytes)?;
        }
        Ok(fetched)
    }

    /// [`Client::fetch_manifests`] for synchronous callers; a runtime is
    /// started only when there is something to download.
    pub fn fetch_manifests_blocking(&self, recipe: &RecipeResult) -> Result<FetchedFiles> {
        if self.components.external_files_to_fetch(recipe)?.is_empty() {
            return Ok(FetchedFiles::default());
        }
        crate::block_on(self.fetch_manifests(recipe))
    }

    /// Downloads the Helm chart of every component of `recipe` that has a
    /// chart repository, for `options.vendor_charts` (see
    /// [`crate::ChartFetch`]); the manifests `fetched` are needed to know
    /// which components the options keep. Nothing when vendoring is off.
    pub async fn fetch_charts(
        &self,
        recipe: &RecipeResult,
        options: &BundleOptions,
        fetched: &FetchedFiles,
        settings: &crate::ChartFetch,
    ) -> Result<FetchedCharts> {
        if !options.vendor_charts {
            return Ok(FetchedCharts::default());
        }
        let prepared = aicr_bundle::prepare(&self.components, recipe, options, fetched)?;
        let requests = aicr_bundle::vendor::charts_to_vendor(&prepared)?;
        crate::charts::fetch(&requests, settings).await
    }

    /// [`Client::fetch_charts`] for synchronous callers; a runtime is
    /// started only when vendoring is on.
    pub fn fetch_charts_blocking(
        &self,
        recipe: &RecipeResult,
        options: &BundleOptions,
        fetched: &FetchedFiles,
        settings: &crate::ChartFetch,
    ) -> Result<FetchedCharts> {
        if !options.vendor_charts {
            return Ok(FetchedCharts::default());
        }
        crate::block_on(self.fetch_charts(recipe, options, fetched, settings))
    }

    /// Renders the bundle of `recipe`: a pure function of the catalog, the
    /// recipe, the options and the manifests already fetched.
    pub fn render_bundle(
        &self,
        recipe: &RecipeResult,
        options: &BundleOptions,
        fetched: &FetchedFiles,
    ) -> Result<FileTree> {
        aicr_bundle::bundle(&self.components, recipe, options, fetched)
    }

    /// [`Client::render_bundle`] with the chart archives of
    /// `--vendor-charts` ([`Client::fetch_charts`]) and, given a key, the
    /// signed provenance `attestation/bundle-attestation.sigstore.json`
    /// (byte-identical for the same inputs and key). Also returns where
    /// each vendored archive went.
    pub fn render_bundle_with(
        &self,
        recipe: &RecipeResult,
        options: &BundleOptions,
        fetched: &FetchedFiles,
        charts: &FetchedCharts,
        signing: Option<&Signing>,
    ) -> Result<(FileTree, Vec<VendoredChart>)> {
        aicr_bundle::bundle_with(&self.components, recipe, options, fetched, charts, signing)
    }

    /// A bundle as one zip archive, byte-identical for the same tree (see
    /// [`aicr_bundle::archive::zip`]).
    pub fn archive_bundle(&self, tree: &FileTree) -> Result<Vec<u8>> {
        aicr_bundle::archive::zip(tree)
    }

    /// Writes a bundle to `dir` atomically (see [`aicr_bundle::write_tree`]).
    pub fn write_bundle(&self, tree: &FileTree, dir: &Path, force: bool) -> Result<()> {
        aicr_bundle::write_tree(tree, dir, force)
    }

    /// Reads a snapshot from `input` (file, `-` or `http(s)://`), capped
    /// at 1 MiB and parsed strictly (see [`Snapshot::parse`]).
    pub async fn read_snapshot(&self, input: &Input) -> Result<Snapshot> {
        let bytes = self.cluster.read(input, MAX_SNAPSHOT_BYTES).await;
        snapshot_from(input, bytes)
    }

    /// [`Client::read_snapshot`] for synchronous callers; a runtime is
    /// started only for a remote source.
    pub fn read_snapshot_blocking(&self, input: &Input) -> Result<Snapshot> {
        let bytes = self.cluster.read_blocking(input, MAX_SNAPSHOT_BYTES);
        snapshot_from(input, bytes)
    }

    /// The drift from `baseline` to `target`; the sources name them in
    /// the report as the user wrote them.
    pub fn diff(&self, baseline: (&Snapshot, &str), target: (&Snapshot, &str)) -> DiffReport {
        aicr_core::diff::diff(baseline.0, target.0, baseline.1, target.1)
    }

    /// Checks `recipe` against `snapshot`: its top-level constraints
    /// (readiness), and with `no_cluster` every validator of the
    /// requested phases reported as skipped. Running phases on a cluster
    /// is not supported yet, so naming phases without `no_cluster` is
    /// INVALID_REQUEST. A report with failures is still a report; see
    /// [`CtrfReport::has_failures`].
    pub fn validate(
        &self,
        recipe: &RecipeResult,
        snapshot: &Snapshot,
        request: &ValidateRequest,
    ) -> Result<CtrfReport> {
        let phases = Phase::parse_list(&request.phases)?;
        if !request.no_cluster && !request.phases.is_empty() {
            return Err(Error::invalid(
                "running validation phases on a cluster is not supported yet: use --no-cluster to check the readiness constraints against the snapshot and list the phases' checks as skipped, or leave out --phase to check readiness alone",
            ));
        }
        let validators = if request.no_cluster {
            self.components.validators()?
        } else {
            None
        };
        let options = ValidateOptions {
            skipped_phases: if request.no_cluster {
                phases
            } else {
                Vec::new()
            },
            tool_version: crate::VERSION.to_string(),
        };
        aicr_core::validate::validate(recipe, snapshot, validators.as_ref(), &options)
    }

    /// Verifies the bundle in `dir`: its `checksums.txt`, then its
    /// attestation against `public_key` (see [`aicr_bundle::verify_dir`]).
    /// Failures are in the report; [`VerifyReport::into_result`] turns
    /// them, or a [`VerifyPolicy`](crate::VerifyPolicy) miss, into the error.
    pub fn verify(&self, dir: &Path, public_key: Option<&PublicKey>) -> Result<VerifyReport> {
        aicr_bundle::verify_dir(dir, public_key)
    }
}

/// Largest key file read (a PEM key is well under 1 KiB).
const MAX_KEY_BYTES: u64 = 64 * 1024;

/// Reads a PEM private key (`--signing-key`): PKCS#8 ECDSA P-256 or
/// Ed25519, or SEC1 P-256; an encrypted key is INVALID_REQUEST.
pub fn read_signing_key(path: &Path) -> Result<SigningKey> {
    let (text, shown) = read_key_file(path, "signing key")?;
    SigningKey::from_pem(&text, &shown)
}

/// Reads a PEM public key (`--public-key`), P-256 or Ed25519.
pub fn read_public_key(path: &Path) -> Result<PublicKey> {
    let (text, shown) = read_key_file(path, "public key")?;
    PublicKey::from_pem(&text, &shown)
}

fn read_key_file(path: &Path, what: &str) -> Result<(String, String)> {
    let shown = aicr_core::error::escape(&path.display().to_string());
    let bytes = crate::io::read_file(path, MAX_KEY_BYTES).map_err(|e| match e.code() {
        Code::NotFound => Error::not_found(format!("{what} file not found: {shown}")),
        _ => e.context(format!("reading {what} {shown}")),
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::invalid(format!("{what} {shown} is not PEM text")))?;
    Ok((text, shown))
}

/// The components of the embedded catalog, parsed once per process.
fn embedded_components() -> Result<Arc<Components>> {
    static EMBEDDED: OnceLock<std::result::Result<Arc<Components>, Error>> = OnceLock::new();
    EMBEDDED
        .get_or_init(|| Components::load(Box::new(EmbeddedProvider)).map(Arc::new))
        .clone()
}

/// [`Client::read_snapshot_blocking`], for planning before a client exists.
/// A ConfigMap source connects through discovery for this read alone.
pub(crate) fn read_snapshot_blocking(input: &Input) -> Result<Snapshot> {
    let bytes = Connection::default().read_blocking(input, MAX_SNAPSHOT_BYTES);
    snapshot_from(input, bytes)
}

fn snapshot_from(input: &Input, bytes: Result<Vec<u8>>) -> Result<Snapshot> {
    let shown = input.describe();
    let bytes = bytes.map_err(|e| match e.code() {
        Code::NotFound if matches!(input, Input::File(_)) => {
            Error::not_found(format!("snapshot file not found: {shown}"))
        }
        _ => e.context(format!("reading snapshot {shown}")),
    })?;
    Snapshot::parse(&bytes, &shown)
}
