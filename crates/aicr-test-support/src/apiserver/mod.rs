//! A Kubernetes API server double: a real HTTP server on `127.0.0.1` (an
//! ephemeral port) that speaks enough Kubernetes JSON for the cluster code
//! of `aicr-collect` to run against it with a real `kube::Client`.
//!
//! What it does: an in-memory store of objects keyed by (resource,
//! namespace, name) with a global `resourceVersion`; GET, list (label and
//! field selectors of the `k=v` and `metadata.name=` forms, `limit` and
//! `continue`), POST (409 `AlreadyExists`), PUT (409 `Conflict` on a stale
//! `resourceVersion`, none means unconditional), DELETE (immediate, or
//! after a scripted delay with a `deletionTimestamp` meanwhile), PATCH
//! (server-side apply and merge patch, both as a JSON merge), `?watch=true`
//! as newline-delimited events, `SelfSubjectAccessReview`, pod logs,
//! `/version` and discovery (`/api`, `/apis`, resource lists).
//! Errors are `Status` objects with the real reasons.
//!
//! Scripting: deny permissions (answered by access reviews only), decide
//! what happens to a created Job ([`JobScript`]: a pod appears, then the
//! Job completes or fails after a delay, or never), inject faults and
//! delays by method and path, and read back every request.
//!
//! What it does not emulate: authentication and authorisation of the
//! requests themselves (denials only change access-review answers);
//! admission, defaulting and validation of object bodies (names are
//! required, nothing else is checked); namespace existence; field
//! ownership of server-side apply (`force` and conflicts between managers
//! are ignored); strategic merge (treated as a JSON merge); garbage
//! collection (deleting a Job leaves its pod); `resourceVersion` expiry
//! (no `410 Gone`); bookmarks; log `follow` (the whole log is sent and the
//! stream closed); protobuf, tables and aggregated discovery.

mod http;
mod store;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use store::ResourceDef;
use store::State;

/// What happens to a Job created on the double.
#[derive(Debug, Clone)]
pub struct JobScript {
    /// How the Job ends.
    pub outcome: JobOutcome,
    /// Text served as the log of the Job's pod.
    pub pod_log: String,
    /// A ConfigMap `(namespace, name, data)` written when the Job
    /// completes, as the agent does from inside its pod.
    pub writes_configmap: Option<ConfigMapWrite>,
}

/// A ConfigMap written by a scripted Job: namespace, name, data pairs.
pub type ConfigMapWrite = (String, String, Vec<(String, String)>);

/// How a scripted Job ends.
#[derive(Debug, Clone)]
pub enum JobOutcome {
    /// `Complete=True` after the delay.
    Complete(Duration),
    /// `Failed=True` with this reason and message after the delay.
    Failed {
        /// Time until the condition is set.
        after: Duration,
        /// Condition reason, e.g. `BackoffLimitExceeded`.
        reason: String,
        /// Condition message.
        message: String,
    },
    /// Runs forever.
    Never,
}

impl Default for JobScript {
    fn default() -> Self {
        JobScript {
            outcome: JobOutcome::Never,
            pod_log: String::new(),
            writes_configmap: None,
        }
    }
}

/// An injected failure: requests whose method and path match get this
/// status instead of their answer, `times` times (`None`: always).
#[derive(Debug, Clone)]
pub struct Fault {
    /// `GET`, `POST`, ...; `None` matches any method.
    pub method: Option<String>,
    /// Matches a request whose path contains this text.
    pub path_contains: String,
    /// HTTP status, e.g. 409 or 500.
    pub status: u16,
    /// `Status.reason`, e.g. `Conflict` or `InternalError`.
    pub reason: String,
    /// How many requests fail; `None` for all.
    pub times: Option<usize>,
}

impl Fault {
    /// `status` with `reason` for every matching request.
    pub fn new(method: &str, path_contains: &str, status: u16, reason: &str) -> Self {
        Fault {
            method: Some(method.to_string()),
            path_contains: path_contains.to_string(),
            status,
            reason: reason.to_string(),
            times: None,
        }
    }

    /// Only the first `n` matching requests fail.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }
}

/// A request as the double received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string (empty when none).
    pub query: String,
    /// The `Content-Type` header (empty when none).
    pub content_type: String,
}

/// A running double. The server task stops with the test's runtime.
#[derive(Clone)]
pub struct ApiServer {
    url: String,
    shared: Arc<store::Shared>,
}

impl ApiServer {
    /// Binds `127.0.0.1:0` and serves on the current tokio runtime.
    pub async fn start() -> ApiServer {
        let shared = Arc::new(store::Shared::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let router = http::router(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        ApiServer { url, shared }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A client configuration for the double: plain HTTP, no auth, and
    /// kube's own retries off so that the code under test decides.
    pub fn config(&self) -> kube::Config {
        let mut config = kube::Config::new(self.url.parse().expect("a URL"));
        config.default_retry = false;
        config
    }

    /// A client for the double.
    pub fn client(&self) -> kube::Client {
        kube::Client::try_from(self.config()).expect("a client for the double")
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().expect("the double's state")
    }

    /// Stores a typed object (`apiVersion` and `kind` come from its type).
    pub fn insert<K: Serialize>(&self, object: &K) {
        let value = serde_json::to_value(object).expect("an object serialises");
        self.insert_json(value);
    }

    /// Stores a JSON object; its `apiVersion` and `kind` must name a
    /// registered resource.
    pub fn insert_json(&self, object: Value) {
        self.shared.upsert(object).expect("a registered kind");
    }

    /// The stored object of `plural` (`pods`, `jobs`, ...) in `namespace`
    /// (empty for cluster-scoped), decoded as `K`.
    pub fn get<K: DeserializeOwned>(&self, plural: &str, namespace: &str, name: &str) -> Option<K> {
        self.get_json(plural, namespace, name)
            .map(|v| serde_json::from_value(v).expect("a stored object decodes"))
    }

    /// The stored object as JSON.
    pub fn get_json(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        self.state().find(plural, namespace, name).cloned()
    }

    /// Names of the stored objects of `plural`, as `namespace/name`
    /// (`name` alone when cluster-scoped), sorted.
    pub fn names(&self, plural: &str) -> Vec<String> {
        self.state().names(plural)
    }

    /// Registers another resource (a CRD such as ClusterPolicy); it then
    /// shows in discovery and can be stored, listed and watched.
    pub fn register(&self, def: ResourceDef) {
        self.state().resources.push(def);
    }

    /// Answers `/version` with this `gitVersion` and `platform`.
    pub fn set_version(&self, git_version: &str, platform: &str) {
        let mut state = self.state();
        state.version["gitVersion"] = Value::from(git_version);
        state.version["platform"] = Value::from(platform);
    }

    /// Access reviews for `verb` on `resource` in `namespace` (empty for
    /// cluster scope) answer `allowed: false`.
    pub fn deny(&self, verb: &str, resource: &str, namespace: &str) {
        self.state()
            .denied
            .insert((verb.into(), resource.into(), namespace.into()));
    }

    /// What happens to Jobs created from now on.
    pub fn script_jobs(&self, script: JobScript) {
        self.state().job_script = script;
    }

    /// Fails matching requests (see [`Fault`]).
    pub fn inject(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    /// Delays the answers to requests whose path contains the text.
    pub fn delay(&self, path_contains: &str, delay: Duration) {
        self.state().delays.push((path_contains.into(), delay));
    }

    /// DELETE of a `plural` object marks it deleted (`deletionTimestamp`)
    /// and removes it only after `delay`, as foreground deletion does.
    pub fn deletion_delay(&self, plural: &str, delay: Duration) {
        self.state().deletion_delays.push((plural.into(), delay));
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// The recorded requests with this method whose path contains the text.
    pub fn requests_matching(&self, method: &str, path_contains: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.contains(path_contains))
            .collect()
    }
}

/// Locks a mutex shared with the server task.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().expect("the double's state")
}
