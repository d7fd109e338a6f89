//! The parsed catalog: registry, overlays (with `base`), mixins. Parsed
//! once, read-only afterwards; values files and the validator catalog are
//! parsed on first use because most commands never need them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;

use crate::error::{Error, Result};
use crate::model::{
    API_VERSION, ComponentRegistry, ExternalFile, ExternalManifests, RecipeMetadata, RecipeMixin,
    RegistryEntry, ValidatorCatalog, Values,
};
use crate::provider::{DataProvider, check_relative};
use crate::yaml;

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

fn check_header(
    bytes: &[u8],
    origin: &str,
    kind: &str,
    want_kind: &str,
    api: &str,
    want_api: &str,
) -> Result<()> {
    if kind != want_kind {
        return Err(Error::invalid(format!(
            "{origin}:{}: kind is {kind:?}, expected {want_kind:?}",
            yaml::line_of(bytes, "kind")
        )));
    }
    if api != want_api {
        return Err(Error::invalid(format!(
            "{origin}:{}: apiVersion is {api:?}, expected {want_api:?}",
            yaml::line_of(bytes, "apiVersion")
        )));
    }
    Ok(())
}

impl Catalog {
    /// Loads registry, overlays and mixins from `provider`.
    pub fn load(provider: Box<dyn DataProvider>) -> Result<Self> {
        let registry = load_registry(provider.as_ref())?;
        let mut overlays = IndexMap::new();
        let mut overlay_origins = HashMap::new();
        let mut mixins = IndexMap::new();
        for path in provider.files() {
            let is_yaml = path.ends_with(".yaml") || path.ends_with(".yml");
            if !is_yaml {
                continue;
            }
            if path.starts_with("overlays/") {
                let origin = provider.origin(&path);
                let bytes = provider.read(&path)?.unwrap_or_default();
                let doc: RecipeMetadata = parse_doc(provider.as_ref(), &path, &bytes, &origin)?;
                check_header(
                    &bytes,
                    &origin,
                    &doc.kind,
                    "RecipeMetadata",
                    &doc.api_version,
                    API_VERSION,
                )?;
                let name = doc.metadata.name.clone();
                if let Some(first) = overlay_origins.insert(name.clone(), origin.clone()) {
                    return Err(Error::invalid(format!(
                        "{origin}: overlay name {name:?} is already used by {first}"
                    )));
                }
                overlays.insert(name, doc);
            } else if path.starts_with("mixins/") {
                let origin = provider.origin(&path);
                let bytes = provider.read(&path)?.unwrap_or_default();
                let doc: RecipeMixin = parse_doc(provider.as_ref(), &path, &bytes, &origin)?;
                check_header(
                    &bytes,
                    &origin,
                    &doc.kind,
                    "RecipeMixin",
                    &doc.api_version,
                    API_VERSION,
                )?;
                if mixins.contains_key(&doc.metadata.name) {
                    return Err(Error::invalid(format!(
                        "{origin}: mixin name {:?} is used twice",
                        doc.metadata.name
                    )));
                }
                mixins.insert(doc.metadata.name.clone(), doc);
            }
        }
        if !overlays.contains_key(BASE) {
            return Err(Error::invalid("catalog has no overlay named \"base\""));
        }
        Ok(Catalog {
            provider,
            registry,
            overlays,
            overlay_origins,
            mixins,
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
        let Some(bytes) = self.provider.read(EXTERNAL)? else {
            return Ok(Vec::new());
        };
        let origin = self.provider.origin(EXTERNAL);
        let doc: ExternalManifests = parse_doc(self.provider.as_ref(), EXTERNAL, &bytes, &origin)?;
        check_header(
            &bytes,
            &origin,
            &doc.kind,
            "ExternalManifests",
            &doc.api_version,
            API_VERSION,
        )?;
        Ok(doc.files)
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
        load_validators(self.provider.as_ref())
    }
}

/// Parses a catalog document, from the provider's pre-parsed compact form
/// when it has one (the embedded catalog), else from the YAML; a compact
/// form that does not fit the type falls back to the YAML so the error
/// carries a line number.
fn parse_doc<T: serde::de::DeserializeOwned>(
    provider: &dyn DataProvider,
    path: &str,
    bytes: &[u8],
    origin: &str,
) -> Result<T> {
    if let Some(doc) = provider
        .parsed(path)
        .and_then(crate::embedded::from_compact)
    {
        return Ok(doc);
    }
    yaml::parse(bytes, origin)
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

const EXTERNAL: &str = "external-manifests.yaml";
const REGISTRY: &str = "registry.yaml";
const VALIDATORS: &str = "validators/catalog.yaml";

fn parse_registry(provider: &dyn DataProvider) -> Result<Option<ComponentRegistry>> {
    let Some(bytes) = provider.read(REGISTRY)? else {
        return Ok(None);
    };
    let origin = provider.origin(REGISTRY);
    let doc: ComponentRegistry = parse_doc(provider, REGISTRY, &bytes, &origin)?;
    check_header(
        &bytes,
        &origin,
        &doc.kind,
        "ComponentRegistry",
        &doc.api_version,
        API_VERSION,
    )?;
    Ok(Some(doc))
}

/// Registry entries of every layer, lowest first; a later entry with the
/// same name replaces the earlier one in place.
fn load_registry(provider: &dyn DataProvider) -> Result<IndexMap<String, RegistryEntry>> {
    let mut merged = match provider.lower() {
        Some(lower) => load_registry(lower)?,
        None => IndexMap::new(),
    };
    let own = match provider.lower() {
        // A layered provider reads the upper file first; read it through the
        // upper layer only by comparing origins with the lower layer.
        Some(lower) if provider.origin(REGISTRY) == lower.origin(REGISTRY) => None,
        _ => parse_registry(provider)?,
    };
    match own {
        Some(doc) => {
            for entry in doc.components {
                merged.insert(entry.name.clone(), entry);
            }
        }
        None if provider.lower().is_none() => {
            return Err(Error::invalid(format!("catalog has no {REGISTRY}")));
        }
        None => {}
    }
    Ok(merged)
}

fn load_validators(provider: &dyn DataProvider) -> Result<Option<ValidatorCatalog>> {
    let lower = match provider.lower() {
        Some(lower) => load_validators(lower)?,
        None => None,
    };
    let same_file = provider
        .lower()
        .is_some_and(|l| provider.origin(VALIDATORS) == l.origin(VALIDATORS));
    if same_file {
        return Ok(lower);
    }
    let Some(bytes) = provider.read(VALIDATORS)? else {
        return Ok(lower);
    };
    let origin = provider.origin(VALIDATORS);
    let doc: ValidatorCatalog = parse_doc(provider, VALIDATORS, &bytes, &origin)?;
    check_header(
        &bytes,
        &origin,
        &doc.kind,
        "ValidatorCatalog",
        &doc.api_version,
        "validator.nvidia.com/v1alpha1",
    )?;
    let Some(mut merged) = lower else {
        return Ok(Some(doc));
    };
    for v in doc.validators {
        match merged.validators.iter_mut().find(|m| m.name == v.name) {
            Some(slot) => *slot = v,
            None => merged.validators.push(v),
        }
    }
    Ok(Some(merged))
}
