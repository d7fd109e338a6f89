//! ConfigMap I/O against the API server double.

use aicr_collect::cluster::configmap::{self, ConfigMapRef};
use aicr_core::Code;
use aicr_core::output::Format;
use aicr_core::snapshot::Snapshot;
use aicr_test_support::apiserver::{ApiServer, Fault};
use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;

const SNAPSHOT: &str = "apiVersion: aicr.nvidia.com/v1alpha1\nkind: Snapshot\nmeasurements:\n- type: K8s\n  subtypes:\n  - subtype: server\n    data:\n      version: v1.33.5\n";

fn snapshot() -> Snapshot {
    Snapshot::parse(SNAPSHOT.as_bytes(), "test.yaml").unwrap()
}

fn seed(server: &ApiServer, data: serde_json::Value) {
    server.insert_json(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "snap", "namespace": "ns"}, "data": data}));
}

#[tokio::test]
async fn written_snapshot_reads_back_with_the_reference_keys_and_labels() {
    let server = ApiServer::start().await;
    let target = ConfigMapRef::new("ns", "snap");
    let client = server.client();
    for format in [Format::Yaml, Format::Json] {
        configmap::write_snapshot(
            &client,
            &target,
            &snapshot(),
            format,
            "2026-01-30T12:00:00Z",
        )
        .await
        .unwrap();
        let read = configmap::read_snapshot(&client, &target).await.unwrap();
        assert_eq!(read, snapshot(), "{format:?}");
    }
    let stored: ConfigMap = server.get("configmaps", "ns", "snap").unwrap();
    let data = stored.data.unwrap();
    assert_eq!(data["format"], "json");
    assert_eq!(data["timestamp"], "2026-01-30T12:00:00Z");
    assert!(
        !data["snapshot.json"].ends_with('\n'),
        "no trailing newline in a ConfigMap"
    );
    let labels = stored.metadata.labels.unwrap();
    assert_eq!(labels["app.kubernetes.io/name"], "aicr");
    assert_eq!(labels["app.kubernetes.io/component"], "Snapshot");
    assert_eq!(labels["app.kubernetes.io/version"], "unknown");
    let applies = server.requests_matching("PATCH", "/configmaps/snap");
    assert_eq!(applies.len(), 2);
    assert!(
        applies[0]
            .content_type
            .starts_with("application/apply-patch+yaml")
    );
    assert!(
        applies[0].query.contains("fieldManager=aicr") && applies[0].query.contains("force=true")
    );
}

#[tokio::test]
async fn the_format_key_is_read_first_then_yaml_json_txt() {
    let server = ApiServer::start().await;
    let client = server.client();
    let target = ConfigMapRef::new("ns", "snap");
    let json_text =
        r#"{"kind":"Snapshot","apiVersion":"aicr.nvidia.com/v1alpha1","measurements":[]}"#;
    seed(
        &server,
        json!({"format": "json", "snapshot.json": json_text, "snapshot.yaml": "not: [a snapshot"}),
    );
    let doc = configmap::read_document(&client, &target).await.unwrap();
    assert_eq!(
        (doc.key.as_str(), doc.content.as_str()),
        ("snapshot.json", json_text)
    );
    assert!(
        configmap::read_snapshot(&client, &target)
            .await
            .unwrap()
            .measurements
            .is_empty()
    );

    seed(
        &server,
        json!({"format": "table", "snapshot.json": json_text}),
    );
    assert_eq!(
        configmap::read_document(&client, &target)
            .await
            .unwrap()
            .key,
        "snapshot.json"
    );
    seed(&server, json!({"snapshot.yaml": SNAPSHOT}));
    assert_eq!(
        configmap::read_snapshot(&client, &target).await.unwrap(),
        snapshot()
    );
    seed(
        &server,
        json!({"format": "table", "snapshot.txt": "FIELD  VALUE\n"}),
    );
    let err = configmap::read_snapshot(&client, &target)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::InvalidRequest,
        "a table cannot be read back: {err}"
    );
}

#[tokio::test]
async fn missing_configmap_or_document_is_not_found() {
    let server = ApiServer::start().await;
    let client = server.client();
    let target = ConfigMapRef::new("ns", "snap");
    let err = configmap::read_snapshot(&client, &target)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(
        err.to_string().contains("failed to get ConfigMap ns/snap"),
        "{err}"
    );
    seed(&server, json!({"format": "yaml", "other": "x"}));
    let err = configmap::read_snapshot(&client, &target)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(err.message(), "ConfigMap ns/snap has no snapshot data");
}

#[tokio::test]
async fn a_recipe_is_written_under_the_same_keys() {
    let server = ApiServer::start().await;
    let recipe: aicr_core::RecipeResult = serde_json::from_value(json!({
        "kind": "RecipeResult", "apiVersion": "aicr.nvidia.com/v1alpha1",
        "metadata": {}, "criteria": {}, "componentRefs": [], "deploymentOrder": []
    }))
    .expect("a minimal recipe");
    let target = ConfigMapRef::new("ns", "recipe");
    configmap::write_recipe(&server.client(), &target, &recipe, Format::Yaml, "t")
        .await
        .unwrap();
    let stored: ConfigMap = server.get("configmaps", "ns", "recipe").unwrap();
    let data = stored.data.unwrap();
    assert_eq!(data["format"], "yaml");
    assert!(
        data["snapshot.yaml"].contains("kind: RecipeResult"),
        "{}",
        data["snapshot.yaml"]
    );
}

#[tokio::test]
async fn transient_failures_are_retried_then_reported_by_class() {
    let server = ApiServer::start().await;
    let client = server.client();
    let target = ConfigMapRef::new("ns", "snap");
    server.inject(Fault::new("PATCH", "/configmaps/snap", 500, "InternalError").times(2));
    configmap::write_snapshot(&client, &target, &snapshot(), Format::Yaml, "t")
        .await
        .unwrap();
    assert_eq!(
        server.requests_matching("PATCH", "/configmaps/snap").len(),
        3
    );

    server.inject(Fault::new(
        "GET",
        "/configmaps/snap",
        503,
        "ServiceUnavailable",
    ));
    let err = configmap::read_snapshot(&client, &target)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ServiceUnavailable, "{err}");
    assert_eq!(server.requests_matching("GET", "/configmaps/snap").len(), 3);
}
