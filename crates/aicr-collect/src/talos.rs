//! The OS and SystemD measurements of a Talos node, which has no shell,
//! no `/proc` access for the agent and no systemd: both are read from the
//! node's Node object (its `nodeInfo` and `extensions.talos.dev/*`
//! labels). Fetching the node is the caller's; the reference fetches it
//! once for both measurements.

use std::collections::BTreeMap;

use aicr_core::snapshot::{Reading, Subtype};
use k8s_openapi::api::core::v1::{Node, NodeSystemInfo};

use crate::{put_text, subtype};

/// Name of the OS subtype describing the release.
pub const RELEASE: &str = "release";
/// Name of the OS subtype listing Talos system extensions.
pub const EXTENSIONS: &str = "extensions";
/// Name of the SystemD subtype describing the container runtime.
pub const CONTAINERD: &str = "containerd.service";
/// Name of the SystemD subtype describing the kubelet.
pub const KUBELET: &str = "kubelet.service";
/// The `Source` every subtype carries.
pub const SOURCE: &str = "kubernetes-node-info";

const EXTENSION_LABEL: &str = "extensions.talos.dev/";

fn node_info(node: &Node) -> NodeSystemInfo {
    node.status
        .as_ref()
        .and_then(|status| status.node_info.clone())
        .unwrap_or_default()
}

fn sourced() -> BTreeMap<String, Reading> {
    BTreeMap::from([("Source".to_string(), Reading::from(SOURCE))])
}

/// The OS subtypes of a node: [`release_subtype`], then
/// [`extensions_subtype`] when the node has extensions.
pub fn os_subtypes(node: &Node) -> Vec<Subtype> {
    let mut subtypes = vec![release_subtype(node)];
    subtypes.extend(extensions_subtype(node));
    subtypes
}

/// The `release` subtype: `Source`, `PRETTY_NAME` (the OS image), and for
/// a Talos image (`Talos (v1.7.6)`) `ID: talos` and `VERSION_ID` (`1.7.6`);
/// `KERNEL_VERSION` and `OPERATING_SYSTEM` when the node reports them.
pub fn release_subtype(node: &Node) -> Subtype {
    let info = node_info(node);
    let mut data = sourced();
    put_text(&mut data, "PRETTY_NAME", &info.os_image);
    if let Some(version) = talos_version(&info.os_image) {
        put_text(&mut data, "ID", "talos");
        put_text(&mut data, "VERSION_ID", version);
    }
    put_text(&mut data, "KERNEL_VERSION", &info.kernel_version);
    put_text(&mut data, "OPERATING_SYSTEM", &info.operating_system);
    subtype(RELEASE, data)
}

/// The version in a Talos OS image name, `Talos (v1.7.6)` → `1.7.6`: the
/// text before the first ` (` must be `Talos` (any case); the version
/// loses one trailing `)` and one leading `v`, and may be empty.
fn talos_version(os_image: &str) -> Option<&str> {
    let (name, version) = os_image.split_once(" (")?;
    if !name.trim().eq_ignore_ascii_case("talos") {
        return None;
    }
    let version = version.trim();
    let version = version.strip_suffix(')').unwrap_or(version);
    Some(version.strip_prefix('v').unwrap_or(version))
}

/// The `extensions` subtype: `Source` and, for each label
/// `extensions.talos.dev/<name>` with a non-empty name, `<name>: <value>`.
/// `None` when there is no such label.
pub fn extensions_subtype(node: &Node) -> Option<Subtype> {
    let mut data = sourced();
    let mut found = false;
    for (key, value) in node.metadata.labels.iter().flatten() {
        if let Some(name) = key.strip_prefix(EXTENSION_LABEL)
            && !name.is_empty()
        {
            data.insert(name.to_string(), Reading::from(value.as_str()));
            found = true;
        }
    }
    found.then(|| subtype(EXTENSIONS, data))
}

/// The SystemD subtypes of a node: `containerd.service` then
/// `kubelet.service`, each with `UnitFileName` (its own name) and `Source`.
///
/// - containerd: no runtime version → `ActiveState: unknown`; otherwise
///   `RuntimeName` (the text before `://`, or all of it), and when that is
///   `containerd` with a version after `://`, `ActiveState: active` and
///   `Version`; any other runtime is `ActiveState: unknown`.
/// - kubelet: `ActiveState: active` and `Version` when the node reports a
///   kubelet version, else `ActiveState: unknown`.
pub fn service_subtypes(node: &Node) -> Vec<Subtype> {
    let info = node_info(node);
    vec![containerd_subtype(&info), kubelet_subtype(&info)]
}

fn unit(name: &str) -> BTreeMap<String, Reading> {
    let mut data = sourced();
    data.insert("UnitFileName".into(), Reading::from(name));
    data
}

fn containerd_subtype(info: &NodeSystemInfo) -> Subtype {
    let mut data = unit(CONTAINERD);
    let runtime = info.container_runtime_version.as_str();
    let (name, version) = runtime.split_once("://").unwrap_or((runtime, ""));
    if !runtime.is_empty() {
        // Written even when empty (`://1.7`), as in the reference.
        data.insert("RuntimeName".into(), Reading::from(name));
    }
    if name == "containerd" && !version.is_empty() {
        put_text(&mut data, "ActiveState", "active");
        put_text(&mut data, "Version", version);
    } else {
        put_text(&mut data, "ActiveState", "unknown");
    }
    subtype(CONTAINERD, data)
}

fn kubelet_subtype(info: &NodeSystemInfo) -> Subtype {
    let mut data = unit(KUBELET);
    if info.kubelet_version.is_empty() {
        put_text(&mut data, "ActiveState", "unknown");
    } else {
        put_text(&mut data, "ActiveState", "active");
        put_text(&mut data, "Version", &info.kubelet_version);
    }
    subtype(KUBELET, data)
}
