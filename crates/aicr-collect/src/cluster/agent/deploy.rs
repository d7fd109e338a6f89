//! The agent's API calls before and after the wait (spec §5.3 steps 3, 6
//! and 8): permission pre-check, RuntimeClass, namespace, RBAC, the Job
//! itself, reading the snapshot back and cleanup.

use std::fmt::Debug;
use std::time::Duration;

use aicr_core::{Code, Error, Result};
use futures_util::future::join_all;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::AgentOptions;
use super::job::{self, CLUSTER_ROLE_NAME, MANAGED_BY_LABEL};
use crate::cluster::{
    ConfigMapRef, api_error, is_already_exists, is_network, is_not_found, with_timeout,
};

/// Time for the RuntimeClass lookup.
const RUNTIME_CLASS_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for cleanup and for a previous Job's deletion.
pub(super) const CLEANUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The permissions a run needs, as (verb, resource, namespaced).
const REQUIRED: [(&str, &str, bool); 9] = [
    ("create", "serviceaccounts", true),
    ("create", "roles", true),
    ("create", "rolebindings", true),
    ("create", "jobs", true),
    ("get", "configmaps", true),
    ("list", "configmaps", true),
    ("create", "clusterroles", false),
    ("create", "clusterrolebindings", false),
    ("delete", "jobs", true),
];

/// Asks the API server, in parallel, whether the caller may do what a run
/// needs. Denials are UNAUTHORIZED listing each missing permission; an
/// unreachable server is SERVICE_UNAVAILABLE.
pub(super) async fn check_permissions(client: &kube::Client, namespace: &str) -> Result<()> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let reviews = REQUIRED.iter().map(|(verb, resource, namespaced)| {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.to_string()),
                    resource: Some(resource.to_string()),
                    namespace: namespaced.then(|| namespace.to_string()),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let api = api.clone();
        async move { api.create(&PostParams::default(), &review).await }
    });
    let mut missing = Vec::new();
    for ((verb, resource, namespaced), answer) in REQUIRED.iter().zip(join_all(reviews).await) {
        let allowed = match answer {
            Ok(review) => review.status.is_some_and(|s| s.allowed),
            Err(e) if is_network(&e) => {
                return Err(api_error(format!("failed to check permission for {verb} {resource}"), e).wrap(
                    Code::ServiceUnavailable,
                    "cannot reach Kubernetes API server\n\nCheck your network connectivity:\n  - Is your VPN connected?\n  - Is the cluster endpoint correct in your kubeconfig?\n  - Are firewall rules allowing egress to the API server?",
                ));
            }
            Err(e) => {
                return Err(api_error(
                    format!("failed to check permission for {verb} {resource}"),
                    e,
                )
                .wrap(
                    Code::Unauthorized,
                    "insufficient permissions to deploy agent",
                ));
            }
        };
        if !allowed {
            let scope = if *namespaced {
                format!("namespace {namespace:?}")
            } else {
                "cluster-scoped".to_string()
            };
            missing.push(format!("{verb} {resource} ({scope})"));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        Code::Unauthorized,
        format!("missing required permissions:\n  - {}", missing.join("\n  - ")),
    )
    .wrap(
        Code::Unauthorized,
        "insufficient permissions to deploy agent\n\nTo deploy the agent, you need cluster admin privileges.",
    ))
}

/// The RuntimeClass must exist: NOT_FOUND with a hint when it does not.
pub(super) async fn check_runtime_class(client: &kube::Client, name: &str) -> Result<()> {
    let api: Api<RuntimeClass> = Api::all(client.clone());
    let lookup = async {
        match api.get(name).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Err(Error::not_found(format!(
                "RuntimeClass {name:?} not found in cluster; the GPU Operator may not be installed yet.\n\n\
                 The --runtime-class flag requires a RuntimeClass to be registered in the cluster.\n\
                 If GPU Operator is not yet installed, omit --runtime-class and use --node-selector\n\
                 to target a GPU node instead."
            ))),
            // Wrapped below, with the timeout.
            Err(e) => Err(api_error("", e)),
        }
    };
    with_timeout("checking RuntimeClass", RUNTIME_CLASS_TIMEOUT, lookup)
        .await
        .map_err(|e| match e.code() {
            Code::NotFound => e,
            _ => e.wrap(
                Code::Internal,
                format!("failed to check RuntimeClass {name:?}"),
            ),
        })
}

/// Creates the namespace labelled `managed-by: aicr`, or adds the label
/// to an existing one that lacks it.
pub(super) async fn ensure_namespace(client: &kube::Client, opts: &AgentOptions) -> Result<()> {
    let failed =
        |what: &str, e| api_error(what, e).wrap(Code::Internal, "failed to ensure namespace");
    let api: Api<Namespace> = Api::all(client.clone());
    match api
        .create(&PostParams::default(), &job::namespace(opts))
        .await
    {
        Ok(_) => return Ok(()),
        Err(e) if is_already_exists(&e) => {}
        Err(e) => return Err(failed("failed to create Namespace", e)),
    }
    let existing = api
        .get(&opts.namespace)
        .await
        .map_err(|e| failed("failed to get existing Namespace", e))?;
    let (key, value) = MANAGED_BY_LABEL;
    if existing.labels().get(key).map(String::as_str) == Some(value) {
        return Ok(());
    }
    let patch = serde_json::json!({"metadata": {"labels": {key: value}}});
    api.patch(
        &opts.namespace,
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map(drop)
    .map_err(|e| failed("failed to label existing Namespace", e))
}

/// The ServiceAccount (kept when it exists), then Role, RoleBinding,
/// ClusterRole and ClusterRoleBinding (overwritten when they exist).
pub(super) async fn ensure_rbac(client: &kube::Client, opts: &AgentOptions) -> Result<()> {
    let ns = &opts.namespace;
    let created = |kind: &'static str| {
        move |e| api_error("", e).wrap(Code::Internal, format!("failed to create {kind}"))
    };
    let sa: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    match sa
        .create(&PostParams::default(), &job::service_account(opts))
        .await
    {
        Ok(_) => {}
        Err(e) if is_already_exists(&e) => {}
        Err(e) => return Err(created("ServiceAccount")(e)),
    }
    create_or_replace(
        &Api::<Role>::namespaced(client.clone(), ns),
        &job::role(opts),
    )
    .await
    .map_err(created("Role"))?;
    create_or_replace(
        &Api::<RoleBinding>::namespaced(client.clone(), ns),
        &job::role_binding(opts),
    )
    .await
    .map_err(created("RoleBinding"))?;
    create_or_replace(
        &Api::<ClusterRole>::all(client.clone()),
        &job::cluster_role(),
    )
    .await
    .map_err(created("ClusterRole"))?;
    create_or_replace(
        &Api::<ClusterRoleBinding>::all(client.clone()),
        &job::cluster_role_binding(opts),
    )
    .await
    .map_err(created("ClusterRoleBinding"))
}

/// Creates `object`; when it exists, overwrites it (PUT without a
/// resourceVersion, as the reference's Update).
async fn create_or_replace<K>(api: &Api<K>, object: &K) -> Result<(), kube::Error>
where
    K: Resource + Clone + Serialize + DeserializeOwned + Debug,
{
    match api.create(&PostParams::default(), object).await {
        Err(e) if is_already_exists(&e) => api
            .replace(&object.name_any(), &PostParams::default(), object)
            .await
            .map(drop),
        other => other.map(drop),
    }
}

/// Deletes a previous Job of the same name (foreground) and waits for it
/// to go, then creates the Job.
pub(super) async fn ensure_job(client: &kube::Client, opts: &AgentOptions) -> Result<()> {
    let failed = |e: Error| e.wrap(Code::Internal, "failed to create Job");
    let api: Api<Job> = Api::namespaced(client.clone(), &opts.namespace);
    match api
        .delete(&opts.job_name, &DeleteParams::foreground())
        .await
    {
        Ok(_) => super::wait::wait_for_deletion(&api, &opts.job_name, CLEANUP_TIMEOUT)
            .await
            .map_err(|e| failed(e.wrap(Code::Timeout, "timeout waiting for Job deletion")))?,
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(failed(api_error("failed to delete existing Job", e))),
    }
    api.create(&PostParams::default(), &job::build_job(opts))
        .await
        .map(drop)
        .map_err(|e| failed(api_error("", e)))
}

/// `snapshot.yaml` of the agent's ConfigMap (that key only).
pub(super) async fn retrieve(client: &kube::Client, target: &ConfigMapRef) -> Result<Vec<u8>> {
    let (ns, name) = (&target.namespace, &target.name);
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let configmap = api.get(name).await.map_err(|e| {
        let what = format!("failed to get ConfigMap {ns}/{name}");
        if is_not_found(&e) {
            Error::not_found(what).with_source(e)
        } else {
            api_error(what, e)
        }
    })?;
    configmap
        .data
        .and_then(|mut data| data.remove("snapshot.yaml"))
        .map(String::into_bytes)
        .ok_or_else(|| {
            Error::not_found(format!(
                "ConfigMap {ns}/{name} does not contain 'snapshot.yaml' key"
            ))
        })
}

/// Deletes the Job (foreground), ServiceAccount, Role, RoleBinding,
/// ClusterRole and ClusterRoleBinding, each attempted, missing ones
/// ignored. Keeps the namespace and the snapshot ConfigMap. Returns the
/// failures as one warning.
pub(super) async fn cleanup(client: &kube::Client, opts: &AgentOptions) -> Option<String> {
    let (ns, sa) = (&opts.namespace, &opts.service_account_name);
    let c = client;
    let deletions = async {
        vec![
            (
                format!("Job {:?}", opts.job_name),
                delete::<Job>(
                    Api::namespaced(c.clone(), ns),
                    &opts.job_name,
                    DeleteParams::foreground(),
                )
                .await,
            ),
            (
                format!("ServiceAccount {sa:?}"),
                delete::<ServiceAccount>(
                    Api::namespaced(c.clone(), ns),
                    sa,
                    DeleteParams::default(),
                )
                .await,
            ),
            (
                format!("Role {sa:?}"),
                delete::<Role>(Api::namespaced(c.clone(), ns), sa, DeleteParams::default()).await,
            ),
            (
                format!("RoleBinding {sa:?}"),
                delete::<RoleBinding>(Api::namespaced(c.clone(), ns), sa, DeleteParams::default())
                    .await,
            ),
            (
                format!("ClusterRole {CLUSTER_ROLE_NAME:?}"),
                delete::<ClusterRole>(
                    Api::all(c.clone()),
                    CLUSTER_ROLE_NAME,
                    DeleteParams::default(),
                )
                .await,
            ),
            (
                format!("ClusterRoleBinding {CLUSTER_ROLE_NAME:?}"),
                delete::<ClusterRoleBinding>(
                    Api::all(c.clone()),
                    CLUSTER_ROLE_NAME,
                    DeleteParams::default(),
                )
                .await,
            ),
        ]
    };
    let Ok(results) = tokio::time::timeout(CLEANUP_TIMEOUT, deletions).await else {
        return Some(format!(
            "cleanup timed out after {}s - resources may remain in cluster",
            CLEANUP_TIMEOUT.as_secs()
        ));
    };
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(|(what, result)| result.err().map(|e| format!("{what}: {e}")))
        .collect();
    (!failures.is_empty()).then(|| {
        format!(
            "cleanup failed - resources may remain in cluster: failed to delete {} resource(s):\n  - {}",
            failures.len(),
            failures.join("\n  - ")
        )
    })
}

async fn delete<K>(api: Api<K>, name: &str, params: DeleteParams) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    match api.delete(name, &params).await {
        Err(e) if is_not_found(&e) => Ok(()),
        other => other.map(drop),
    }
}
