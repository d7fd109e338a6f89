//! The one catalog loader. It knows the catalog's file names, parses every
//! document with its strict type (whose header only accepts the right
//! `kind` and `apiVersion`), decides which layer of a layered provider owns
//! a file, merges registry and validators across layers and walks every
//! `spec.base` chain.
//!
//! It runs in one of two modes: [`Mode::FailFast`] returns the first
//! problem as an error ([`crate::Catalog::load`]); [`Mode::Collect`] records
//! every problem and goes on with the documents that parsed
//! ([`crate::lint::lint`], which adds its own checks on top).

mod diagnose;
mod field_path;
mod problem;

use std::collections::{BTreeSet, HashSet};

use indexmap::IndexMap;
use serde::de::DeserializeOwned;

pub use problem::Problem;

use crate::catalog::BASE;
use crate::error::{Error, Result};
use crate::header::Document;
use crate::model::{
    ComponentRegistry, ExternalFile, ExternalManifests, RecipeMetadata, RecipeMixin, RegistryEntry,
    ValidatorCatalog,
};
use crate::provider::DataProvider;
use crate::suggest::closest;
use crate::yaml;

/// The component registry.
pub const REGISTRY: &str = "registry.yaml";
/// The validator catalog.
pub const VALIDATORS: &str = "validators/catalog.yaml";
/// Third-party files pinned by URL and digest.
pub const EXTERNAL: &str = "external-manifests.yaml";
/// Longest inheritance chain allowed, base included.
pub const MAX_DEPTH: usize = 10;

const PHASES: [&str; 3] = ["deployment", "performance", "conformance"];

/// What the loader does with a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Return it as an INVALID_REQUEST error naming the file.
    FailFast,
    /// Record it and go on.
    Collect,
}

/// What kind of catalog document a path holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Overlay,
    Mixin,
}

fn file_kind(path: &str) -> Option<FileKind> {
    if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
        None
    } else if path.starts_with("overlays/") {
        Some(FileKind::Overlay)
    } else if path.starts_with("mixins/") {
        Some(FileKind::Mixin)
    } else {
        None
    }
}

/// A parsed document and the file it came from.
#[derive(Debug)]
pub(crate) struct Sourced<T> {
    pub file: String,
    pub doc: T,
}

/// A registry entry, its file and its index in `components`.
#[derive(Debug)]
pub(crate) struct RegistryDoc {
    pub file: String,
    pub index: usize,
    pub entry: RegistryEntry,
}

/// Registry, overlays and mixins that parsed, plus the names of documents
/// that did not (so references to them are not reported a second time).
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// Entries by name, later layers replacing earlier ones in place.
    pub registry: IndexMap<String, RegistryDoc>,
    pub registry_broken: bool,
    /// Overlays by name, in path order; the first of a duplicated name.
    pub overlays: IndexMap<String, Sourced<RecipeMetadata>>,
    pub broken_overlays: HashSet<String>,
    /// Overlay files whose criteria hold an invalid value (read as `any`).
    pub bad_criteria: HashSet<String>,
    pub mixins: IndexMap<String, Sourced<RecipeMixin>>,
    pub broken_mixins: HashSet<String>,
}

/// The validator catalog merged across layers.
#[derive(Debug, Default)]
pub(crate) struct Validators {
    /// `None` when no layer has one.
    pub catalog: Option<ValidatorCatalog>,
    /// Some layer's catalog did not parse.
    pub broken: bool,
}

/// Outcome of reading one document.
enum Doc<T> {
    Parsed(T),
    /// Did not parse; its name when a lenient read found one.
    Broken(Option<String>),
    Absent,
}

/// The loading pass over one provider.
pub(crate) struct Loader<'p> {
    provider: &'p dyn DataProvider,
    mode: Mode,
    /// Problems recorded in [`Mode::Collect`].
    pub problems: Vec<Problem>,
}

impl<'p> Loader<'p> {
    pub fn new(provider: &'p dyn DataProvider, mode: Mode) -> Self {
        Loader {
            provider,
            mode,
            problems: Vec::new(),
        }
    }

    /// Records `problem`, or in fail-fast mode returns it as the error.
    fn report(&mut self, origin: &str, problem: Problem) -> Result<()> {
        match self.mode {
            Mode::FailFast => Err(Error::invalid(format!("{origin}: {}", problem.detail()))),
            Mode::Collect => {
                self.problems.push(problem);
                Ok(())
            }
        }
    }

    /// A provider error: fatal when failing fast, else a problem of `file`.
    fn failed(&mut self, file: &str, e: Error) -> Result<()> {
        match self.mode {
            Mode::FailFast => Err(e),
            Mode::Collect => {
                self.problems
                    .push(Problem::new(file, "", e.message().to_string()));
                Ok(())
            }
        }
    }

    /// Registry, overlays and mixins, with the chains checked.
    pub fn catalog(&mut self) -> Result<Loaded> {
        let mut out = Loaded::default();
        self.registry(&mut out)?;
        self.overlays_and_mixins(&mut out)?;
        Ok(out)
    }

    /// The registry alone, merged across layers.
    pub fn registry_entries(&mut self) -> Result<IndexMap<String, RegistryDoc>> {
        let mut out = Loaded::default();
        self.registry(&mut out)?;
        Ok(out.registry)
    }

    /// Overlays and mixins alone, with the chains checked.
    pub fn recipes(&mut self) -> Result<Loaded> {
        let mut out = Loaded::default();
        self.overlays_and_mixins(&mut out)?;
        Ok(out)
    }

    fn overlays_and_mixins(&mut self, out: &mut Loaded) -> Result<()> {
        self.documents(out)?;
        if !out.overlays.contains_key(BASE) && !out.broken_overlays.contains(BASE) {
            let problem = Problem::new("overlays", "", "catalog has no overlay named \"base\"");
            self.report(&self.provider.origin("overlays"), problem)?;
        }
        self.chains(out)
    }

    /// Parses one document strictly, from the layer's pre-parsed compact form when it
    /// has one. When that fails: the error (fail-fast), or every problem
    /// the lenient second read finds (collect).
    fn document<T: DeserializeOwned + Document>(
        &mut self,
        layer: &dyn DataProvider,
        path: &str,
        file: &str,
    ) -> Result<Doc<T>> {
        let bytes = match layer.read(path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(Doc::Absent),
            Err(e) => {
                self.failed(file, e)?;
                return Ok(Doc::Broken(None));
            }
        };
        let origin = layer.origin(path);
        match parse_doc::<T>(layer, path, &bytes, &origin) {
            Ok(doc) => Ok(Doc::Parsed(doc)),
            Err(e) if self.mode == Mode::FailFast => Err(e),
            Err(_) => Ok(
                match diagnose::document::<T>(&bytes, file, &mut self.problems) {
                    Ok(doc) => Doc::Parsed(doc),
                    Err(name) => Doc::Broken(name),
                },
            ),
        }
    }

    fn registry(&mut self, out: &mut Loaded) -> Result<()> {
        let owners = owners(self.provider, REGISTRY);
        let mut found = false;
        for (layer, file) in owners {
            let doc = match self.document::<ComponentRegistry>(layer, REGISTRY, &file)? {
                Doc::Parsed(doc) => doc,
                Doc::Broken(_) => {
                    (found, out.registry_broken) = (true, true);
                    continue;
                }
                Doc::Absent => continue,
            };
            found = true;
            let origin = layer.origin(REGISTRY);
            let mut seen = HashSet::new();
            for (index, entry) in doc.components.into_iter().enumerate() {
                if !seen.insert(entry.name.clone()) {
                    let problem = Problem::new(
                        &file,
                        format!("components[{index}].name"),
                        format!("component {:?} is listed twice", entry.name),
                    );
                    self.report(&origin, problem)?;
                }
                let name = entry.name.clone();
                let file = file.clone();
                out.registry
                    .insert(name, RegistryDoc { file, index, entry });
            }
        }
        if !found {
            let problem = Problem::new(REGISTRY, "", format!("catalog has no {REGISTRY}"));
            self.report(&self.provider.origin(REGISTRY), problem)?;
        }
        Ok(())
    }

    fn documents(&mut self, out: &mut Loaded) -> Result<()> {
        let provider = self.provider;
        for path in provider.files() {
            let Some(kind) = file_kind(&path) else {
                continue;
            };
            let before = self.problems.len();
            match kind {
                FileKind::Overlay => {
                    let doc = self.document::<RecipeMetadata>(provider, &path, &path)?;
                    if self.problems[before..]
                        .iter()
                        .any(|p| p.field.starts_with("spec.criteria"))
                    {
                        out.bad_criteria.insert(path.clone());
                    }
                    match doc {
                        Doc::Parsed(doc) => self.add_overlay(out, path, doc)?,
                        Doc::Broken(name) => out.broken_overlays.extend(name),
                        Doc::Absent => {}
                    }
                }
                FileKind::Mixin => match self.document::<RecipeMixin>(provider, &path, &path)? {
                    Doc::Parsed(doc) => self.add_mixin(out, path, doc)?,
                    Doc::Broken(name) => out.broken_mixins.extend(name),
                    Doc::Absent => {}
                },
            }
        }
        Ok(())
    }

    fn add_overlay(&mut self, out: &mut Loaded, file: String, doc: RecipeMetadata) -> Result<()> {
        let name = doc.metadata.name.clone();
        if let Some(first) = out.overlays.get(&name) {
            let problem = Problem::new(
                &file,
                "metadata.name",
                format!("overlay name {name:?} is already used by {}", first.file),
            );
            return self.report(&self.provider.origin(&file), problem);
        }
        out.overlays.insert(name, Sourced { file, doc });
        Ok(())
    }

    fn add_mixin(&mut self, out: &mut Loaded, file: String, doc: RecipeMixin) -> Result<()> {
        let name = doc.metadata.name.clone();
        if let Some(first) = out.mixins.get(&name) {
            let problem = Problem::new(
                &file,
                "metadata.name",
                format!("mixin name {name:?} is already used by {}", first.file),
            );
            return self.report(&self.provider.origin(&file), problem);
        }
        out.mixins.insert(name, Sourced { file, doc });
        Ok(())
    }

    /// Every overlay's parent exists and its chain reaches `base` without a
    /// cycle in at most [`MAX_DEPTH`] levels. A cycle is reported once, at
    /// its member that sorts first.
    fn chains(&mut self, out: &Loaded) -> Result<()> {
        let mut cycles = BTreeSet::new();
        for (name, o) in &out.overlays {
            let origin = self.provider.origin(&o.file);
            let problem = |field: &str, message: String| Problem::new(&o.file, field, message);
            let parent = parent_of(&o.doc);
            if name == BASE && !o.doc.spec.base.is_empty() {
                let p = problem("spec.base", "the base overlay has no parent".into());
                self.report(&origin, p)?;
                continue;
            }
            if let Some(parent) = parent
                && !out.overlays.contains_key(parent)
                && !out.broken_overlays.contains(parent)
            {
                let names = out.overlays.keys().map(String::as_str);
                let p = problem(
                    "spec.base",
                    format!("base overlay {parent:?} does not exist"),
                )
                .suggest(closest(parent, names));
                self.report(&origin, p)?;
                continue;
            }
            match chain(&out.overlays, name, |s| &s.doc) {
                Chain::Cycle(cycle) => {
                    let members: BTreeSet<&str> = cycle.iter().copied().collect();
                    let first = members.first().copied().unwrap_or(name);
                    if first == name && cycles.insert(members) {
                        let message = format!("circular inheritance: {}", cycle.join(" -> "));
                        self.report(&origin, problem("spec.base", message))?;
                    }
                }
                Chain::TooDeep(names) => {
                    let message = format!(
                        "inheritance chain of {name:?} is deeper than {MAX_DEPTH} levels: {}",
                        names.join(" -> ")
                    );
                    self.report(&origin, problem("spec.base", message))?;
                }
                Chain::Ok(_) | Chain::Missing { .. } => {}
            }
        }
        Ok(())
    }

    /// The validator catalog of every layer, merged by validator name.
    pub fn validators(&mut self) -> Result<Validators> {
        let mut out = Validators::default();
        for (layer, file) in owners(self.provider, VALIDATORS) {
            let doc = match self.document::<ValidatorCatalog>(layer, VALIDATORS, &file)? {
                Doc::Parsed(doc) => doc,
                Doc::Broken(_) => {
                    out.broken = true;
                    continue;
                }
                Doc::Absent => continue,
            };
            let origin = layer.origin(VALIDATORS);
            let mut seen = HashSet::new();
            for (i, v) in doc.validators.iter().enumerate() {
                if !seen.insert(v.name.as_str()) {
                    let problem = Problem::new(
                        &file,
                        format!("validators[{i}].name"),
                        format!("validator {:?} is listed twice", v.name),
                    );
                    self.report(&origin, problem)?;
                }
                if !PHASES.contains(&v.phase.as_str()) {
                    let problem = Problem::new(
                        &file,
                        format!("validators[{i}].phase"),
                        format!("unknown phase {:?} (valid: {})", v.phase, PHASES.join(", ")),
                    )
                    .suggest(closest(&v.phase, PHASES));
                    self.report(&origin, problem)?;
                }
            }
            let Some(merged) = &mut out.catalog else {
                out.catalog = Some(doc);
                continue;
            };
            for v in doc.validators {
                match merged.validators.iter_mut().find(|m| m.name == v.name) {
                    Some(slot) => *slot = v,
                    None => merged.validators.push(v),
                }
            }
        }
        Ok(out)
    }

    /// The entries of `external-manifests.yaml` (the top-most layer's).
    pub fn external_files(&mut self) -> Result<Vec<ExternalFile>> {
        let Some((layer, file)) = owners(self.provider, EXTERNAL).pop() else {
            return Ok(Vec::new());
        };
        match self.document::<ExternalManifests>(layer, EXTERNAL, &file)? {
            Doc::Parsed(doc) => Ok(doc.files),
            Doc::Broken(_) | Doc::Absent => Ok(Vec::new()),
        }
    }
}

/// The layers of `provider` that hold their own copy of `path`, lowest
/// first, each with the name problems use for its file: the relative path
/// for the top layer, the origin for lower ones. A layer whose `path`
/// resolves to the same origin as the layer below is reading through.
fn owners<'p>(provider: &'p dyn DataProvider, path: &str) -> Vec<(&'p dyn DataProvider, String)> {
    let mut layers = vec![provider];
    while let Some(lower) = layers.last().and_then(|p| p.lower()) {
        layers.push(lower);
    }
    layers.reverse();
    let top = layers.len() - 1;
    let mut out = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        if i > 0 && layer.origin(path) == layers[i - 1].origin(path) {
            continue;
        }
        let name = if i == top {
            path.to_string()
        } else {
            layer.origin(path)
        };
        out.push((*layer, name));
    }
    out
}

/// Parses a catalog document, from the provider's pre-parsed compact form when it has
/// one (the embedded catalog), else from the YAML; a compact form that does not
/// fit the type falls back to the YAML so the error carries a line number.
pub(crate) fn parse_doc<T: DeserializeOwned>(
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

/// The parent overlay name; `None` for `base` itself.
pub(crate) fn parent_of(o: &RecipeMetadata) -> Option<&str> {
    match (o.metadata.name.as_str(), o.spec.base.as_str()) {
        (BASE, _) => None,
        (_, "") => Some(BASE),
        (_, p) => Some(p),
    }
}

/// An inheritance chain, as [`chain`] found it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Chain<'a> {
    /// From `base` down to the leaf.
    Ok(Vec<&'a str>),
    /// `child` names a parent that is not an overlay; `child` is `None`
    /// when the leaf itself is not one.
    Missing {
        child: Option<&'a str>,
        parent: String,
    },
    /// The cycle, its first member repeated at the end.
    Cycle(Vec<&'a str>),
    /// The first [`MAX_DEPTH`] + 1 names, the top-most first.
    TooDeep(Vec<&'a str>),
}

/// Walks `spec.base` from `leaf` up to `base`: the one chain walk, used by
/// the loader's checks, the lint and resolution.
pub(crate) fn chain<'a, T>(
    overlays: &'a IndexMap<String, T>,
    leaf: &str,
    doc: impl Fn(&'a T) -> &'a RecipeMetadata,
) -> Chain<'a> {
    let Some((leaf, mut current)) = overlays.get_key_value(leaf) else {
        return Chain::Missing {
            child: None,
            parent: leaf.to_string(),
        };
    };
    let mut names = vec![leaf.as_str()];
    while let Some(parent) = parent_of(doc(current)) {
        let Some((parent, next)) = overlays.get_key_value(parent) else {
            return Chain::Missing {
                child: names.last().copied(),
                parent: parent.to_string(),
            };
        };
        if let Some(at) = names.iter().position(|n| n == parent) {
            let mut cycle = names[at..].to_vec();
            cycle.reverse();
            cycle.insert(0, parent.as_str());
            return Chain::Cycle(cycle);
        }
        names.push(parent);
        if names.len() > MAX_DEPTH {
            names.reverse();
            return Chain::TooDeep(names);
        }
        current = next;
    }
    names.reverse();
    Chain::Ok(names)
}
