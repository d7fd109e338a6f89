//! The snapshot agent's flow (spec §5.3) against the API server double.

use std::time::Duration;

use aicr_collect::cluster::agent::{self, AgentOptions, AgentPhase, AgentProgress, job};
use aicr_core::{Code, Result};
use aicr_test_support::apiserver::{ApiServer, Fault, JobOutcome, JobScript};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, Role, RoleBinding};
use serde_json::json;

const NS: &str = "aicr-ns";
const SNAPSHOT: &str = "apiVersion: aicr.nvidia.com/v1alpha1\nkind: Snapshot\nmeasurements: []\n";
const RBAC: [&str; 5] = [
    "serviceaccounts",
    "roles",
    "rolebindings",
    "clusterroles",
    "clusterrolebindings",
];

fn options() -> AgentOptions {
    let mut opts = AgentOptions::new(NS, "ghcr.io/nvidia/aicr:v0.9.0");
    opts.timeout = Duration::from_secs(10);
    opts
}

fn script(outcome: JobOutcome, log: &str) -> JobScript {
    JobScript {
        outcome,
        pod_log: log.into(),
        writes_configmap: Some((
            NS.into(),
            "aicr-snapshot".into(),
            vec![("snapshot.yaml".into(), SNAPSHOT.into())],
        )),
    }
}

struct Run {
    result: Result<Vec<u8>>,
    phases: Vec<AgentPhase>,
    logs: String,
}

async fn run(server: &ApiServer, opts: &AgentOptions) -> Run {
    let mut phases = Vec::new();
    let mut logs = Vec::new();
    let result = agent::run_agent(
        &server.client(),
        opts,
        |p: AgentProgress| phases.push(p.phase),
        &mut logs,
    )
    .await;
    Run {
        result,
        phases,
        logs: String::from_utf8(logs).unwrap(),
    }
}

fn posts_other_than_access_reviews(server: &ApiServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && !r.path.ends_with("selfsubjectaccessreviews"))
        .map(|r| r.path)
        .collect()
}

#[tokio::test]
async fn agent_deploys_watches_streams_reads_back_and_cleans_up() {
    let server = ApiServer::start().await;
    server.script_jobs(script(
        JobOutcome::Complete(Duration::from_millis(100)),
        "collecting\ndone\n",
    ));
    let run = run(&server, &options()).await;
    assert_eq!(run.result.unwrap(), SNAPSHOT.as_bytes());
    assert_eq!(run.logs, "collecting\ndone\n");
    let expected = [
        AgentPhase::CheckingPermissions,
        AgentPhase::PreparingNamespace,
        AgentPhase::CreatingRbac,
        AgentPhase::StartingJob,
        AgentPhase::WaitingForJob,
        AgentPhase::RetrievingSnapshot,
        AgentPhase::CleaningUp,
        AgentPhase::Finished,
    ];
    assert_eq!(run.phases, expected);
    // Waiting used a watch, not polling.
    assert_eq!(
        server
            .requests_matching("GET", "/namespaces/aicr-ns/jobs")
            .iter()
            .filter(|r| r.query.contains("watch=true"))
            .count(),
        1
    );
    assert!(
        server
            .requests_matching("GET", "/namespaces/aicr-ns/jobs/aicr")
            .len()
            <= 1
    );
    // Cleanup deleted exactly the Job and RBAC, and kept the namespace and ConfigMap.
    let mut deleted: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path)
        .collect();
    deleted.sort();
    assert_eq!(
        deleted,
        [
            "/api/v1/namespaces/aicr-ns/serviceaccounts/aicr",
            // Once before creating the Job (nothing there), once in cleanup.
            "/apis/batch/v1/namespaces/aicr-ns/jobs/aicr",
            "/apis/batch/v1/namespaces/aicr-ns/jobs/aicr",
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/aicr-node-reader",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/aicr-node-reader",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/aicr-ns/rolebindings/aicr",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/aicr-ns/roles/aicr",
        ]
    );
    assert!(server.names("jobs").is_empty());
    for plural in RBAC {
        assert!(server.names(plural).is_empty(), "{plural} left behind");
    }
    assert_eq!(server.names("namespaces"), [NS]);
    assert_eq!(server.names("configmaps"), ["aicr-ns/aicr-snapshot"]);
}

#[tokio::test]
async fn no_cleanup_keeps_objects_built_as_the_spec_says() {
    let server = ApiServer::start().await;
    server.script_jobs(script(JobOutcome::Complete(Duration::from_millis(20)), ""));
    let mut opts = options();
    opts.cleanup = false;
    let run = run(&server, &opts).await;
    assert!(run.result.is_ok(), "{:?}", run.result);
    assert!(!run.phases.contains(&AgentPhase::CleaningUp));
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.method != "DELETE" || r.path.ends_with("/jobs/aicr")),
        "only the pre-run Job delete"
    );
    let stored: Job = server.get("jobs", NS, "aicr").unwrap();
    assert_eq!(stored.spec, job::build_job(&opts).spec);
    assert_eq!(
        stored.metadata.labels,
        job::build_job(&opts).metadata.labels
    );
    let role: Role = server.get("roles", NS, "aicr").unwrap();
    assert_eq!(role.rules, job::role(&opts).rules);
    let binding: RoleBinding = server.get("rolebindings", NS, "aicr").unwrap();
    assert_eq!(
        (binding.role_ref, binding.subjects),
        (
            job::role_binding(&opts).role_ref,
            job::role_binding(&opts).subjects
        )
    );
    let cluster_role: ClusterRole = server.get("clusterroles", "", "aicr-node-reader").unwrap();
    assert_eq!(cluster_role.rules, job::cluster_role().rules);
    assert_eq!(server.names("clusterrolebindings"), ["aicr-node-reader"]);
    assert_eq!(server.names("serviceaccounts"), ["aicr-ns/aicr"]);
    let ns: Namespace = server.get("namespaces", "", NS).unwrap();
    assert_eq!(
        ns.metadata.labels.unwrap()["app.kubernetes.io/managed-by"],
        "aicr"
    );
}

#[tokio::test]
async fn a_failed_job_reports_its_reason_and_prints_the_pod_log() {
    let server = ApiServer::start().await;
    let failed = JobOutcome::Failed {
        after: Duration::from_millis(50),
        reason: "BackoffLimitExceeded".into(),
        message: "Job has reached the specified backoff limit".into(),
    };
    server.script_jobs(script(failed, "panic: no GPU\n"));
    let run = run(&server, &options()).await;
    let err = run.result.unwrap_err();
    assert_eq!(err.code(), Code::Internal);
    assert_eq!(err.message(), "job failed");
    assert!(
        err.to_string().contains("BackoffLimitExceeded")
            && err.to_string().contains("backoff limit"),
        "{err}"
    );
    assert!(
        run.logs
            .contains("--- agent logs ---\npanic: no GPU\n--- end logs ---\n"),
        "{}",
        run.logs
    );
    assert!(run.phases.contains(&AgentPhase::CleaningUp));
    assert!(server.names("jobs").is_empty());
}

#[tokio::test]
async fn a_job_that_never_finishes_times_out() {
    let server = ApiServer::start().await;
    server.script_jobs(script(JobOutcome::Never, "still running\n"));
    let mut opts = options();
    opts.timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let run = run(&server, &opts).await;
    let err = run.result.unwrap_err();
    assert_eq!(err.code(), Code::Timeout, "{err}");
    assert!(err.to_string().contains("job completion timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(run.logs.contains("--- agent logs ---"), "{}", run.logs);
}

#[tokio::test]
async fn missing_permissions_are_listed_and_nothing_is_created() {
    let server = ApiServer::start().await;
    server.deny("create", "jobs", NS);
    server.deny("create", "clusterroles", "");
    let run = run(&server, &options()).await;
    let err = run.result.unwrap_err();
    assert_eq!(err.code(), Code::Unauthorized);
    let text = err.to_string();
    assert!(
        text.contains("insufficient permissions to deploy agent"),
        "{text}"
    );
    assert!(
        text.contains(
            "  - create jobs (namespace \"aicr-ns\")\n  - create clusterroles (cluster-scoped)"
        ),
        "{text}"
    );
    assert_eq!(
        server
            .requests_matching("POST", "selfsubjectaccessreviews")
            .len(),
        9
    );
    assert!(posts_other_than_access_reviews(&server).is_empty());
}

#[tokio::test]
async fn existing_rbac_objects_are_overwritten_and_an_old_job_awaited() {
    let server = ApiServer::start().await;
    server.insert_json(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "aicr", "namespace": NS}, "rules": []}),
    );
    server.insert_json(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "aicr-node-reader"}, "rules": []}),
    );
    server.insert_json(json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "aicr", "namespace": NS}, "spec": {"template": {"spec": {"containers": []}}}}));
    server.insert_json(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}));
    server.deletion_delay("jobs", Duration::from_millis(150));
    server.script_jobs(script(JobOutcome::Complete(Duration::from_millis(20)), ""));
    let mut opts = options();
    opts.cleanup = false;
    let run = run(&server, &opts).await;
    assert!(run.result.is_ok(), "{:?}", run.result);
    let role: Role = server.get("roles", NS, "aicr").unwrap();
    assert_eq!(role.rules, job::role(&opts).rules);
    assert_eq!(server.requests_matching("PUT", "/roles/aicr").len(), 1);
    assert_eq!(
        server
            .requests_matching("PUT", "/clusterroles/aicr-node-reader")
            .len(),
        1
    );
    // The existing namespace got the label by a merge patch.
    let ns: Namespace = server.get("namespaces", "", NS).unwrap();
    assert_eq!(
        ns.metadata.labels.unwrap()["app.kubernetes.io/managed-by"],
        "aicr"
    );
    // The old Job's deletion was watched before the new Job was created.
    let jobs = server.requests_matching("GET", "/namespaces/aicr-ns/jobs");
    assert!(
        jobs.iter()
            .any(|r| r.query.contains("watch=true") && r.query.contains("resourceVersion="))
    );
    let stored: Job = server.get("jobs", NS, "aicr").unwrap();
    assert_eq!(stored.spec, job::build_job(&opts).spec);
}

#[tokio::test]
async fn other_api_failures_surface_as_typed_errors() {
    let server = ApiServer::start().await;
    server.inject(Fault::new("POST", "/jobs", 500, "InternalError"));
    let err = run(&server, &options()).await.result.unwrap_err();
    assert_eq!(err.code(), Code::Internal);
    assert_eq!(err.message(), "failed to create Job");

    let server = ApiServer::start().await;
    server.insert_json(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "aicr", "namespace": NS}, "rules": []}),
    );
    server.inject(Fault::new("PUT", "/roles/aicr", 409, "Conflict"));
    let err = run(&server, &options()).await.result.unwrap_err();
    assert_eq!(err.message(), "failed to create Role");
    assert!(
        err.to_string().contains("409") || err.to_string().contains("injected"),
        "{err}"
    );
    assert!(server.names("jobs").is_empty());
}

#[tokio::test]
async fn a_missing_runtime_class_is_not_found() {
    let server = ApiServer::start().await;
    let mut opts = options();
    opts.runtime_class = Some("nvidia".into());
    let run = run(&server, &opts).await;
    let err = run.result.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(
        err.to_string()
            .contains("RuntimeClass \"nvidia\" not found"),
        "{err}"
    );
    assert!(posts_other_than_access_reviews(&server).is_empty());
}
