//! `aicr`: the facade. One [`Client`] composes the library crates; the CLI
//! and the server wrap it and hold no business logic.
//!
//! ```
//! use aicr::{Client, Criteria};
//! use aicr::core::criteria::{Service, Accelerator, Intent};
//!
//! let client = Client::embedded().unwrap();
//! let query = Criteria { service: Service::Eks, accelerator: Accelerator::H100,
//!                        intent: Intent::Training, ..Criteria::default() };
//! let recipe = client.recipe(&query).unwrap();
//! assert!(recipe.deployment_order.contains(&"gpu-operator".to_string()));
//! ```

use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use aicr_bundle as bundle;
use aicr_bundle::{BundleOptions, FileTree, VerifyReport};
pub use aicr_core as core;
use aicr_core::{Catalog, DirProvider, EmbeddedProvider, LayeredProvider};
pub use aicr_core::{Code, Criteria, Error, RecipeResult, Result};
use serde_json::Value;

/// Largest external manifest we download.
const MAX_DOWNLOAD_BYTES: u64 = 16 * 1024 * 1024;

/// Largest recipe we download (the reference's limit).
const MAX_RECIPE_BYTES: u64 = 1024 * 1024;

/// Downloads `url` (30 s in all, at most `limit` bytes); the error text
/// says why it failed.
fn download(url: &str, limit: u64) -> std::result::Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| e.to_string())
}

/// Version stamped into `metadata.version` of every recipe.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// The AICR API: resolve recipes, query them, and (as issues land) bundle,
/// snapshot, validate and diff.
#[derive(Debug, Clone)]
pub struct Client {
    catalog: Arc<Catalog>,
}

impl Client {
    /// A client over the catalog compiled into the binary. The catalog is
    /// parsed once per process and shared.
    pub fn embedded() -> Result<Self> {
        static EMBEDDED: OnceLock<std::result::Result<Arc<Catalog>, Error>> = OnceLock::new();
        let catalog = EMBEDDED
            .get_or_init(|| Catalog::load(Box::new(EmbeddedProvider)).map(Arc::new))
            .clone()?;
        Ok(Client { catalog })
    }

    /// A client over a directory used as the entire catalog (`--catalog`).
    pub fn with_catalog_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let provider = DirProvider::open(dir)?;
        let catalog = Catalog::load(Box::new(provider))
            .map_err(|e| e.context(format!("loading catalog {}", dir.display())))?;
        Ok(Client {
            catalog: Arc::new(catalog),
        })
    }

    /// A client over external data layered on the embedded catalog (`--data`).
    pub fn with_data_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let provider = LayeredProvider::new(dir, Box::new(EmbeddedProvider))?;
        let catalog = Catalog::load(Box::new(provider))
            .map_err(|e| e.context(format!("loading data directory {}", dir.display())))?;
        Ok(Client {
            catalog: Arc::new(catalog),
        })
    }

    /// The loaded catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Resolves the recipe for `criteria`.
    pub fn recipe(&self, criteria: &Criteria) -> Result<RecipeResult> {
        aicr_core::resolve(&self.catalog, criteria, VERSION)
    }

    /// The hydrated recipe for `criteria`, narrowed by a dot-path `selector`.
    pub fn query(&self, criteria: &Criteria, selector: &str) -> Result<Value> {
        let recipe = self.recipe(criteria)?;
        let doc = aicr_core::query::hydrate(&self.catalog, &recipe)?;
        aicr_core::query::select(&doc, selector).cloned()
    }

    /// The bundle of `recipe` for the deployer in `options`, in memory.
    /// Third-party manifests the catalog pins by URL and digest
    /// (`external-manifests.yaml`) are downloaded and verified first when
    /// the recipe names them and they are not in the catalog or `--data`.
    pub fn bundle(&self, recipe: &RecipeResult, options: &BundleOptions) -> Result<FileTree> {
        self.fetch_external_manifests(recipe)?;
        aicr_bundle::bundle(&self.catalog, recipe, options)
    }

    fn fetch_external_manifests(&self, recipe: &RecipeResult) -> Result<()> {
        let named = |path: &str| {
            recipe.component_refs.iter().any(|c| {
                c.manifest_files
                    .iter()
                    .chain(&c.pre_manifest_files)
                    .any(|m| m == path)
            })
        };
        for entry in self.catalog.missing_external_files()? {
            if named(&entry.path) {
                self.catalog
                    .add_fetched(&entry, download(&entry.url, MAX_DOWNLOAD_BYTES))?;
            }
        }
        Ok(())
    }

    /// Writes a bundle to `dir` atomically (see [`aicr_bundle::write_tree`]).
    pub fn write_bundle(&self, tree: &FileTree, dir: &Path, force: bool) -> Result<()> {
        aicr_bundle::write_tree(tree, dir, force)
    }

    /// Re-checks the bundle in `dir` against its `checksums.txt`; a bundle
    /// with findings is an UNAUTHORIZED error carrying them. Needs no
    /// catalog, so it is not a method.
    pub fn verify(dir: impl AsRef<Path>) -> Result<VerifyReport> {
        aicr_bundle::verify_dir(dir.as_ref())
    }

    /// Loads a recipe file for bundling: a `RecipeResult` (or a document
    /// without `kind`), or a `RecipeMetadata` with `spec.criteria`, which
    /// is resolved against this client's catalog.
    pub fn load_recipe(&self, path: impl AsRef<Path>) -> Result<RecipeResult> {
        let path = path.as_ref();
        let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                Error::not_found(format!("recipe file not found: {}", shown.display()))
            }
            _ => Error::invalid(format!("cannot read recipe file {}: {e}", shown.display())),
        })?;
        self.parse_recipe(&bytes, &shown.display().to_string())
    }

    /// Downloads a recipe from an HTTP(S) URL and loads it like a file;
    /// an unreachable server or a failed request is SERVICE_UNAVAILABLE.
    pub fn fetch_recipe(&self, url: &str) -> Result<RecipeResult> {
        let bytes = download(url, MAX_RECIPE_BYTES).map_err(|why| {
            Error::new(
                Code::ServiceUnavailable,
                format!("fetching recipe {url}: {why}"),
            )
        })?;
        self.parse_recipe(&bytes, url)
    }

    /// Parses recipe text (see [`Client::load_recipe`]); `origin` names it
    /// in errors.
    pub fn parse_recipe(&self, bytes: &[u8], origin: &str) -> Result<RecipeResult> {
        let doc: Value = aicr_core::yaml::parse(bytes, origin)?;
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        match kind {
            "" | "RecipeResult" => aicr_core::yaml::parse(bytes, origin),
            "RecipeMetadata" => {
                let criteria = doc.pointer("/spec/criteria").cloned().ok_or_else(|| {
                    Error::invalid(format!(
                        "{origin}: a RecipeMetadata recipe needs spec.criteria to be resolved"
                    ))
                })?;
                let criteria: Criteria = serde_json::from_value(criteria)
                    .map_err(|e| Error::invalid(format!("{origin}: spec.criteria: {e}")))?;
                self.recipe(&criteria)
            }
            other => Err(Error::invalid(format!(
                "recipe file has kind {other:?}, but \"RecipeResult\" is required"
            ))),
        }
    }
}

pub use aicr_core::lint::{LintReport, Problem};

/// Lints a catalog without loading it, so every problem is reported rather
/// than the first load error: the embedded catalog, a directory used as the
/// whole catalog (`catalog`), or a data directory layered over the embedded
/// one (`data`).
pub fn lint_catalog(catalog: Option<&Path>, data: Option<&Path>) -> Result<LintReport> {
    Ok(match (catalog, data) {
        (Some(dir), _) => aicr_core::lint::lint(&DirProvider::open(dir)?),
        (None, Some(dir)) => {
            aicr_core::lint::lint(&LayeredProvider::new(dir, Box::new(EmbeddedProvider))?)
        }
        (None, None) => aicr_core::lint::lint(&EmbeddedProvider),
    })
}
