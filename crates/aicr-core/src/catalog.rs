//! The parsed catalog: the components (registry, external-manifest pins)
//! and, for resolving, the overlays (with `base`) and mixins. Parsed once and immutable afterwards, so one
//! catalog can serve any number of concurrent requests; values files and
//! the validator catalog are parsed when asked for because most commands
//! never need them. Downloaded manifests are not kept here: a caller
//! fetches them ([`ExternalFile`]) and hands them in as [`FetchedFiles`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::error::{Error, Result};
use crate::load::{EXTERNAL, Loader, Mode, parse_doc};
use crate::model::{
    ExternalFile, RecipeMetadata, RecipeMixin, RegistryEntry, ValidatorCatalog, Values,
};
use crate::provider::{DataProvider, check_relative};
use crate::recipe::RecipeResult;

/// Name of the root overlay.
pub const BASE: &str = "base";

/// What bundling reads: the component registry, the external-manifest
/// pins and the files behind them (values, manifests). Loaded without the
/// overlays and mixins, which only resolving needs, so a command that
/// bundles a recipe file does not parse them.
pub struct Components {
    provider: Box<dyn DataProvider>,
    /// Registry entries by component name, in file order.
    pub registry: IndexMap<String, RegistryEntry>,
    /// `external-manifests.yaml`: files pinned by URL and SHA-256.
    external: Vec<ExternalFile>,
}

/// A loaded catalog: the [`Components`] plus the overlays and mixins that
/// resolving a recipe walks.
pub struct Catalog {
    components: Arc<Components>,
    /// Overlays by name, `base` included, in path order.
    pub overlays: IndexMap<String, RecipeMetadata>,
    /// Where each overlay was read from.
    pub overlay_origins: HashMap<String, String>,
    /// Mixins by name.
    pub mixins: IndexMap<String, RecipeMixin>,
    /// Where each mixin was read from.
    pub mixin_origins: HashMap<String, String>,
}

/// External manifests downloaded for one operation, each verified against
/// its pinned digest when added. Owned by the caller, never by the
/// catalog, so one request's downloads cannot leak into another's.
#[derive(Debug, Clone, Default)]
pub struct FetchedFiles {
    files: BTreeMap<String, Vec<u8>>,
}

impl FetchedFiles {
    /// Adds the downloaded bytes of `entry`; bytes without the pinned
    /// digest are refused (UNAUTHORIZED).
    pub fn add(&mut self, entry: &ExternalFile, bytes: Vec<u8>) -> Result<()> {
        verify_external(entry, &bytes, &entry.url)?;
        self.files.insert(entry.path.clone(), bytes);
        Ok(())
    }

    /// The verified bytes of the file at catalog path `path`.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// How many files are held.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file is held.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("overlays", &self.overlays.len())
            .field("mixins", &self.mixins.len())
            .field("registry", &self.components.registry.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Components {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Components")
            .field("registry", &self.registry.len())
            .field("external", &self.external.len())
            .finish_non_exhaustive()
    }
}

impl Catalog {
    /// Loads registry, external-manifest pins, overlays and mixins from
    /// `provider`; the first problem the loader finds (a document that
    /// does not parse, a wrong header, a duplicate name, a broken
    /// `spec.base` chain) is the error.
    pub fn load(provider: Box<dyn DataProvider>) -> Result<Self> {
        Catalog::over(Arc::new(Components::load(provider)?))
    }

    /// Loads the overlays and mixins of the provider `components` were
    /// read from, sharing `components`.
    pub fn over(components: Arc<Components>) -> Result<Self> {
        let provider = components.provider();
        let loaded = Loader::new(provider, Mode::FailFast).recipes()?;
        let overlay_origins = loaded
            .overlays
            .iter()
            .map(|(name, o)| (name.clone(), provider.origin(&o.file)))
            .collect();
        let mixin_origins = loaded
            .mixins
            .iter()
            .map(|(name, m)| (name.clone(), provider.origin(&m.file)))
            .collect();
        Ok(Catalog {
            mixin_origins,
            overlays: loaded
                .overlays
                .into_iter()
                .map(|(name, o)| (name, o.doc))
                .collect(),
            overlay_origins,
            mixins: loaded
                .mixins
                .into_iter()
                .map(|(name, m)| (name, m.doc))
                .collect(),
            components,
        })
    }

    /// The registry and files the catalog's overlays refer to.
    pub fn components(&self) -> &Arc<Components> {
        &self.components
    }
}

impl Components {
    /// Loads the registry and the external-manifest pins from `provider`;
    /// the first problem found is the error.
    pub fn load(provider: Box<dyn DataProvider>) -> Result<Self> {
        let mut loader = Loader::new(provider.as_ref(), Mode::FailFast);
        let registry = loader.registry_entries()?;
        let external = loader.external_files()?;
        Ok(Components {
            registry: registry
                .into_iter()
                .map(|(name, d)| (name, d.entry))
                .collect(),
            external,
            provider,
        })
    }

    /// The provider the catalog was read from.
    pub fn provider(&self) -> &dyn DataProvider {
        self.provider.as_ref()
    }

    /// Reads a catalog file by relative path; missing is NOT_FOUND. A file
    /// listed in `external-manifests.yaml` must have the pinned SHA-256,
    /// wherever it comes from (`--data` or `fetched`).
    pub fn read_file(&self, path: &str, fetched: &FetchedFiles) -> Result<Vec<u8>> {
        check_relative(path)?;
        let external = self.external_file(path);
        if let Some(bytes) = self.provider.read(path)? {
            if let Some(entry) = external {
                verify_external(entry, &bytes, &self.provider.origin(path))?;
            }
            return Ok(bytes.into_owned());
        }
        if let Some(bytes) = fetched.get(path) {
            return Ok(bytes.to_vec());
        }
        let Some(entry) = external else {
            return Err(Error::not_found(format!(
                "file {path} not found in the catalog"
            )));
        };
        Err(Error::not_found(format!(
            "{path} is not embedded in the catalog: it is downloaded from {} ({}, sha256 {}) and was not fetched. {}",
            entry.url,
            entry.version,
            entry.sha256,
            offline_hint(path)
        )))
    }

    /// The external-manifests entries of the catalog.
    pub fn external_files(&self) -> &[ExternalFile] {
        &self.external
    }

    fn external_file(&self, path: &str) -> Option<&ExternalFile> {
        self.external.iter().find(|f| f.path == path)
    }

    /// External files that `recipe` names and that the catalog's provider
    /// does not hold: what a caller with network has to fetch.
    pub fn external_files_to_fetch(&self, recipe: &RecipeResult) -> Result<Vec<&ExternalFile>> {
        let named = |path: &str| {
            recipe.component_refs.iter().any(|c| {
                c.manifest_files
                    .iter()
                    .chain(&c.pre_manifest_files)
                    .any(|m| m == path)
            })
        };
        let mut missing = Vec::new();
        for entry in &self.external {
            if named(&entry.path) && self.provider.read(&entry.path)?.is_none() {
                missing.push(entry);
            }
        }
        Ok(missing)
    }

    /// A values file, parsed on every call: the catalog keeps no caches, and
    /// an embedded file parses from its pre-parsed compact form in microseconds.
    pub fn values_file(&self, path: &str) -> Result<Values> {
        check_relative(path)?;
        let bytes = self.provider.read(path)?.ok_or_else(|| {
            Error::not_found(format!("values file {path} not found in the catalog"))
        })?;
        let origin = self.provider.origin(path);
        let value: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Object(Values::new())
        } else {
            parse_doc(self.provider.as_ref(), path, &bytes, &origin)?
        };
        let values = match value {
            serde_json::Value::Object(map) => map,
            serde_json::Value::Null => Values::new(),
            _ => {
                return Err(Error::invalid(format!(
                    "{origin}: a values file must hold a mapping"
                )));
            }
        };
        Ok(values)
    }

    /// The validator catalog (`validators/catalog.yaml`), merged by name
    /// across layers, or `None` when the catalog has none.
    pub fn validators(&self) -> Result<Option<ValidatorCatalog>> {
        let loaded = Loader::new(self.provider.as_ref(), Mode::FailFast).validators()?;
        Ok(loaded.catalog)
    }
}

/// Fails with UNAUTHORIZED when `bytes` lack the pinned digest.
fn verify_external(entry: &ExternalFile, bytes: &[u8], origin: &str) -> Result<()> {
    use sha2::{Digest, Sha256};
    let got: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if got == entry.sha256.to_ascii_lowercase() {
        return Ok(());
    }
    Err(Error::new(
        crate::error::Code::Unauthorized,
        format!(
            "{origin}: sha256 {got} does not match {} pinned for {} in {EXTERNAL}",
            entry.sha256, entry.path
        ),
    ))
}

/// What to do without network, for a manifest that must be downloaded.
pub fn offline_hint(path: &str) -> String {
    format!(
        "Without network, download that file and pass it with --data DIR as DIR/{path} \
         (a --data directory also needs a registry.yaml: `apiVersion: aicr.nvidia.com/v1alpha1`, \
         `kind: ComponentRegistry`, `components: []` will do)"
    )
}
