//! The collectors' reads against the API server double.

use aicr_collect::cluster::fetch;
use aicr_core::Code;
use aicr_test_support::apiserver::{ApiServer, Fault, ResourceDef};
use serde_json::json;

fn pod(i: usize) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("p{i:04}"), "namespace": format!("ns{}", i % 3)},
        "spec": {"containers": [{"name": "c", "image": format!("repo/img{i}:v1")}]}})
}

/// Case 15: 1250 pods come back over three pages.
#[tokio::test]
async fn pods_are_listed_across_all_pages() {
    let server = ApiServer::start().await;
    for i in 0..1250 {
        server.insert_json(pod(i));
    }
    let pods = fetch::list_pods(&server.client()).await.unwrap();
    assert_eq!(pods.len(), 1250);
    let lists = server.requests_matching("GET", "/api/v1/pods");
    assert_eq!(lists.len(), 3);
    assert!(lists.iter().all(|r| r.query.contains("limit=500")));
    assert!(lists[1].query.contains("continue=500") && lists[2].query.contains("continue=1000"));
}

#[tokio::test]
async fn nodes_are_listed_and_fetched_by_name_with_404_as_none() {
    let server = ApiServer::start().await;
    server.insert_json(
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-1"},
        "spec": {"providerID": "aws:///x"}}),
    );
    let client = server.client();
    let node = fetch::node(&client, "gpu-1").await.unwrap().unwrap();
    assert_eq!(node.spec.unwrap().provider_id.as_deref(), Some("aws:///x"));
    assert!(fetch::node(&client, "absent").await.unwrap().is_none());
    assert_eq!(fetch::list_nodes(&client).await.unwrap().len(), 1);
}

#[tokio::test]
async fn cluster_policies_are_found_through_discovery_in_any_group() {
    let server = ApiServer::start().await;
    server.register(ResourceDef::new(
        "nvidia.com",
        "v1",
        "clusterpolicies",
        "ClusterPolicy",
        false,
    ));
    server.register(ResourceDef::new(
        "example.org",
        "v2",
        "policies",
        "ClusterPolicy",
        false,
    ));
    server.insert_json(
        json!({"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy",
        "metadata": {"name": "cluster-policy"}, "spec": {"driver": {"version": "580.82.07"}}}),
    );
    server.insert_json(
        json!({"apiVersion": "example.org/v2", "kind": "ClusterPolicy",
        "metadata": {"name": "other"}, "spec": {}}),
    );
    let policies = fetch::cluster_policies(&server.client()).await.unwrap();
    let mut names: Vec<_> = policies
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["cluster-policy", "other"]);
    assert_eq!(
        policies
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some("cluster-policy"))
            .unwrap()
            .data["spec"]["driver"]["version"],
        "580.82.07"
    );
    // The status sub-resources the double lists are not listed as policies.
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.path.ends_with("/status"))
    );
}

/// Case 19.
#[tokio::test]
async fn server_version_is_read_and_retried_on_5xx() {
    let server = ApiServer::start().await;
    server.set_version("v1.28.0", "linux/amd64");
    server.inject(Fault::new("GET", "/version", 500, "InternalError").times(2));
    let info = fetch::server_version(&server.client()).await.unwrap();
    assert_eq!(
        (info.git_version.as_str(), info.platform.as_str()),
        ("v1.28.0", "linux/amd64")
    );
    assert_eq!(server.requests_matching("GET", "/version").len(), 3);
}

#[tokio::test]
async fn persistent_failures_become_typed_errors() {
    let server = ApiServer::start().await;
    let client = server.client();
    server.inject(Fault::new("GET", "/api/v1/nodes", 403, "Forbidden"));
    assert_eq!(
        fetch::list_nodes(&client).await.unwrap_err().code(),
        Code::Unauthorized
    );
    assert_eq!(
        server.requests_matching("GET", "/api/v1/nodes").len(),
        1,
        "403 is not retried"
    );
    server.inject(Fault::new("GET", "/version", 503, "ServiceUnavailable"));
    assert_eq!(
        fetch::server_version(&client).await.unwrap_err().code(),
        Code::ServiceUnavailable
    );

    // Nobody listening: a connection error, retried, then SERVICE_UNAVAILABLE.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut config = kube::Config::new(url.parse().unwrap());
    config.default_retry = false;
    let dead = kube::Client::try_from(config).unwrap();
    assert_eq!(
        fetch::server_version(&dead).await.unwrap_err().code(),
        Code::ServiceUnavailable
    );
}
