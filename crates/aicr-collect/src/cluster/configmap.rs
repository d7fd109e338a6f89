//! Documents in ConfigMaps (`cm://namespace/name`, spec §4.2–§4.4).
//!
//! Writing is one server-side apply (field manager `aicr`, forced), so a
//! ConfigMap is created or replaced atomically, with the reference's keys:
//! `snapshot.yaml` | `snapshot.json` | `snapshot.txt` holding the document,
//! `format` and `timestamp`, and its three labels. The reference writes a
//! recipe (`aicr recipe -o cm://...`) through the same writer, so a recipe
//! lands under `snapshot.yaml` with component `Snapshot` too; we keep that,
//! since the readers look for those keys.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use aicr_core::output::Format;
use aicr_core::snapshot::Snapshot;
use aicr_core::{Error, RecipeResult, Result};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams};

use super::{api_error, is_not_found, retry, with_timeout};

/// The reference's time limit for one ConfigMap read or write.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The field manager of our server-side applies.
pub const FIELD_MANAGER: &str = "aicr";

/// A ConfigMap named by `cm://namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigMapRef {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl ConfigMapRef {
    /// A reference from its parts.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ConfigMapRef {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Parses `cm://namespace/name`: split at the first `/`, both parts
    /// trimmed and non-empty (spec §4.3); errors are INVALID_REQUEST.
    pub fn parse(uri: &str) -> Result<Self> {
        let shown = aicr_core::error::escape(uri);
        let rest = uri.strip_prefix("cm://").ok_or_else(|| {
            Error::invalid(format!(
                "invalid configmap URI {shown:?}: expected cm://namespace/name"
            ))
        })?;
        let (namespace, name) = rest.split_once('/').ok_or_else(|| {
            Error::invalid(format!(
                "invalid configmap URI format {shown:?}: expected cm://namespace/name"
            ))
        })?;
        let (namespace, name) = (namespace.trim(), name.trim());
        if namespace.is_empty() || name.is_empty() {
            return Err(Error::invalid(format!(
                "invalid configmap URI {shown:?}: namespace and name cannot be empty"
            )));
        }
        Ok(ConfigMapRef::new(namespace, name))
    }
}

impl fmt::Display for ConfigMapRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cm://{}/{}", self.namespace, self.name)
    }
}

/// The data key and `format` value of a format: `snapshot.yaml`/`yaml`,
/// `snapshot.json`/`json`, `snapshot.txt`/`table`.
pub fn data_key(format: Format) -> (&'static str, &'static str) {
    match format {
        Format::Yaml => ("snapshot.yaml", "yaml"),
        Format::Json => ("snapshot.json", "json"),
        Format::Table => ("snapshot.txt", "table"),
    }
}

/// The ConfigMap the writer applies: `content` under the format's key,
/// `format`, `timestamp` (the reference writes the current UTC time,
/// RFC 3339 in seconds; the caller passes it so that output stays a
/// function of the inputs) and the reference's labels.
pub fn build(target: &ConfigMapRef, format: Format, content: &str, timestamp: &str) -> ConfigMap {
    let (key, format_name) = data_key(format);
    let data = BTreeMap::from([
        (key.to_string(), content.to_string()),
        ("format".to_string(), format_name.to_string()),
        ("timestamp".to_string(), timestamp.to_string()),
    ]);
    // The reference means to copy kind and version from the document but
    // never can, so these are always its defaults.
    let labels = BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), "aicr".to_string()),
        (
            "app.kubernetes.io/component".to_string(),
            "Snapshot".to_string(),
        ),
        (
            "app.kubernetes.io/version".to_string(),
            "unknown".to_string(),
        ),
    ]);
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(target.name.clone()),
            namespace: Some(target.namespace.clone()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// Renders a document as the ConfigMap holds it: JSON without the
/// trailing newline (as the reference), YAML and table as written.
pub fn render<T: serde::Serialize>(doc: &T, format: Format) -> String {
    let text = format.render(doc);
    match format {
        Format::Json => text.trim_end_matches('\n').to_string(),
        Format::Yaml | Format::Table => text,
    }
}

/// Writes already-rendered `content` (see [`build`]). Failures are
/// INTERNAL "failed to apply ConfigMap" around the API error.
pub async fn write_document(
    client: &kube::Client,
    target: &ConfigMapRef,
    format: Format,
    content: &str,
    timestamp: &str,
) -> Result<()> {
    let configmap = build(target, format, content, timestamp);
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &target.namespace);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let patch = Patch::Apply(&configmap);
    let apply = async {
        retry(|| api.patch(&target.name, &params, &patch))
            .await
            .map(drop)
            .map_err(|e| api_error(format!("failed to apply ConfigMap {target}"), e))
    };
    with_timeout("applying ConfigMap", TIMEOUT, apply)
        .await
        .map_err(|e| e.wrap(aicr_core::Code::Internal, "failed to apply ConfigMap"))
}

/// Writes a snapshot (`aicr snapshot -o cm://...`).
pub async fn write_snapshot(
    client: &kube::Client,
    target: &ConfigMapRef,
    snapshot: &Snapshot,
    format: Format,
    timestamp: &str,
) -> Result<()> {
    write_document(client, target, format, &render(snapshot, format), timestamp).await
}

/// Writes a recipe (`aicr recipe -o cm://...`), with the same keys.
pub async fn write_recipe(
    client: &kube::Client,
    target: &ConfigMapRef,
    recipe: &RecipeResult,
    format: Format,
    timestamp: &str,
) -> Result<()> {
    write_document(client, target, format, &render(recipe, format), timestamp).await
}

/// A document read back: its text and the key it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    /// `snapshot.yaml`, `snapshot.json` or `snapshot.txt`.
    pub key: String,
    /// The document's text.
    pub content: String,
}

/// Reads the document of a ConfigMap (spec §4.4): the key named by
/// `data.format` (default yaml), else the first non-empty of
/// `snapshot.yaml`, `snapshot.json`, `snapshot.txt`. A missing ConfigMap
/// or no document key is NOT_FOUND; other failures keep their class.
pub async fn read_document(client: &kube::Client, target: &ConfigMapRef) -> Result<StoredDocument> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &target.namespace);
    let get = async {
        retry(|| api.get(&target.name)).await.map_err(|e| {
            let what = format!(
                "failed to get ConfigMap {}/{}",
                target.namespace, target.name
            );
            if is_not_found(&e) {
                Error::not_found(what).with_source(e)
            } else {
                api_error(what, e)
            }
        })
    };
    let configmap = with_timeout("reading ConfigMap", TIMEOUT, get).await?;
    pick_document(&configmap.data.unwrap_or_default()).ok_or_else(|| {
        Error::not_found(format!(
            "ConfigMap {}/{} has no snapshot data",
            target.namespace, target.name
        ))
    })
}

/// The document key choice of [`read_document`].
pub fn pick_document(data: &BTreeMap<String, String>) -> Option<StoredDocument> {
    let format = data.get("format").map_or("yaml", String::as_str);
    let preferred = format!("snapshot.{format}");
    let found = |key: &str| {
        data.get(key).map(|content| StoredDocument {
            key: key.to_string(),
            content: content.clone(),
        })
    };
    found(&preferred).or_else(|| {
        ["snapshot.yaml", "snapshot.json", "snapshot.txt"]
            .into_iter()
            .filter_map(found)
            .find(|doc| !doc.content.is_empty())
    })
}

/// Reads a snapshot from a ConfigMap. A table cannot be read back.
pub async fn read_snapshot(client: &kube::Client, target: &ConfigMapRef) -> Result<Snapshot> {
    let doc = read_document(client, target).await?;
    Snapshot::parse(doc.content.as_bytes(), &format!("{target} {}", doc.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configmap_uris_parse_as_the_reference() {
        let r = ConfigMapRef::parse("cm://gpu-operator/aicr-snapshot").unwrap();
        assert_eq!(r, ConfigMapRef::new("gpu-operator", "aicr-snapshot"));
        assert_eq!(r.to_string(), "cm://gpu-operator/aicr-snapshot");
        assert_eq!(ConfigMapRef::parse("cm://ns/a/b").unwrap().name, "a/b");
        for bad in [
            "cm:///x",
            "cm://ns/",
            "cm://",
            "cm://nsname",
            "configmap://a/b",
            "",
        ] {
            let err = ConfigMapRef::parse(bad).unwrap_err();
            assert_eq!(err.code(), aicr_core::Code::InvalidRequest, "{bad}");
        }
    }

    #[test]
    fn the_format_key_wins_then_yaml_json_txt() {
        let data = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let key = |d: &BTreeMap<String, String>| pick_document(d).map(|d| d.key);
        let both = data(&[
            ("format", "json"),
            ("snapshot.json", "{}"),
            ("snapshot.yaml", "a"),
        ]);
        assert_eq!(key(&both).as_deref(), Some("snapshot.json"));
        let table = data(&[
            ("format", "table"),
            ("snapshot.txt", "t"),
            ("snapshot.json", "{}"),
        ]);
        assert_eq!(key(&table).as_deref(), Some("snapshot.json"));
        let empty_yaml = data(&[
            ("format", "x"),
            ("snapshot.yaml", ""),
            ("snapshot.txt", "t"),
        ]);
        assert_eq!(key(&empty_yaml).as_deref(), Some("snapshot.txt"));
        assert_eq!(key(&data(&[("format", "yaml")])), None);
    }
}
