//! The parsed catalog: registry, overlays (with `base`), mixins and the
//! external-manifest pins. Parsed once and immutable afterwards, so one
//! catalog can serve any number of concurrent requests; values files and
//! the validator catalog are parsed when asked for because most commands
//! never need them. Downloaded manifests are not kept here: a caller
//! fetches them ([`ExternalFile`]) and hands them in as [`FetchedFiles`].

use std::collections::{BTreeMap, HashMap};

use indexmap::IndexMap;

use crate::error::{Error, Result};
use crate::model::{
    API_VERSION, ComponentRegistry, ExternalFile, ExternalManifests, RecipeMetadata, RecipeMixin,
    RegistryEntry, ValidatorCatalog, Values,
};
use crate::provider::{DataProvider, check_relative};
use crate::recipe::RecipeResult;
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
    /// `external-manifests.yaml`: files pinned by URL and SHA-256.
    external: Vec<ExternalFile>,
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
        let external = parse_external_files(provider.as_ref())?;
        Ok(Catalog {
            provider,
            registry,
            overlays,
            overlay_origins,
            mixins,
            external,
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
    /// an embedded file parses from its JSON digest in microseconds.
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
        load_validators(self.provider.as_ref())
    }
}

/// Parses a catalog document, from the provider's JSON digest when it has
/// one (the embedded catalog), else from the YAML; a digest that does not
/// fit the type falls back to the YAML so the error carries a line number.
fn parse_doc<T: serde::de::DeserializeOwned>(
    provider: &dyn DataProvider,
    path: &str,
    bytes: &[u8],
    origin: &str,
) -> Result<T> {
    if let Some(doc) = provider
        .digest(path)
        .and_then(|json| serde_json::from_str(json).ok())
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

/// What to do without network, for a manifest that must be downloaded.
pub fn offline_hint(path: &str) -> String {
    format!(
        "Without network, download that file and pass it with --data DIR as DIR/{path} \
         (a --data directory also needs a registry.yaml: `apiVersion: aicr.nvidia.com/v1alpha1`, \
         `kind: ComponentRegistry`, `components: []` will do)"
    )
}

fn parse_external_files(provider: &dyn DataProvider) -> Result<Vec<ExternalFile>> {
    let Some(bytes) = provider.read(EXTERNAL)? else {
        return Ok(Vec::new());
    };
    let origin = provider.origin(EXTERNAL);
    let doc: ExternalManifests = parse_doc(provider, EXTERNAL, &bytes, &origin)?;
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
