//! Talos: the OS and SystemD subtypes from the node's Node object.

use std::collections::BTreeMap;

use aicr_collect::talos::{os_subtypes, service_subtypes};
use k8s_openapi::api::core::v1::{Node, NodeStatus, NodeSystemInfo};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::support::strings;

fn node(info: NodeSystemInfo, labels: &[(&str, &str)]) -> Node {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Node {
        metadata: ObjectMeta {
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        status: Some(NodeStatus {
            node_info: Some(info),
            ..NodeStatus::default()
        }),
        ..Node::default()
    }
}

fn runtime(container_runtime: &str, kubelet: &str) -> NodeSystemInfo {
    NodeSystemInfo {
        container_runtime_version: container_runtime.into(),
        kubelet_version: kubelet.into(),
        ..NodeSystemInfo::default()
    }
}

/// Case 38.
#[test]
fn a_talos_node_gives_release_and_extensions() {
    let info = NodeSystemInfo {
        os_image: "Talos (v1.7.6)".into(),
        kernel_version: "6.6.32-talos".into(),
        operating_system: "linux".into(),
        ..NodeSystemInfo::default()
    };
    let labels = [
        (
            "extensions.talos.dev/nvidia-container-toolkit",
            "1.16.1-v1.7.6",
        ),
        (
            "extensions.talos.dev/nvidia-open-gpu-kernel-modules",
            "555.42.06-v1.7.6",
        ),
        ("kubernetes.io/arch", "amd64"),
    ];
    let subtypes = os_subtypes(&node(info, &labels));
    assert_eq!(subtypes.len(), 2);
    assert_eq!(subtypes[0].name, "release");
    assert_eq!(
        subtypes[0].data,
        strings(&[
            ("Source", "kubernetes-node-info"),
            ("ID", "talos"),
            ("PRETTY_NAME", "Talos (v1.7.6)"),
            ("VERSION_ID", "1.7.6"),
            ("KERNEL_VERSION", "6.6.32-talos"),
            ("OPERATING_SYSTEM", "linux"),
        ])
    );
    assert_eq!(subtypes[1].name, "extensions");
    assert_eq!(
        subtypes[1].data,
        strings(&[
            ("Source", "kubernetes-node-info"),
            ("nvidia-container-toolkit", "1.16.1-v1.7.6"),
            ("nvidia-open-gpu-kernel-modules", "555.42.06-v1.7.6"),
        ])
    );
}

/// Case 39.
#[test]
fn a_non_talos_image_gives_only_its_pretty_name() {
    let info = NodeSystemInfo {
        os_image: "Ubuntu 22.04.5 LTS".into(),
        ..NodeSystemInfo::default()
    };
    let subtypes = os_subtypes(&node(info, &[("extensions.talos.dev/", "x")]));
    assert_eq!(subtypes.len(), 1);
    assert_eq!(
        subtypes[0].data,
        strings(&[
            ("Source", "kubernetes-node-info"),
            ("PRETTY_NAME", "Ubuntu 22.04.5 LTS"),
        ])
    );
}

#[test]
fn talos_image_names_are_matched_in_any_case_and_may_lack_a_version() {
    let release = |image: &str| {
        let info = NodeSystemInfo {
            os_image: image.into(),
            ..NodeSystemInfo::default()
        };
        os_subtypes(&node(info, &[])).remove(0).data
    };
    let data = release("TALOS (1.8.0)");
    assert_eq!(data["ID"], "talos".into());
    assert_eq!(data["VERSION_ID"], "1.8.0".into());
    let data = release("talos ()");
    assert_eq!(data["ID"], "talos".into());
    assert!(!data.contains_key("VERSION_ID"));
    assert!(!release("Talos").contains_key("ID"));
    assert_eq!(release(""), strings(&[("Source", "kubernetes-node-info")]));
}

fn service(name: &str, pairs: &[(&str, &str)]) -> BTreeMap<String, aicr_core::snapshot::Reading> {
    let mut data = strings(&[("UnitFileName", name), ("Source", "kubernetes-node-info")]);
    data.extend(strings(pairs));
    data
}

/// Case 40.
#[test]
fn talos_services_are_read_from_the_runtime_and_kubelet_versions() {
    let subtypes = service_subtypes(&node(runtime("containerd://1.7.20", "v1.32.4"), &[]));
    let names: Vec<&str> = subtypes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["containerd.service", "kubelet.service"]);
    assert_eq!(
        subtypes[0].data,
        service(
            "containerd.service",
            &[
                ("RuntimeName", "containerd"),
                ("ActiveState", "active"),
                ("Version", "1.7.20")
            ]
        )
    );
    assert_eq!(
        subtypes[1].data,
        service(
            "kubelet.service",
            &[("ActiveState", "active"), ("Version", "v1.32.4")]
        )
    );

    let crio = service_subtypes(&node(runtime("cri-o://1.30.0", ""), &[]));
    assert_eq!(
        crio[0].data,
        service(
            "containerd.service",
            &[("RuntimeName", "cri-o"), ("ActiveState", "unknown")]
        )
    );
    assert_eq!(
        crio[1].data,
        service("kubelet.service", &[("ActiveState", "unknown")])
    );

    let bare = service_subtypes(&node(runtime("containerd-1.7.20", ""), &[]));
    assert_eq!(
        bare[0].data,
        service(
            "containerd.service",
            &[
                ("RuntimeName", "containerd-1.7.20"),
                ("ActiveState", "unknown")
            ]
        )
    );

    let none = service_subtypes(&node(runtime("", ""), &[]));
    assert_eq!(
        none[0].data,
        service("containerd.service", &[("ActiveState", "unknown")])
    );
}
