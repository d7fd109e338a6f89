//! The K8s measurement's subtypes from Kubernetes objects already fetched:
//! `server` from the API server's version, `image` from pods, `policy`
//! from ClusterPolicy specs and `node` from this node's Node object.
//! Fetching them (paging, discovery, the node GET) is the caller's; these
//! functions only transform, so every case is testable without a cluster.

use std::collections::BTreeMap;

use aicr_core::snapshot::{Reading, Subtype};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::version::Info;
use serde_json::Value;

use crate::gofmt::{go_float, go_json};
use crate::{put_text, subtype};

/// Name of the subtype read from the API server's `/version`.
pub const SERVER: &str = "server";
/// Name of the subtype read from the pods' images.
pub const IMAGE: &str = "image";
/// Name of the subtype read from ClusterPolicy specs.
pub const POLICY: &str = "policy";
/// Name of the subtype read from this node's Node object.
pub const NODE: &str = "node";

/// The environment variables naming this node, first non-empty wins: the
/// agent Job sets `NODE_NAME` from the downward API.
pub const NODE_NAME_VARS: [&str; 3] = ["NODE_NAME", "KUBERNETES_NODE_NAME", "HOSTNAME"];

fn text(value: &str) -> Reading {
    Reading::from(value)
}

/// The `server` subtype of the API server's version: `version` (the git
/// version, e.g. `v1.33.5-eks-3025e55`), `platform` and `goVersion`.
pub fn server_subtype(info: &Info) -> Subtype {
    let data = [
        ("version", &info.git_version),
        ("platform", &info.platform),
        ("goVersion", &info.go_version),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), text(value)))
    .collect();
    subtype(SERVER, data)
}

/// This node's name from an environment lookup (`NODE_NAME`, then
/// `KUBERNETES_NODE_NAME`, then `HOSTNAME`); empty values are skipped.
/// The lookup is a parameter so that the environment is read at the edge:
/// pass `|name| std::env::var(name).ok()`.
pub fn node_name_from_env(lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    NODE_NAME_VARS
        .into_iter()
        .filter_map(lookup)
        .find(|name| !name.is_empty())
}

/// The service a `spec.providerID` names: the text before `://` (all of
/// it without one), trimmed and lower-cased, with the clouds' names mapped
/// to their Kubernetes services (`aws` → `eks`, `gce` → `gke`, `azure` →
/// `aks`, `oci` → `oke`); any other provider passes through.
pub fn provider(provider_id: &str) -> String {
    let scheme = provider_id
        .split_once("://")
        .map_or(provider_id, |(scheme, _)| scheme);
    let scheme = scheme.trim().to_lowercase();
    match scheme.as_str() {
        "aws" => "eks".into(),
        "gce" => "gke".into(),
        "azure" => "aks".into(),
        "oci" => "oke".into(),
        _ => scheme,
    }
}

/// The `node` subtype of this node's Node object fetched by `name`.
///
/// No node (no name, or the GET failed) gives an empty subtype, as in the
/// reference. Otherwise `source-node` is `name`, and each other key is
/// present only when its field is non-empty: `provider` and `provider-id`
/// from `spec.providerID`, `container-runtime-id` (split at `://` into
/// `container-runtime-name` and `-version` when it has one),
/// `kubelet-version`, `kernel-version`, `operating-system`, `os-image`.
pub fn node_subtype(node: Option<&Node>, name: &str) -> Subtype {
    let mut data = BTreeMap::new();
    let Some(node) = node else {
        return subtype(NODE, data);
    };
    data.insert("source-node".into(), text(name));
    let provider_id = node
        .spec
        .as_ref()
        .and_then(|spec| spec.provider_id.as_deref())
        .unwrap_or_default();
    if !provider_id.is_empty() {
        put_text(&mut data, "provider", &provider(provider_id));
        put_text(&mut data, "provider-id", provider_id);
    }
    if let Some(info) = node.status.as_ref().and_then(|s| s.node_info.as_ref()) {
        let runtime = info.container_runtime_version.as_str();
        put_text(&mut data, "container-runtime-id", runtime);
        if let Some((runtime_name, version)) = runtime.split_once("://") {
            // Both halves are written, even when empty, as in the reference.
            data.insert("container-runtime-name".into(), text(runtime_name));
            data.insert("container-runtime-version".into(), text(version));
        }
        put_text(&mut data, "kubelet-version", &info.kubelet_version);
        put_text(&mut data, "kernel-version", &info.kernel_version);
        put_text(&mut data, "operating-system", &info.operating_system);
        put_text(&mut data, "os-image", &info.os_image);
    }
    subtype(NODE, data)
}

/// An image reference's short name and tag, as the reference reads them:
/// the text after the last `/` (so registry hosts and ports go), cut at
/// the first `@` (the digest), split at the last `:`; no `:` is tag
/// `latest`. `None` when the name is empty.
///
/// `registry.k8s.io/pause:3.9` → (`pause`, `3.9`);
/// `localhost:5000/foo` → (`foo`, `latest`);
/// `ghcr.io/x/img:v1.0@sha256:ab…` → (`img`, `v1.0`).
pub fn image_name_and_tag(reference: &str) -> Option<(&str, &str)> {
    let short = reference
        .rsplit_once('/')
        .map_or(reference, |(_, short)| short);
    let short = short.split_once('@').map_or(short, |(short, _)| short);
    let (name, tag) = short.rsplit_once(':').unwrap_or((short, "latest"));
    (!name.is_empty()).then_some((name, tag))
}

/// The `image` subtype of pods: each image's short name → its tag.
///
/// Pods in the order given, and in each its containers, then init
/// containers, then ephemeral containers; a name seen again takes the
/// later tag. Empty image fields are skipped.
pub fn image_subtype(pods: &[Pod]) -> Subtype {
    let mut data = BTreeMap::new();
    for spec in pods.iter().filter_map(|pod| pod.spec.as_ref()) {
        let containers = spec.containers.iter().map(|c| c.image.as_deref());
        let init = spec.init_containers.iter().flatten();
        let ephemeral = spec.ephemeral_containers.iter().flatten();
        let images = containers
            .chain(init.map(|c| c.image.as_deref()))
            .chain(ephemeral.map(|c| c.image.as_deref()));
        for (name, tag) in images.flatten().filter_map(image_name_and_tag) {
            data.insert(name.to_string(), text(tag));
        }
    }
    subtype(IMAGE, data)
}

/// The `policy` subtype of ClusterPolicy `spec`s, flattened into one map
/// with dot-joined keys; a later spec overwrites an earlier one's key.
///
/// Values are text: strings as they are, booleans `true`/`false`,
/// integers in decimal, floats as Go's `%v` (`3.14`), `null` as `<nil>`,
/// non-empty arrays as compact JSON as Go writes it (`["a","b"]`). Empty
/// arrays and empty objects give nothing. A spec that is not an object is
/// skipped, as the reference skips one it cannot read as a map.
pub fn policy_subtype(specs: &[Value]) -> Subtype {
    let mut data = BTreeMap::new();
    for spec in specs {
        if let Value::Object(map) = spec {
            flatten(map, "", &mut data);
        }
    }
    subtype(POLICY, data)
}

fn flatten(
    map: &serde_json::Map<String, Value>,
    prefix: &str,
    out: &mut BTreeMap<String, Reading>,
) {
    for (key, value) in map {
        let key = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let reading = match value {
            Value::Object(inner) => {
                flatten(inner, &key, out);
                continue;
            }
            Value::Array(items) if items.is_empty() => continue,
            Value::Array(_) => go_json(value),
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            // The Kubernetes decoder reads integers beyond i64 as floats.
            Value::Number(n) => match n.as_i64() {
                Some(i) => i.to_string(),
                None => go_float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::Null => "<nil>".into(),
        };
        out.insert(key, Reading::Str(reading));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_like_the_reference() {
        for (reference, expected) in [
            ("registry.k8s.io/pause:3.9", Some(("pause", "3.9"))),
            ("docker.io/library/nginx", Some(("nginx", "latest"))),
            ("ghcr.io/x/img:v1.0@sha256:abcd", Some(("img", "v1.0"))),
            ("localhost:5000/foo", Some(("foo", "latest"))),
            ("localhost:5000/foo:1.2", Some(("foo", "1.2"))),
            ("img@sha256:abcd", Some(("img", "latest"))),
            ("nginx:", Some(("nginx", ""))),
            ("repo/", None),
            (":tag", None),
            ("", None),
        ] {
            assert_eq!(image_name_and_tag(reference), expected, "{reference}");
        }
    }
}
