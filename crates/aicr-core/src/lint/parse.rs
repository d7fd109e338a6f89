//! The per-file half of the lint: strict parsing of every overlay, mixin,
//! registry and validator catalog, each failure reported with its field.

use std::collections::{BTreeSet, HashSet};

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Problem, field_path};
use crate::criteria::{Accelerator, Intent, Os, Platform, Service};
use crate::model::{
    API_VERSION, ComponentRegistry, ExternalManifests, RecipeMetadata, RecipeMixin, RegistryEntry,
    Validator, ValidatorCatalog,
};
use crate::provider::DataProvider;
use crate::suggest::closest;

pub(super) const REGISTRY: &str = "registry.yaml";
const VALIDATORS: &str = "validators/catalog.yaml";
const EXTERNAL: &str = "external-manifests.yaml";
const VALIDATOR_API: &str = "validator.nvidia.com/v1alpha1";

/// A parsed document and the file it came from.
pub(super) struct Doc<T> {
    pub file: String,
    pub doc: T,
}

/// A registry entry, its file and its index in `components`.
pub(super) struct RegistryDoc {
    pub file: String,
    pub index: usize,
    pub entry: RegistryEntry,
}

/// Everything that parsed, plus the names of documents that did not (so
/// references to them are not reported a second time).
#[derive(Default)]
pub(super) struct Parsed {
    pub overlays: Vec<Doc<RecipeMetadata>>,
    pub broken_overlays: HashSet<String>,
    /// Overlay files whose criteria hold an invalid value (read as `any`).
    pub bad_criteria: HashSet<String>,
    pub mixins: Vec<Doc<RecipeMixin>>,
    pub broken_mixins: HashSet<String>,
    /// Registry entries by name, later layers replacing earlier ones.
    pub registry: IndexMap<String, RegistryDoc>,
    pub registry_broken: bool,
    /// Validators by name; `None` when no layer has a validator catalog.
    pub validators: Option<IndexMap<String, Validator>>,
    pub validators_broken: bool,
    /// Every file of the catalog and every externally fetched path.
    pub files: BTreeSet<String>,
    pub external: BTreeSet<String>,
}

/// One entry of `external-manifests.yaml`.
pub(super) fn parse(provider: &dyn DataProvider, problems: &mut Vec<Problem>) -> Parsed {
    let mut parsed = Parsed {
        files: provider.files().into_iter().collect(),
        ..Parsed::default()
    };
    let layers = layers(provider);
    for (i, layer) in layers.iter().enumerate() {
        let own = |path: &str| i == 0 || layer.origin(path) != layers[i - 1].origin(path);
        let name = |path: &str| {
            if i + 1 == layers.len() {
                path.to_string()
            } else {
                layer.origin(path)
            }
        };
        if own(REGISTRY) {
            registry(*layer, &name(REGISTRY), &mut parsed, problems);
        }
        if own(VALIDATORS) {
            validators(*layer, &name(VALIDATORS), &mut parsed, problems);
        }
        if own(EXTERNAL) {
            external(*layer, &name(EXTERNAL), &mut parsed, problems);
        }
    }
    if parsed.registry.is_empty() && !parsed.registry_broken {
        problems.push(Problem::new(
            REGISTRY,
            "",
            "the catalog has no registry.yaml",
        ));
    }
    for path in provider.files() {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        let Some(text) = read_text(provider, &path, problems) else {
            continue;
        };
        if path.starts_with("overlays/") {
            let before = problems.len();
            let doc =
                document::<RecipeMetadata>(&text, &path, "RecipeMetadata", API_VERSION, problems);
            if problems[before..]
                .iter()
                .any(|p| p.field.starts_with("spec.criteria"))
            {
                parsed.bad_criteria.insert(path.clone());
            }
            match doc {
                Ok(doc) => parsed.overlays.push(Doc { file: path, doc }),
                Err(name) => drop(name.map(|n| parsed.broken_overlays.insert(n))),
            }
        } else if path.starts_with("mixins/") {
            match document::<RecipeMixin>(&text, &path, "RecipeMixin", API_VERSION, problems) {
                Ok(doc) => parsed.mixins.push(Doc { file: path, doc }),
                Err(name) => drop(name.map(|n| parsed.broken_mixins.insert(n))),
            }
        }
    }
    parsed
}

/// The provider's layers, lowest first.
fn layers(provider: &dyn DataProvider) -> Vec<&dyn DataProvider> {
    let mut out = vec![provider];
    while let Some(lower) = out.last().and_then(|p| p.lower()) {
        out.push(lower);
    }
    out.reverse();
    out
}

fn read_text(
    provider: &dyn DataProvider,
    path: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match provider.read(path) {
        Ok(Some(bytes)) => match String::from_utf8(bytes.into_owned()) {
            Ok(text) => Some(text),
            Err(e) => {
                problems.push(Problem::new(path, "", format!("not UTF-8 text: {e}")));
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            problems.push(Problem::new(path, "", e.message().to_string()));
            None
        }
    }
}

fn registry(
    layer: &dyn DataProvider,
    file: &str,
    parsed: &mut Parsed,
    problems: &mut Vec<Problem>,
) {
    let Some(text) = read_text(layer, REGISTRY, problems) else {
        return;
    };
    let Ok(doc) =
        document::<ComponentRegistry>(&text, file, "ComponentRegistry", API_VERSION, problems)
    else {
        parsed.registry_broken = true;
        return;
    };
    let mut seen = HashSet::new();
    for (i, entry) in doc.components.into_iter().enumerate() {
        if !seen.insert(entry.name.clone()) {
            problems.push(Problem::new(
                file,
                format!("components[{i}].name"),
                format!("component {:?} is listed twice", entry.name),
            ));
        }
        let name = entry.name.clone();
        parsed.registry.insert(
            name,
            RegistryDoc {
                file: file.to_string(),
                index: i,
                entry,
            },
        );
    }
}

fn validators(
    layer: &dyn DataProvider,
    file: &str,
    parsed: &mut Parsed,
    problems: &mut Vec<Problem>,
) {
    let Some(text) = read_text(layer, VALIDATORS, problems) else {
        return;
    };
    let Ok(doc) =
        document::<ValidatorCatalog>(&text, file, "ValidatorCatalog", VALIDATOR_API, problems)
    else {
        parsed.validators_broken = true;
        return;
    };
    let merged = parsed.validators.get_or_insert_with(IndexMap::new);
    let mut seen = HashSet::new();
    for (i, v) in doc.validators.into_iter().enumerate() {
        if !seen.insert(v.name.clone()) {
            problems.push(Problem::new(
                file,
                format!("validators[{i}].name"),
                format!("validator {:?} is listed twice", v.name),
            ));
        }
        const PHASES: [&str; 3] = ["deployment", "performance", "conformance"];
        if !PHASES.contains(&v.phase.as_str()) {
            problems.push(
                Problem::new(
                    file,
                    format!("validators[{i}].phase"),
                    format!("unknown phase {:?} (valid: {})", v.phase, PHASES.join(", ")),
                )
                .suggest(closest(&v.phase, PHASES)),
            );
        }
        merged.insert(v.name.clone(), v);
    }
}

fn external(
    layer: &dyn DataProvider,
    file: &str,
    parsed: &mut Parsed,
    problems: &mut Vec<Problem>,
) {
    let Some(text) = read_text(layer, EXTERNAL, problems) else {
        return;
    };
    if let Ok(doc) =
        document::<ExternalManifests>(&text, file, "ExternalManifests", API_VERSION, problems)
    {
        parsed
            .external
            .extend(doc.files.into_iter().map(|f| f.path));
    }
}

/// A document header, read leniently to check kind and apiVersion and to
/// learn the name of a document whose body does not parse.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Header {
    kind: String,
    api_version: String,
    metadata: Option<Value>,
}

/// Parses one document strictly. On failure returns the document's name
/// when the lenient header read finds one.
fn document<T: DeserializeOwned>(
    text: &str,
    file: &str,
    kind: &str,
    api: &str,
    problems: &mut Vec<Problem>,
) -> Result<T, Option<String>> {
    let loose: Value = match serde_saphyr::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            problems.push(parser_problem(text, file, &e.to_string()));
            return Err(None);
        }
    };
    let header: Header = serde_json::from_value(loose.clone()).unwrap_or_default();
    let name = header
        .metadata
        .as_ref()
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut header_ok = true;
    for (field, got, want) in [
        ("kind", &header.kind, kind),
        ("apiVersion", &header.api_version, api),
    ] {
        if got != want {
            header_ok = false;
            problems.push(
                Problem::new(
                    file,
                    field,
                    format!("{field} is {got:?}, expected {want:?}"),
                )
                .suggest(closest(got, [want])),
            );
        }
    }
    let (patched, criteria_reported) = check_criteria(&loose, file, problems);
    match serde_saphyr::from_str::<T>(text) {
        Ok(doc) if header_ok => Ok(doc),
        Ok(_) => Err(name),
        Err(e) => {
            // A bad criteria value was reported with its suggestion; parse
            // the rest with that value as `any` so the other rules still run.
            if criteria_reported && let Ok(doc) = serde_json::from_value::<T>(patched) {
                return if header_ok { Ok(doc) } else { Err(name) };
            }
            problems.push(parser_problem(text, file, &e.to_string()));
            Err(name)
        }
    }
}

/// Reports unknown values under `spec.criteria` with a suggestion and
/// returns the document with those values replaced by `any`.
fn check_criteria(doc: &Value, file: &str, problems: &mut Vec<Problem>) -> (Value, bool) {
    let mut patched = doc.clone();
    let mut reported = false;
    let Some(criteria) = patched
        .get_mut("spec")
        .and_then(|s| s.get_mut("criteria"))
        .and_then(Value::as_object_mut)
    else {
        return (patched, false);
    };
    for (dim, value) in criteria.iter_mut() {
        let Some(text) = value.as_str() else {
            continue;
        };
        let (ok, valid): (bool, &[&str]) = match dim.as_str() {
            "service" => (Service::parse(text).is_ok(), Service::VALUES),
            "accelerator" => (Accelerator::parse(text).is_ok(), Accelerator::VALUES),
            "intent" => (Intent::parse(text).is_ok(), Intent::VALUES),
            "os" => (Os::parse(text).is_ok(), Os::VALUES),
            "platform" => (Platform::parse(text).is_ok(), Platform::VALUES),
            _ => continue,
        };
        if !ok {
            problems.push(
                Problem::new(
                    file,
                    format!("spec.criteria.{dim}"),
                    format!("invalid {dim} {text:?} (valid: any, {})", valid.join(", ")),
                )
                .suggest(closest(text, valid.iter().copied())),
            );
            *value = Value::String("any".into());
            reported = true;
        }
    }
    (patched, reported)
}

/// Turns a parser report into a problem: its first line (the source
/// excerpt that follows is dropped), the field found from the line number,
/// and a suggestion for an unknown field.
fn parser_problem(text: &str, file: &str, report: &str) -> Problem {
    let first = report.lines().map(str::trim).find(|l| !l.is_empty());
    let first = first.unwrap_or("unreadable YAML");
    let message = first.strip_prefix("error: ").unwrap_or(first);
    let message = message.split(" --> ").next().unwrap_or(message).trim();
    let field = line_number(message)
        .map(|line| field_path::at_line(text, line))
        .unwrap_or_default();
    let suggestion = unknown_field_hint(message);
    Problem::new(file, field, message).suggest(suggestion)
}

/// The first `line N` in a parser message.
fn line_number(message: &str) -> Option<usize> {
    let at = message.find("line ")?;
    let digits: String = message[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// For "unknown field `x`, expected one of a, b": the closest of a, b.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = &message[message.find("unknown field `")? + 15..];
    let field = &rest[..rest.find('`')?];
    let expected = &rest[rest.find("expected")? + 8..];
    let expected = expected.trim_start().trim_start_matches("one of").trim();
    let names = expected
        .split(',')
        .map(|n| n.trim().trim_matches('`'))
        .filter(|n| !n.is_empty());
    closest(field, names).map(str::to_string)
}
