//! The double's state: objects, the event log that watches replay, the
//! resource table that discovery lists, and the test's script.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::{Fault, JobScript, Recorded, lock};

/// A resource the double serves.
#[derive(Debug, Clone)]
pub struct ResourceDef {
    /// API group, empty for the core group.
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Plural resource name, e.g. `jobs`.
    pub plural: String,
    /// Kind, e.g. `Job`.
    pub kind: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
}

impl ResourceDef {
    /// A resource definition.
    pub fn new(group: &str, version: &str, plural: &str, kind: &str, namespaced: bool) -> Self {
        ResourceDef {
            group: group.into(),
            version: version.into(),
            plural: plural.into(),
            kind: kind.into(),
            namespaced,
        }
    }

    /// `v1` or `group/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

fn builtin_resources() -> Vec<ResourceDef> {
    let r = ResourceDef::new;
    vec![
        r("", "v1", "namespaces", "Namespace", false),
        r("", "v1", "nodes", "Node", false),
        r("", "v1", "pods", "Pod", true),
        r("", "v1", "configmaps", "ConfigMap", true),
        r("", "v1", "serviceaccounts", "ServiceAccount", true),
        r("batch", "v1", "jobs", "Job", true),
        r("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "rolebindings",
            "RoleBinding",
            true,
        ),
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterroles",
            "ClusterRole",
            false,
        ),
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterrolebindings",
            "ClusterRoleBinding",
            false,
        ),
        r("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", false),
        r(
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
            "SelfSubjectAccessReview",
            false,
        ),
    ]
}

/// One change, as a watch reports it.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub plural: String,
    pub namespace: String,
    pub kind: &'static str,
    pub object: Value,
}

/// Objects are keyed by (plural, namespace, name); plurals are unique
/// across the groups the double serves.
type Key = (String, String, String);

pub struct State {
    pub rv: u64,
    pub objects: BTreeMap<Key, Value>,
    pub log: Vec<Event>,
    pub resources: Vec<ResourceDef>,
    pub version: Value,
    pub denied: BTreeSet<(String, String, String)>,
    pub job_script: JobScript,
    pub faults: Vec<Fault>,
    pub delays: Vec<(String, Duration)>,
    pub deletion_delays: Vec<(String, Duration)>,
    pub requests: Vec<Recorded>,
}

impl State {
    pub fn resource_by_plural(&self, group: &str, plural: &str) -> Option<&ResourceDef> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.plural == plural)
    }

    fn resource_by_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceDef> {
        self.resources
            .iter()
            .find(|r| r.api_version() == api_version && r.kind == kind)
    }

    pub fn find(&self, plural: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(&(plural.to_string(), namespace.to_string(), name.to_string()))
    }

    pub fn names(&self, plural: &str) -> Vec<String> {
        self.objects
            .keys()
            .filter(|(p, _, _)| p == plural)
            .map(|(_, ns, name)| {
                if ns.is_empty() {
                    name.clone()
                } else {
                    format!("{ns}/{name}")
                }
            })
            .collect()
    }

    /// Objects of `plural` in `namespace` (all namespaces when `None`).
    pub fn list(&self, plural: &str, namespace: Option<&str>) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|((p, ns, _), _)| p == plural && namespace.is_none_or(|n| n == ns))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

pub struct Shared {
    pub state: Mutex<State>,
    pub events: broadcast::Sender<Event>,
}

impl Shared {
    pub fn new() -> Shared {
        let state = State {
            rv: 1,
            objects: BTreeMap::new(),
            log: Vec::new(),
            resources: builtin_resources(),
            version: json!({
                "major": "1", "minor": "33", "gitVersion": "v1.33.0",
                "gitCommit": "0000000", "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.0",
                "compiler": "gc", "platform": "linux/amd64"
            }),
            denied: BTreeSet::new(),
            job_script: JobScript::default(),
            faults: Vec::new(),
            delays: Vec::new(),
            deletion_delays: Vec::new(),
            requests: Vec::new(),
        };
        Shared {
            state: Mutex::new(state),
            events: broadcast::channel(4096).0,
        }
    }

    /// Stores `object` (created or replaced), stamps its metadata and
    /// emits the event. Fails when its kind is not registered.
    pub fn upsert(&self, mut object: Value) -> Result<Value, String> {
        let mut state = lock(&self.state);
        let api_version = object["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let kind = object["kind"].as_str().unwrap_or_default().to_string();
        let def = state
            .resource_by_kind(&api_version, &kind)
            .cloned()
            .ok_or_else(|| format!("unknown kind {api_version} {kind}"))?;
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let namespace = if def.namespaced {
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        let key = (def.plural.clone(), namespace.clone(), name);
        let existing = state.objects.get(&key).cloned();
        state.rv += 1;
        let rv = state.rv;
        let meta = &mut object["metadata"];
        if def.namespaced {
            meta["namespace"] = Value::from(namespace.clone());
        }
        meta["resourceVersion"] = Value::from(rv.to_string());
        match &existing {
            Some(old) => {
                meta["uid"] = old["metadata"]["uid"].clone();
                meta["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
            }
            None => {
                meta["uid"] = Value::from(format!("00000000-0000-0000-0000-{rv:012}"));
                meta["creationTimestamp"] = Value::from(timestamp(rv));
            }
        }
        let kind = if existing.is_some() {
            "MODIFIED"
        } else {
            "ADDED"
        };
        state.objects.insert(key, object.clone());
        self.emit(&mut state, def.plural, namespace, kind, object.clone());
        Ok(object)
    }

    /// Removes an object and emits `DELETED`.
    pub fn remove(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        let mut state = lock(&self.state);
        let key = (plural.to_string(), namespace.to_string(), name.to_string());
        let mut object = state.objects.remove(&key)?;
        state.rv += 1;
        object["metadata"]["resourceVersion"] = Value::from(state.rv.to_string());
        self.emit(
            &mut state,
            plural.into(),
            namespace.into(),
            "DELETED",
            object.clone(),
        );
        Some(object)
    }

    /// Logs and broadcasts under the state lock, so a watch that reads the
    /// log and subscribes under the same lock misses nothing.
    fn emit(
        &self,
        state: &mut State,
        plural: String,
        namespace: String,
        kind: &'static str,
        object: Value,
    ) {
        let event = Event {
            rv: state.rv,
            plural,
            namespace,
            kind,
            object,
        };
        state.log.push(event.clone());
        let _ = self.events.send(event);
    }
}

/// A creation timestamp that grows with the resourceVersion, so "the
/// youngest pod" is well defined.
fn timestamp(rv: u64) -> String {
    format!(
        "2026-01-01T{:02}:{:02}:{:02}Z",
        rv / 3600 % 24,
        rv / 60 % 60,
        rv % 60
    )
}
