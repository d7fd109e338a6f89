//! The whole collector list against the API server double: the Kubernetes
//! measurements from a cluster, Talos read from the Node object, and an
//! API failure failing the snapshot.

use std::path::Path;

use aicr_collect::cluster::Discovered;
use aicr_collect::{Host, Options, snapshot};
use aicr_core::Code;
use aicr_core::criteria::Os;
use aicr_core::fingerprint::Fingerprint;
use aicr_core::snapshot::{MeasurementType, Reading, SourceState};
use aicr_test_support::apiserver::{ApiServer, Fault, ResourceDef};
use serde_json::json;

use crate::support::tree;

/// A two-node EKS cluster with a GPU Operator ClusterPolicy.
async fn cluster() -> ApiServer {
    let server = ApiServer::start().await;
    server.set_version("v1.33.5-eks-3025e55", "linux/amd64");
    for (name, gpu) in [("gpu-1", true), ("cpu-1", false)] {
        let mut labels = json!({"topology.kubernetes.io/region": "us-east-1"});
        if gpu {
            labels["nvidia.com/gpu.product"] = json!("NVIDIA-H100-80GB-HBM3");
        }
        server.insert_json(json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            "spec": {"providerID": "aws:///us-east-1a/i-0abc",
                     "taints": if gpu { json!([{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]) } else { json!([]) }},
            "status": {"nodeInfo": {"containerRuntimeVersion": "containerd://1.7.2",
                "kubeletVersion": "v1.33.5", "kernelVersion": "6.8.0", "operatingSystem": "linux",
                "osImage": "Talos (v1.7.6)", "architecture": "amd64", "bootID": "", "kubeProxyVersion": "",
                "machineID": "", "systemUUID": ""}}}));
    }
    server.insert_json(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "op", "namespace": "gpu-operator"},
        "spec": {"containers": [{"name": "c", "image": "nvcr.io/nvidia/gpu-operator:v25.3.0"}]}}));
    server.register(ResourceDef::new(
        "nvidia.com",
        "v1",
        "clusterpolicies",
        "ClusterPolicy",
        false,
    ));
    server.insert_json(
        json!({"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy",
        "metadata": {"name": "cluster-policy"},
        "spec": {"driver": {"enabled": true, "version": "580.82.07"}}}),
    );
    server
}

fn options(root: &Path, server: &ApiServer, node: &str) -> Options {
    tree(root, &[("proc/cmdline", "ro\n")]);
    let mut options = Options::new("v1", 0);
    options.host = Host::at(root);
    options.node_name = Some(node.to_string());
    options.cluster = Discovered::Client(server.client());
    options
}

#[tokio::test]
async fn a_cluster_fills_the_kubernetes_and_topology_measurements() {
    let server = cluster().await;
    let root = tempfile::tempdir().unwrap();
    let snapshot = snapshot(options(root.path(), &server, "gpu-1"))
        .await
        .unwrap();

    let kinds: Vec<_> = snapshot.measurements.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, MeasurementType::ALL);
    let read = |path: &str| snapshot.reading(path).unwrap().clone();
    assert_eq!(
        read("K8s.server.version"),
        Reading::from("v1.33.5-eks-3025e55")
    );
    assert_eq!(read("K8s.image.gpu-operator"), Reading::from("v25.3.0"));
    assert_eq!(
        read("K8s.policy.driver.version"),
        Reading::from("580.82.07")
    );
    assert_eq!(read("K8s.node.provider"), Reading::from("eks"));
    assert_eq!(read("NodeTopology.summary.node-count"), Reading::Int(2));
    assert_eq!(
        read("NodeTopology.taint.nvidia.com/gpu"),
        Reading::from("NoSchedule||gpu-1")
    );
    let fingerprint = Fingerprint::from_snapshot(&snapshot);
    let criteria = fingerprint.criteria();
    assert_eq!(criteria.service.as_str(), "eks");
    assert_eq!(criteria.accelerator.as_str(), "h100");
    for kind in ["K8s", "NodeTopology"] {
        let status = snapshot.sources.iter().find(|s| s.source == kind).unwrap();
        assert_eq!(status.status, SourceState::Collected, "{kind}");
    }
    // The non-Talos OS and systemd came from the host tree, not the node.
    assert!(snapshot.reading("OS.grub.ro").is_ok());
}

#[tokio::test]
async fn a_node_the_cluster_does_not_have_is_absent_not_a_failure() {
    let server = cluster().await;
    let root = tempfile::tempdir().unwrap();
    let snapshot = snapshot(options(root.path(), &server, "laptop"))
        .await
        .unwrap();
    let node = snapshot
        .sources
        .iter()
        .find(|s| s.source == "K8s/node")
        .unwrap();
    assert_eq!(node.status, SourceState::Absent);
    assert!(node.reason.as_deref().unwrap().contains("laptop"));
    assert!(snapshot.reading("K8s.node.provider").is_err());
}

#[tokio::test]
async fn talos_reads_os_and_services_from_one_fetch_of_the_node() {
    let server = cluster().await;
    let root = tempfile::tempdir().unwrap();
    let mut options = options(root.path(), &server, "gpu-1");
    options.os = Os::Talos;
    let snapshot = snapshot(options).await.unwrap();
    assert_eq!(
        snapshot.reading("OS.release.ID").unwrap(),
        &Reading::from("talos")
    );
    assert!(snapshot.reading("OS.grub.ro").is_err(), "no /proc on Talos");
    let systemd = snapshot.measurement(MeasurementType::SystemD).unwrap();
    let names: Vec<_> = systemd.subtypes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["containerd.service", "kubelet.service"]);
    // K8s/node, Talos OS and Talos services share the node; the two Talos
    // collectors fetch it once between them.
    assert_eq!(
        server.requests_matching("GET", "/api/v1/nodes/gpu-1").len(),
        2
    );
}

#[tokio::test]
async fn an_api_failure_fails_the_snapshot_with_its_code() {
    let server = cluster().await;
    server.inject(Fault::new("GET", "/api/v1/pods", 403, "Forbidden"));
    let root = tempfile::tempdir().unwrap();
    let err = snapshot(options(root.path(), &server, "gpu-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthorized);
    assert!(err.to_string().contains("collecting K8s"), "{err}");
}
