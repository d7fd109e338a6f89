//! The double's HTTP side: one fallback handler that routes Kubernetes
//! paths by hand (the path grammar is small and regular).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::store::{Event, ResourceDef, Shared};
use super::{JobOutcome, Recorded, lock};

type Params = BTreeMap<String, String>;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(params): Query<Params>,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (delay, fault) = {
        let mut state = lock(&shared.state);
        state.requests.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            query: uri.query().unwrap_or_default().to_string(),
            content_type: content_type.clone(),
        });
        let delay = state
            .delays
            .iter()
            .find(|(p, _)| path.contains(p.as_str()))
            .map(|(_, d)| *d);
        let fault = state.faults.iter_mut().find(|f| {
            f.method.as_deref().is_none_or(|m| m == method.as_str())
                && path.contains(&f.path_contains)
                && f.times != Some(0)
        });
        let fault = fault.map(|f| {
            f.times = f.times.map(|n| n - 1);
            f.clone()
        });
        (delay, fault)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(fault) = fault {
        return status(fault.status, &fault.reason, "injected by the test".into());
    }
    let request = Request {
        shared,
        method,
        params,
        content_type,
        body,
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["version"] => json_response(200, lock(&request.shared.state).version.clone()),
        ["api"] => json_response(
            200,
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
        ),
        ["apis"] => request.groups(),
        ["api", version] => request.resource_list("", version),
        ["apis", group, version] => request.resource_list(group, version),
        ["api", _, rest @ ..] => request.resource("", rest),
        ["apis", group, _, rest @ ..] => request.resource(group, rest),
        _ => status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
        ),
    }
}

struct Request {
    shared: Arc<Shared>,
    method: Method,
    params: Params,
    content_type: String,
    body: Bytes,
}

/// Where a resource path points.
struct Target {
    def: ResourceDef,
    /// `None` only for lists across all namespaces.
    namespace: Option<String>,
    name: Option<String>,
}

impl Request {
    fn groups(&self) -> Response {
        let state = lock(&self.shared.state);
        let mut groups: Vec<(String, String)> = state
            .resources
            .iter()
            .filter(|r| !r.group.is_empty())
            .map(|r| (r.group.clone(), r.version.clone()))
            .collect();
        groups.dedup();
        let groups: Vec<Value> = groups
            .iter()
            .map(|(g, v)| {
                let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
                json!({"name": g, "versions": [gv], "preferredVersion": gv})
            })
            .collect();
        json_response(
            200,
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
        )
    }

    fn resource_list(&self, group: &str, version: &str) -> Response {
        let state = lock(&self.shared.state);
        let mut resources = Vec::new();
        for r in state
            .resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
        {
            let entry = |name: String| {
                json!({"name": name, "singularName": "", "namespaced": r.namespaced,
                       "kind": r.kind, "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
            };
            resources.push(entry(r.plural.clone()));
            // A sub-resource beside each resource, as real discovery lists them.
            resources.push(entry(format!("{}/status", r.plural)));
        }
        if resources.is_empty() {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource".into(),
            );
        }
        let group_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        json_response(
            200,
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
        )
    }

    fn resource(&self, group: &str, rest: &[&str]) -> Response {
        let (namespace, plural, tail) = match rest {
            ["namespaces", ns, plural, tail @ ..] => (Some(ns.to_string()), *plural, tail),
            [plural, tail @ ..] => (None, *plural, tail),
            [] => return status(404, "NotFound", "no resource".into()),
        };
        let Some(def) = lock(&self.shared.state)
            .resource_by_plural(group, plural)
            .cloned()
        else {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource".into(),
            );
        };
        let namespace = if def.namespaced {
            namespace
        } else {
            Some(String::new())
        };
        let target = Target {
            def,
            namespace,
            name: tail.first().map(|s| s.to_string()),
        };
        let sub = tail.get(1).copied();
        let watch = self
            .params
            .get("watch")
            .is_some_and(|w| w == "true" || w == "1");
        match (&self.method, &target.name, sub) {
            (&Method::GET, None, _) if watch => self.watch(&target),
            (&Method::GET, None, _) => self.list(&target),
            (&Method::GET, Some(_), Some("log")) => self.log(&target),
            (&Method::GET, Some(_), None) => self.get(&target),
            (&Method::POST, None, _) if target.def.plural == "selfsubjectaccessreviews" => {
                self.access_review()
            }
            (&Method::POST, None, _) => self.create(&target),
            (&Method::PUT, Some(_), None) => self.replace(&target),
            (&Method::PATCH, Some(_), None) => self.patch(&target),
            (&Method::DELETE, Some(_), None) => self.delete(&target),
            _ => status(
                405,
                "MethodNotAllowed",
                "not supported by the double".into(),
            ),
        }
    }

    fn stored(&self, target: &Target) -> Option<Value> {
        let state = lock(&self.shared.state);
        state
            .find(
                &target.def.plural,
                target.namespace.as_deref().unwrap_or_default(),
                target.name.as_deref()?,
            )
            .cloned()
    }

    fn get(&self, target: &Target) -> Response {
        match self.stored(target) {
            Some(object) => json_response(200, object),
            None => not_found(target),
        }
    }

    fn list(&self, target: &Target) -> Response {
        let state = lock(&self.shared.state);
        let items: Vec<Value> = state
            .list(&target.def.plural, target.namespace.as_deref())
            .into_iter()
            .filter(|o| selected(o, &self.params))
            .collect();
        let offset: usize = self
            .params
            .get("continue")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let limit: usize = self
            .params
            .get("limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        let end = offset.saturating_add(limit).min(items.len());
        let mut metadata = json!({"resourceVersion": state.rv.to_string()});
        if end < items.len() {
            metadata["continue"] = Value::from(end.to_string());
            metadata["remainingItemCount"] = Value::from(items.len() - end);
        }
        let page = items.get(offset.min(end)..end).unwrap_or_default().to_vec();
        json_response(
            200,
            json!({
                "apiVersion": target.def.api_version(),
                "kind": format!("{}List", target.def.kind),
                "metadata": metadata,
                "items": page,
            }),
        )
    }

    fn create(&self, target: &Target) -> Response {
        let Some(mut object) = self.body_object() else {
            return status(400, "BadRequest", "the body is not an object".into());
        };
        stamp(&mut object, target);
        let Some(name) = object["metadata"]["name"].as_str().map(String::from) else {
            return status(422, "Invalid", "metadata.name: Required value".into());
        };
        let target = Target {
            name: Some(name),
            ..target.clone()
        };
        if self.stored(&target).is_some() {
            return status(
                409,
                "AlreadyExists",
                format!("{} already exists", described(&target)),
            );
        }
        match self.shared.upsert(object) {
            Ok(created) => {
                if target.def.plural == "jobs" {
                    tokio::spawn(run_job(self.shared.clone(), created.clone()));
                }
                json_response(201, created)
            }
            Err(e) => status(400, "BadRequest", e),
        }
    }

    fn replace(&self, target: &Target) -> Response {
        let Some(mut object) = self.body_object() else {
            return status(400, "BadRequest", "the body is not an object".into());
        };
        let Some(current) = self.stored(target) else {
            return not_found(target);
        };
        let sent = object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default();
        if !sent.is_empty() && sent != current["metadata"]["resourceVersion"] {
            return status(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {}: the object has been modified; please apply your changes to the latest version and try again",
                    described(target)
                ),
            );
        }
        stamp(&mut object, target);
        upserted(&self.shared, object, 200)
    }

    fn patch(&self, target: &Target) -> Response {
        let Some(patch) = self.body_object() else {
            return status(400, "BadRequest", "the body is not an object".into());
        };
        let apply = self.content_type.starts_with("application/apply-patch");
        if apply && !self.params.contains_key("fieldManager") {
            return status(
                400,
                "BadRequest",
                "PATCH with apply requires a fieldManager".into(),
            );
        }
        let mut object = match (self.stored(target), apply) {
            (Some(current), _) => current,
            (None, true) => json!({}),
            (None, false) => return not_found(target),
        };
        merge(&mut object, &patch);
        stamp(&mut object, target);
        upserted(&self.shared, object, 200)
    }

    fn delete(&self, target: &Target) -> Response {
        let Some(mut object) = self.stored(target) else {
            return not_found(target);
        };
        let (plural, namespace, name) = (
            target.def.plural.clone(),
            target.namespace.clone().unwrap_or_default(),
            target.name.clone().unwrap_or_default(),
        );
        let delay = lock(&self.shared.state)
            .deletion_delays
            .iter()
            .find(|(p, _)| *p == plural)
            .map(|(_, d)| *d);
        let Some(delay) = delay else {
            let removed = self.shared.remove(&plural, &namespace, &name);
            return json_response(200, removed.unwrap_or(object));
        };
        if object["metadata"]["deletionTimestamp"].is_null() {
            object["metadata"]["deletionTimestamp"] = Value::from("2026-01-01T00:00:00Z");
            object["metadata"]["finalizers"] = json!(["foregroundDeletion"]);
            object = self.shared.upsert(object).unwrap_or_default();
            let shared = self.shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                shared.remove(&plural, &namespace, &name);
            });
        }
        json_response(200, object)
    }

    fn log(&self, target: &Target) -> Response {
        if self.stored(target).is_none() {
            return not_found(target);
        }
        let text = lock(&self.shared.state).job_script.pod_log.clone();
        (StatusCode::OK, [("content-type", "text/plain")], text).into_response()
    }

    fn access_review(&self) -> Response {
        let Some(mut review) = self.body_object() else {
            return status(400, "BadRequest", "the body is not an object".into());
        };
        let attrs = &review["spec"]["resourceAttributes"];
        let field = |k: &str| attrs[k].as_str().unwrap_or_default().to_string();
        let denied = lock(&self.shared.state).denied.contains(&(
            field("verb"),
            field("resource"),
            field("namespace"),
        ));
        review["status"] = if denied {
            json!({"allowed": false, "reason": "denied by the test"})
        } else {
            json!({"allowed": true})
        };
        json_response(201, review)
    }

    fn watch(&self, target: &Target) -> Response {
        let since = self
            .params
            .get("resourceVersion")
            .cloned()
            .unwrap_or_default();
        let timeout = self
            .params
            .get("timeoutSeconds")
            .and_then(|t| t.parse().ok())
            .unwrap_or(290);
        let (initial, mut live) = {
            let state = lock(&self.shared.state);
            let live = self.shared.events.subscribe();
            let initial: Vec<Event> = match since.parse::<u64>() {
                Ok(rv) if rv > 0 => state.log.iter().filter(|e| e.rv > rv).cloned().collect(),
                _ => state
                    .list(&target.def.plural, target.namespace.as_deref())
                    .into_iter()
                    .map(|object| Event {
                        rv: 0,
                        plural: target.def.plural.clone(),
                        namespace: String::new(),
                        kind: "ADDED",
                        object,
                    })
                    .collect(),
            };
            (initial, live)
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(64);
        let (plural, namespace, params) = (
            target.def.plural.clone(),
            target.namespace.clone(),
            self.params.clone(),
        );
        let wanted = move |e: &Event| {
            e.plural == plural
                && (e.rv == 0 || namespace.as_deref().is_none_or(|n| n == e.namespace))
                && selected(&e.object, &params)
        };
        tokio::spawn(async move {
            let deadline = tokio::time::sleep(Duration::from_secs(timeout));
            tokio::pin!(deadline);
            for event in initial.iter().filter(|e| wanted(e)) {
                if tx.send(event_line(event)).await.is_err() {
                    return;
                }
            }
            loop {
                tokio::select! {
                    _ = &mut deadline => return,
                    event = live.recv() => match event {
                        Ok(event) if wanted(&event) => {
                            if tx.send(event_line(&event)).await.is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    },
                }
            }
        });
        let stream = futures_util::stream::poll_fn(move |cx| {
            rx.poll_recv(cx).map(|b| b.map(Ok::<_, Infallible>))
        });
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from_stream(stream))
            .expect("a response")
    }

    fn body_object(&self) -> Option<Value> {
        let value: Value = serde_json::from_slice(&self.body)
            .ok()
            .or_else(|| serde_saphyr::from_slice(&self.body).ok())?;
        value.is_object().then_some(value)
    }
}

impl Clone for Target {
    fn clone(&self) -> Self {
        Target {
            def: self.def.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// The script of a created Job: its pod appears at once, the outcome
/// follows after the delay (unless the Job was deleted or replaced).
async fn run_job(shared: Arc<Shared>, job: Value) {
    let script = lock(&shared.state).job_script.clone();
    let namespace = job["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = job["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let pod_name = format!("{name}-agent");
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": namespace,
                     "labels": job["spec"]["template"]["metadata"]["labels"]},
        "spec": job["spec"]["template"]["spec"],
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    });
    let _ = shared.upsert(pod);
    let (after, condition, phase) = match &script.outcome {
        JobOutcome::Never => return,
        JobOutcome::Complete(after) => (
            *after,
            json!({"type": "Complete", "status": "True"}),
            "Succeeded",
        ),
        JobOutcome::Failed {
            after,
            reason,
            message,
        } => (
            *after,
            json!({"type": "Failed", "status": "True", "reason": reason, "message": message}),
            "Failed",
        ),
    };
    tokio::time::sleep(after).await;
    let current = lock(&shared.state).find("jobs", &namespace, &name).cloned();
    let Some(mut current) = current.filter(|c| c["metadata"]["uid"] == job["metadata"]["uid"])
    else {
        return;
    };
    if phase == "Succeeded"
        && let Some((ns, cm, data)) = &script.writes_configmap
    {
        let data: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        let _ = shared.upsert(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": cm, "namespace": ns}, "data": data}));
    }
    let pod = lock(&shared.state)
        .find("pods", &namespace, &pod_name)
        .cloned();
    if let Some(mut pod) = pod {
        pod["status"] =
            json!({"phase": phase, "conditions": [{"type": "Ready", "status": "False"}]});
        let _ = shared.upsert(pod);
    }
    let counter = if phase == "Succeeded" {
        "succeeded"
    } else {
        "failed"
    };
    current["status"] = json!({"conditions": [condition], counter: 1});
    let _ = shared.upsert(current);
}

fn event_line(event: &Event) -> Bytes {
    let mut line =
        serde_json::to_vec(&json!({"type": event.kind, "object": event.object})).expect("JSON");
    line.push(b'\n');
    Bytes::from(line)
}

/// Label selectors `k=v`, `k==v`, `k!=v` and `k`; field selectors on
/// `metadata.name` and `metadata.namespace`.
fn selected(object: &Value, params: &Params) -> bool {
    let labels = &object["metadata"]["labels"];
    let label_ok = params.get("labelSelector").is_none_or(|sel| {
        sel.split(',').filter(|s| !s.is_empty()).all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                labels[k.trim()].as_str() != Some(v.trim())
            } else if let Some((k, v)) = term.split_once('=') {
                labels[k.trim()].as_str() == Some(v.trim_start_matches('=').trim())
            } else {
                !labels[term.trim()].is_null()
            }
        })
    });
    let field_ok = params.get("fieldSelector").is_none_or(|sel| {
        sel.split(',').filter(|s| !s.is_empty()).all(|term| {
            let (k, v) = term.split_once('=').unwrap_or((term, ""));
            let v = v.trim_start_matches('=');
            match k.trim() {
                "metadata.name" => object["metadata"]["name"].as_str() == Some(v),
                "metadata.namespace" => object["metadata"]["namespace"].as_str() == Some(v),
                _ => true,
            }
        })
    });
    label_ok && field_ok
}

/// Sets `apiVersion`, `kind`, name and namespace from the path.
fn stamp(object: &mut Value, target: &Target) {
    object["apiVersion"] = Value::from(target.def.api_version());
    object["kind"] = Value::from(target.def.kind.as_str());
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    if let Some(name) = &target.name {
        object["metadata"]["name"] = Value::from(name.as_str());
    }
    if target.def.namespaced
        && let Some(ns) = &target.namespace
    {
        object["metadata"]["namespace"] = Value::from(ns.as_str());
    }
}

/// RFC 7386 JSON merge patch.
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let map = target.as_object_mut().expect("an object");
    for (k, v) in patch {
        if v.is_null() {
            map.remove(k);
        } else {
            merge(map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

fn upserted(shared: &Shared, object: Value, code: u16) -> Response {
    match shared.upsert(object) {
        Ok(stored) => json_response(code, stored),
        Err(e) => status(400, "BadRequest", e),
    }
}

/// `jobs.batch "aicr"`, `configmaps "x"`: how the API server names an
/// object in messages.
fn described(target: &Target) -> String {
    let resource = if target.def.group.is_empty() {
        target.def.plural.clone()
    } else {
        format!("{}.{}", target.def.plural, target.def.group)
    };
    format!(
        "{resource} \"{}\"",
        target.name.as_deref().unwrap_or_default()
    )
}

fn not_found(target: &Target) -> Response {
    status(404, "NotFound", format!("{} not found", described(target)))
}

fn status(code: u16, reason: &str, message: String) -> Response {
    json_response(
        code,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code,
        }),
    )
}

fn json_response(code: u16, body: Value) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}
