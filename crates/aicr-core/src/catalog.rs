//! The parsed catalog: registry, overlays (with `base`), mixins. Parsed
//! once, read-only afterwards; values files and the validator catalog are
//! parsed on first use because most commands never need them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;

use crate::error::{Error, Result};
use crate::load::{EXTERNAL, Loader, Mode, parse_doc};
use crate::model::{
    ExternalFile, RecipeMetadata, RecipeMixin, RegistryEntry, ValidatorCatalog, Values,
};
use crate::provider::{DataProvider, check_relative};

/// Name of the root overlay.
pub const BASE: &str = "base";

/// A loaded catalog.
pub struct Catalog {
    provider: Box<dyn DataProvider>,
    /// Registry entries by component name, in file order.
    pub registry: IndexMap<String, RegistryEntry>,
    /// Overlays by name, `base` included, in path order.
    pub overlays: IndexMap<String, RecipeMetadata>,
    /// Where each overlay was read from.
    pub overlay_origins: HashMap<String, String>,
    /// Mixins by name.
    pub mixins: IndexMap<String, RecipeMixin>,
    values_cache: Mutex<HashMap<String, Arc<Values>>>,
    /// External files fetched (and verified) this process, by path.
    fetched: Mutex<HashMap<String, Arc<Vec<u8>>>>,
    /// `external-manifests.yaml`, parsed on first use.
    external: std::sync::OnceLock<Result<Vec<ExternalFile>>>,
    /// Why fetching an external file failed, by path, for the message.
    fetch_failures: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("overlays", &self.overlays.len())
            .field("mixins", &self.mixins.len())
            .field("registry", &self.registry.len())
            .finish_non_exhaustive()
    }
}

impl Catalog {
    /// Loads registry, overlays and mixins from `provider`; the first
    /// problem the loader finds (a document that does not parse, a wrong
    /// header, a duplicate name, a broken `spec.base` chain) is the error.
    pub fn load(provider: Box<dyn DataProvider>) -> Result<Self> {
        let loaded = Loader::new(provider.as_ref(), Mode::FailFast).catalog()?;
        let overlay_origins = loaded
            .overlays
            .iter()
            .map(|(name, o)| (name.clone(), provider.origin(&o.file)))
            .collect();
        Ok(Catalog {
            registry: loaded
                .registry
                .into_iter()
                .map(|(name, d)| (name, d.entry))
                .collect(),
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
            provider,
            values_cache: Mutex::new(HashMap::new()),
            fetched: Mutex::new(HashMap::new()),
            external: std::sync::OnceLock::new(),
            fetch_failures: Mutex::new(HashMap::new()),
        })
    }

    /// The provider the catalog was read from.
    pub fn provider(&self) -> &dyn DataProvider {
        self.provider.as_ref()
    }

    /// Reads a catalog file by relative path; missing is NOT_FOUND. A file
    /// listed in `external-manifests.yaml` must have the pinned SHA-256,
    /// wherever it comes from (`--data` or a fetch).
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>> {
        check_relative(path)?;
        let external = self.external_file(path)?;
        if let Some(bytes) = self.provider.read(path)? {
            if let Some(entry) = &external {
                verify_external(entry, &bytes, &self.provider.origin(path))?;
            }
            return Ok(bytes.into_owned());
        }
        if let Some(bytes) = self.fetched.lock().expect("fetched").get(path) {
            return Ok(bytes.as_ref().clone());
        }
        let Some(entry) = external else {
            return Err(Error::not_found(format!(
                "file {path} not found in the catalog"
            )));
        };
        let why = match self
            .fetch_failures
            .lock()
            .expect("fetch failures")
            .get(path)
        {
            Some(reason) => format!("fetching it failed ({reason})"),
            None => "it was not fetched".to_string(),
        };
        Err(Error::not_found(format!(
            "{path} is not embedded in the catalog: it is downloaded from {} ({}, sha256 {}) and {why}. \
             Without network, download that file and pass it with --data DIR as DIR/{path} \
             (a --data directory also needs a registry.yaml: `apiVersion: aicr.nvidia.com/v1alpha1`, `kind: ComponentRegistry`, `components: []` will do)",
            entry.url, entry.version, entry.sha256
        )))
    }

    /// The external-manifests entries of the catalog, parsed once: every
    /// manifest read consults them.
    pub fn external_files(&self) -> Result<&[ExternalFile]> {
        match self.external.get_or_init(|| self.parse_external_files()) {
            Ok(files) => Ok(files),
            Err(e) => Err(e.clone()),
        }
    }

    fn parse_external_files(&self) -> Result<Vec<ExternalFile>> {
        Loader::new(self.provider.as_ref(), Mode::FailFast).external_files()
    }

    fn external_file(&self, path: &str) -> Result<Option<ExternalFile>> {
        Ok(self
            .external_files()?
            .iter()
            .find(|f| f.path == path)
            .cloned())
    }

    /// External files that recipes may name and that neither the provider
    /// nor an earlier fetch has: what a caller with network should fetch.
    pub fn missing_external_files(&self) -> Result<Vec<ExternalFile>> {
        let fetched = self.fetched.lock().expect("fetched");
        let mut missing = Vec::new();
        for entry in self.external_files()? {
            if !fetched.contains_key(&entry.path) && self.provider.read(&entry.path)?.is_none() {
                missing.push(entry.clone());
            }
        }
        Ok(missing)
    }

    /// Records the outcome of fetching an external file: verified bytes are
    /// served by [`Catalog::read_file`] from then on; a failure is kept for
    /// its error message.
    pub fn add_fetched(
        &self,
        entry: &ExternalFile,
        outcome: std::result::Result<Vec<u8>, String>,
    ) -> Result<()> {
        match outcome {
            Ok(bytes) => {
                verify_external(entry, &bytes, &entry.url)?;
                self.fetched
                    .lock()
                    .expect("fetched")
                    .insert(entry.path.clone(), Arc::new(bytes));
            }
            Err(reason) => {
                self.fetch_failures
                    .lock()
                    .expect("fetch failures")
                    .insert(entry.path.clone(), reason);
            }
        }
        Ok(())
    }

    /// A values file, parsed once and shared.
    pub fn values_file(&self, path: &str) -> Result<Arc<Values>> {
        if let Some(hit) = self.values_cache.lock().expect("values cache").get(path) {
            return Ok(hit.clone());
        }
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
        let values = Arc::new(values);
        self.values_cache
            .lock()
            .expect("values cache")
            .insert(path.to_string(), values.clone());
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
