//! The reads the Kubernetes collectors need, as k8s-openapi types (the
//! transformations into snapshot subtypes are pure functions elsewhere).
//! Every request is retried on transient failures ([`super::retry`]);
//! after that the error carries its class as its code.

use std::fmt::Debug;

use aicr_core::Result;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::version::Info;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde::de::DeserializeOwned;

use super::{api_error, is_not_found, retry};

/// Items per list page (the reference's page size).
pub const PAGE_SIZE: u32 = 500;

/// `GET /version`.
pub async fn server_version(client: &kube::Client) -> Result<Info> {
    retry(|| client.apiserver_version())
        .await
        .map_err(|e| api_error("failed to get server version", e))
}

/// All pods in all namespaces, following `continue` pages of
/// [`PAGE_SIZE`].
pub async fn list_pods(client: &kube::Client) -> Result<Vec<Pod>> {
    list_all(&Api::all(client.clone()), "pods").await
}

/// All nodes, in pages of [`PAGE_SIZE`].
pub async fn list_nodes(client: &kube::Client) -> Result<Vec<Node>> {
    list_all(&Api::all(client.clone()), "nodes").await
}

/// One node by name; `None` when the server answers 404.
pub async fn node(client: &kube::Client, name: &str) -> Result<Option<Node>> {
    let api: Api<Node> = Api::all(client.clone());
    match retry(|| api.get(name)).await {
        Ok(node) => Ok(Some(node)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(api_error(format!("failed to get node {name:?}"), e)),
    }
}

/// Every ClusterPolicy in the cluster, whatever its group: API discovery
/// finds each group's preferred version that serves a resource of kind
/// `ClusterPolicy` (sub-resources skipped), then lists it. As in the
/// reference, a group whose resources cannot be read and a resource that
/// cannot be listed are skipped; only a failed group listing is an error.
pub async fn cluster_policies(client: &kube::Client) -> Result<Vec<DynamicObject>> {
    let mut objects = Vec::new();
    for resource in resources_of_kind(client, "ClusterPolicy").await? {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        if let Ok(found) = list_all(&api, &resource.plural).await {
            objects.extend(found);
        }
    }
    Ok(objects)
}

/// The resources of `kind` served by each API group's preferred version.
async fn resources_of_kind(client: &kube::Client, kind: &str) -> Result<Vec<ApiResource>> {
    let groups = retry(|| client.list_api_groups())
        .await
        .map_err(|e| api_error("failed to discover API groups", e))?;
    let mut found = Vec::new();
    for group in groups.groups {
        let Some(version) = group
            .preferred_version
            .clone()
            .or_else(|| group.versions.first().cloned())
        else {
            continue;
        };
        let Ok(list) = retry(|| client.list_api_group_resources(&version.group_version)).await
        else {
            continue;
        };
        for resource in list.resources {
            if resource.kind == kind && !resource.name.contains('/') {
                let gvk = GroupVersionKind::gvk(&group.name, &version.version, kind);
                found.push(ApiResource::from_gvk_with_plural(&gvk, &resource.name));
            }
        }
    }
    Ok(found)
}

/// Every object of a list, page by page.
async fn list_all<K>(api: &Api<K>, what: &str) -> Result<Vec<K>>
where
    K: Clone + DeserializeOwned + Debug,
{
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = ListParams::default().limit(PAGE_SIZE);
        if let Some(token) = &token {
            params = params.continue_token(token);
        }
        let page = retry(|| api.list(&params))
            .await
            .map_err(|e| api_error(format!("failed to list {what}"), e))?;
        items.extend(page.items);
        match page.metadata.continue_ {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(items),
        }
    }
}
