//! The K8s subtypes from fetched objects: `server`, `image`, `policy`,
//! `node`, and the node name from the environment.

use aicr_collect::k8s::{
    image_subtype, node_name_from_env, node_subtype, policy_subtype, provider, server_subtype,
};
use k8s_openapi::api::core::v1::{
    Container, EphemeralContainer, Node, NodeSpec, NodeStatus, NodeSystemInfo, Pod, PodSpec,
};
use k8s_openapi::apimachinery::pkg::version::Info;
use serde_json::json;

use crate::support::strings;

fn container(image: &str) -> Container {
    Container {
        image: Some(image.to_string()),
        ..Container::default()
    }
}

fn pod(containers: &[&str], init: &[&str], ephemeral: &[&str]) -> Pod {
    let ephemeral = ephemeral
        .iter()
        .map(|image| EphemeralContainer {
            image: Some(image.to_string()),
            ..EphemeralContainer::default()
        })
        .collect();
    Pod {
        spec: Some(PodSpec {
            containers: containers.iter().map(|i| container(i)).collect(),
            init_containers: Some(init.iter().map(|i| container(i)).collect()),
            ephemeral_containers: Some(ephemeral),
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

/// Case 12.
#[test]
fn container_and_init_images_read_as_short_name_and_tag() {
    let image = image_subtype(&[pod(&["repo/image:tag"], &["repo/init:latest"], &[])]);
    assert_eq!(image.name, "image");
    assert_eq!(image.data, strings(&[("image", "tag"), ("init", "latest")]));
}

/// Case 13.
#[test]
fn the_same_image_in_two_pods_is_one_reading() {
    let image = image_subtype(&[
        pod(&["nginx:1.21"], &[], &[]),
        pod(&["nginx:1.21"], &[], &[]),
    ]);
    assert_eq!(image.data, strings(&[("nginx", "1.21")]));
}

/// Case 14.
#[test]
fn a_digest_is_dropped_and_the_tag_kept() {
    let image = image_subtype(&[pod(
        &["registry.k8s.io/node-role-controller:v0.5.0@sha256:3456abcdef"],
        &[],
        &[],
    )]);
    assert_eq!(image.data, strings(&[("node-role-controller", "v0.5.0")]));
}

#[test]
fn later_images_win_in_pod_then_container_init_ephemeral_order() {
    let pods = [
        pod(&["a/x:1"], &["b/x:2"], &["c/x:3", "localhost:5000/y"]),
        pod(&["d/z@sha256:ff", ""], &[], &[]),
    ];
    let image = image_subtype(&pods);
    assert_eq!(
        image.data,
        strings(&[("x", "3"), ("y", "latest"), ("z", "latest")])
    );
    let image = image_subtype(&[pod(&["c/x:3"], &["a/x:1"], &[])]);
    assert_eq!(image.data, strings(&[("x", "1")]));
    assert!(image_subtype(&[Pod::default()]).data.is_empty());
}

fn node(provider_id: &str, info: NodeSystemInfo) -> Node {
    Node {
        spec: Some(NodeSpec {
            provider_id: Some(provider_id.to_string()),
            ..NodeSpec::default()
        }),
        status: Some(NodeStatus {
            node_info: Some(info),
            ..NodeStatus::default()
        }),
        ..Node::default()
    }
}

/// Case 16.
#[test]
fn a_gke_node_gives_all_ten_keys() {
    let info = NodeSystemInfo {
        container_runtime_version: "containerd://1.7.2".into(),
        kubelet_version: "v1.28.0".into(),
        kernel_version: "5.15.0-91-generic".into(),
        operating_system: "linux".into(),
        os_image: "Ubuntu 22.04.3 LTS".into(),
        ..NodeSystemInfo::default()
    };
    let id = "gce://my-project/us-central1-a/gke-cluster-node";
    let subtype = node_subtype(Some(&node(id, info)), "gke-cluster-node");
    assert_eq!(subtype.name, "node");
    assert_eq!(
        subtype.data,
        strings(&[
            ("source-node", "gke-cluster-node"),
            ("provider", "gke"),
            ("provider-id", id),
            ("container-runtime-id", "containerd://1.7.2"),
            ("container-runtime-name", "containerd"),
            ("container-runtime-version", "1.7.2"),
            ("kubelet-version", "v1.28.0"),
            ("kernel-version", "5.15.0-91-generic"),
            ("operating-system", "linux"),
            ("os-image", "Ubuntu 22.04.3 LTS"),
        ])
    );
}

/// Case 17.
#[test]
fn provider_ids_map_to_services() {
    for (id, expected) in [
        ("aws:///us-west-2a/i-0123", "eks"),
        ("azure:///subscriptions/x", "aks"),
        ("oci://ocid1.instance", "oke"),
        ("custom-provider://x", "custom-provider"),
        ("just-a-string", "just-a-string"),
        ("AWS:///x", "eks"),
        (" gce ://x", "gke"),
        ("kind://docker/kind/kind-control-plane", "kind"),
    ] {
        assert_eq!(provider(id), expected, "{id}");
    }
    let subtype = node_subtype(Some(&node("", NodeSystemInfo::default())), "n");
    assert_eq!(subtype.data, strings(&[("source-node", "n")]));
}

#[test]
fn a_runtime_without_a_scheme_has_no_name_or_version() {
    let info = NodeSystemInfo {
        container_runtime_version: "containerd-1.7.20".into(),
        ..NodeSystemInfo::default()
    };
    let subtype = node_subtype(Some(&node("", info)), "n");
    assert_eq!(
        subtype.data,
        strings(&[
            ("source-node", "n"),
            ("container-runtime-id", "containerd-1.7.20")
        ])
    );
}

fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    }
}

/// Case 18.
#[test]
fn node_name_comes_from_node_name_then_kubernetes_node_name_then_hostname() {
    let all = [
        ("HOSTNAME", "host"),
        ("KUBERNETES_NODE_NAME", "k8s"),
        ("NODE_NAME", "node"),
    ];
    assert_eq!(node_name_from_env(env(&all)).as_deref(), Some("node"));
    let skipped = [
        ("NODE_NAME", ""),
        ("KUBERNETES_NODE_NAME", "k8s"),
        ("HOSTNAME", "h"),
    ];
    assert_eq!(node_name_from_env(env(&skipped)).as_deref(), Some("k8s"));
    let host = [
        ("NODE_NAME", ""),
        ("KUBERNETES_NODE_NAME", ""),
        ("HOSTNAME", "h"),
    ];
    assert_eq!(node_name_from_env(env(&host)).as_deref(), Some("h"));
    let empty = [("NODE_NAME", ""), ("HOSTNAME", "")];
    assert_eq!(node_name_from_env(env(&empty)), None);
    // No name, so no node fetched: the subtype is empty.
    assert!(node_subtype(None, "").data.is_empty());
}

/// Case 19.
#[test]
fn server_version_gives_version_platform_and_go_version() {
    let info = Info {
        git_version: "v1.28.0".into(),
        platform: "linux/amd64".into(),
        go_version: "go1.20.7".into(),
        ..Info::default()
    };
    let server = server_subtype(&info);
    assert_eq!(server.name, "server");
    assert_eq!(
        server.data,
        strings(&[
            ("version", "v1.28.0"),
            ("platform", "linux/amd64"),
            ("goVersion", "go1.20.7"),
        ])
    );
}

/// Case 20.
#[test]
fn cluster_policy_specs_flatten_to_dotted_text_readings() {
    // Parsed from text: the spec's float is 3.14 as written, not a constant.
    let spec: serde_json::Value = serde_json::from_str(
        r#"{
            "driver": {"version": "580.82.07", "enabled": true},
            "ratio": 3.14,
            "count": 42,
            "items": ["a", "b", "c"],
            "none": [],
            "empty": {},
            "a": {"b": {"c": "deep"}},
            "nothing": null
        }"#,
    )
    .unwrap();
    let policy = policy_subtype(&[spec]);
    assert_eq!(policy.name, "policy");
    assert_eq!(
        policy.data,
        strings(&[
            ("driver.version", "580.82.07"),
            ("driver.enabled", "true"),
            ("ratio", "3.14"),
            ("count", "42"),
            ("items", r#"["a","b","c"]"#),
            ("a.b.c", "deep"),
            ("nothing", "<nil>"),
        ])
    );
}

#[test]
fn later_policies_overwrite_and_arrays_are_written_as_go_json() {
    let first = json!({"driver": {"version": "1"}, "keep": "x"});
    let second = json!({
        "driver": {"version": "2"},
        "devicePlugin": {"env": [{"value": "true", "name": "PASS_DEVICE_SPECS"}]},
        "big": 1e6,
    });
    let policy = policy_subtype(&[first, json!("not a map"), second]);
    assert_eq!(
        policy.data,
        strings(&[
            ("driver.version", "2"),
            ("keep", "x"),
            (
                "devicePlugin.env",
                r#"[{"name":"PASS_DEVICE_SPECS","value":"true"}]"#
            ),
            ("big", "1e+06"),
        ])
    );
}
