//! The collector runner: every collector in [`COLLECTORS`] runs
//! concurrently on the caller's tokio runtime, each under its own
//! deadline, with errgroup semantics: the first failure (or deadline)
//! cancels the others and the snapshot fails with that typed error. A
//! source that is simply not there is not a failure; its collector records
//! it as absent in the snapshot's `sources` section.
//!
//! Measurements come out in the list's order whatever order the
//! collectors finish in, so two snapshots of the same node differ only
//! where the node does (and in the timestamp).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use aicr_core::criteria::Os;
use aicr_core::fingerprint::Fingerprint;
use aicr_core::snapshot::{Measurement, MeasurementType, Reading, Snapshot, SourceStatus};
use aicr_core::{Code, Error, Result};
use k8s_openapi::api::core::v1::Node;
use tokio::sync::OnceCell;
use tokio::task::JoinSet;

use crate::cluster::{Discovered, fetch};

/// A boxed, sendable future: what [`Collector::collect`] returns, so the
/// collectors of one list can differ in type.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One source of a snapshot's measurement.
pub trait Collector: Sync {
    /// The measurement this collector produces.
    fn kind(&self) -> MeasurementType;
    /// How long it may take before the snapshot fails with TIMEOUT.
    fn deadline(&self) -> Duration;
    /// Reads the sources. An absent source is recorded in
    /// [`Collected::sources`]; a source that is there but cannot be read
    /// is an error.
    fn collect(&self, options: Arc<Options>) -> BoxFuture<Result<Collected>>;
}

/// What one collector read.
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    /// The measurement, in the reference's shape (empty subtypes where the
    /// reference writes them for a missing source).
    pub measurement: Measurement,
    /// One status per source read, in reading order.
    pub sources: Vec<SourceStatus>,
}

/// Every collector, in the order their measurements are written. Adding a
/// source means adding its collector here and nowhere else.
pub const COLLECTORS: &[&dyn Collector] = &[
    &crate::cluster_collectors::K8s,
    &crate::gpu::Collector,
    &crate::os::Collector,
    &crate::cluster_collectors::SystemD,
    &crate::cluster_collectors::NodeTopology,
];

/// Where the host's files are, so a test (or an agent with the host
/// mounted elsewhere) can point the collectors at another tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    root: PathBuf,
}

impl Host {
    /// The host this process runs on (`/`).
    pub fn local() -> Self {
        Host::at("/")
    }

    /// A host whose `/proc`, `/sys` and `/etc` are under `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Host { root: root.into() }
    }

    /// The host's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `path` (absolute, as on the host) under the root.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }
}

/// Everything the collectors read besides the host itself. Values that
/// come from the environment (`PATH`, `NODE_NAME`, the clock) are read by
/// the caller and passed in, so a library caller controls them.
#[derive(Debug, Clone)]
pub struct Options {
    /// Whose files the OS and GPU collectors read.
    pub host: Host,
    /// The `PATH` that `nvidia-smi` is looked up in.
    pub path: Option<OsString>,
    /// This node's name (`NODE_NAME`, `KUBERNETES_NODE_NAME` or
    /// `HOSTNAME`), written as `metadata.source-node`.
    pub node_name: Option<String>,
    /// Fail with NOT_FOUND when no collector finds a GPU.
    pub require_gpu: bool,
    /// The build's version, written as `metadata.version` when not empty.
    pub version: String,
    /// When the snapshot starts, in seconds since the Unix epoch.
    pub started_at: u64,
    /// The node's OS as `--os` gives it: `talos` reads the OS and services
    /// from the Node object instead of `/proc` and systemd.
    pub os: Os,
    /// Node names listed per topology entry before `(+N more)`; 0 lists
    /// them all.
    pub max_nodes_per_entry: usize,
    /// The cluster, or why there is none (then the Kubernetes sources are
    /// absent).
    pub cluster: Discovered,
    /// This node's Node object, fetched once for the two Talos collectors.
    node: Arc<OnceCell<Result<Presence<Arc<Node>>>>>,
}

/// A source that is there (`Ok`), or why it is absent (`Err`).
pub(crate) type Presence<T> = std::result::Result<T, String>;

impl Options {
    /// Options for the local host with nothing found in the environment.
    pub fn new(version: impl Into<String>, started_at: u64) -> Self {
        Options {
            host: Host::local(),
            path: None,
            node_name: None,
            require_gpu: false,
            version: version.into(),
            started_at,
            os: Os::Any,
            max_nodes_per_entry: 0,
            cluster: Discovered::Absent {
                reason: "no cluster was looked for".to_string(),
            },
            node: Arc::default(),
        }
    }

    /// This node's Node object, or why there is none (no cluster, no node
    /// name, no such node). Fetched once and shared.
    pub(crate) async fn this_node(&self) -> Result<Presence<Arc<Node>>> {
        self.node
            .get_or_init(|| async {
                let client = match &self.cluster {
                    Discovered::Client(client) => client,
                    Discovered::Absent { reason } => return Ok(Err(reason.clone())),
                };
                let Some(name) = &self.node_name else {
                    return Ok(Err(
                        "no node name: NODE_NAME, KUBERNETES_NODE_NAME and HOSTNAME are unset"
                            .to_string(),
                    ));
                };
                Ok(match fetch::node(client, name).await? {
                    Some(node) => Ok(Arc::new(node)),
                    None => Err(format!("the cluster has no node named {name:?}")),
                })
            })
            .await
            .clone()
    }
}

/// Runs every collector and assembles the snapshot: metadata, the
/// measurements in [`COLLECTORS`] order, the source statuses, and the
/// fingerprint derived from the measurements.
pub async fn snapshot(options: Options) -> Result<Snapshot> {
    run(COLLECTORS, options).await
}

/// [`snapshot`] over a given list of collectors.
pub async fn run(collectors: &[&dyn Collector], options: Options) -> Result<Snapshot> {
    let options = Arc::new(options);
    let mut tasks = JoinSet::new();
    for (index, collector) in collectors.iter().enumerate() {
        let (kind, deadline) = (collector.kind(), collector.deadline());
        let collecting = collector.collect(Arc::clone(&options));
        tasks.spawn(async move {
            let result = match tokio::time::timeout(deadline, collecting).await {
                Ok(result) => result,
                Err(_) => Err(Error::new(
                    Code::Timeout,
                    format!("the {kind} collector did not finish within {deadline:?}"),
                )),
            };
            (
                index,
                result.map_err(|e| e.context(format!("collecting {kind}"))),
            )
        });
    }
    let mut collected: Vec<Option<Collected>> = vec![None; collectors.len()];
    while let Some(joined) = tasks.join_next().await {
        // Returning drops the set, which aborts the collectors still
        // running: the first failure decides.
        let (index, result) = joined.map_err(|e| {
            Error::new(Code::Internal, "a collector stopped unexpectedly").with_source(e)
        })?;
        collected[index] = Some(result?);
    }

    let mut snapshot = Snapshot::new();
    snapshot.metadata = metadata(&options);
    for item in collected.into_iter().flatten() {
        snapshot.measurements.push(item.measurement);
        snapshot.sources.extend(item.sources);
    }
    if options.require_gpu && !gpu_found(&snapshot) {
        return Err(Error::not_found(
            "--require-gpu was set but no GPU was detected (neither PCI enumeration nor nvidia-smi found GPUs)",
        ));
    }
    let fingerprint = Fingerprint::from_snapshot(&snapshot);
    snapshot.fingerprint = Some(serde_json::to_value(&fingerprint).map_err(|e| {
        Error::new(Code::Internal, "cannot serialise the fingerprint").with_source(e)
    })?);
    Ok(snapshot)
}

fn metadata(options: &Options) -> BTreeMap<String, String> {
    let mut metadata = BTreeMap::new();
    metadata.insert(
        "timestamp".to_string(),
        aicr_core::time::rfc3339(options.started_at, None),
    );
    if !options.version.is_empty() {
        metadata.insert("version".to_string(), options.version.clone());
    }
    metadata.insert(
        "source-node".to_string(),
        options.node_name.clone().unwrap_or_default(),
    );
    metadata
}

/// Whether a GPU subtype (`hardware` or `smi`) counts a GPU.
fn gpu_found(snapshot: &Snapshot) -> bool {
    snapshot
        .measurement(MeasurementType::Gpu)
        .is_some_and(|gpu| {
            gpu.subtypes.iter().any(|s| {
                s.data
                    .get("gpu-count")
                    .and_then(Reading::as_int)
                    .is_some_and(|n| n > 0)
            })
        })
}

/// Runs `read` on tokio's blocking pool: collectors read `/proc` and
/// `/sys` with blocking calls, and must not stall the runtime's thread
/// while the network-bound collectors wait.
pub(crate) async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(read).await.map_err(|e| {
        Error::new(
            Code::Internal,
            "a collector's file reads stopped unexpectedly",
        )
        .with_source(e)
    })?
}

/// The status of a source read with `result`: collected, absent when the
/// error is NOT_FOUND (the source does not exist), and otherwise the
/// error itself, which fails the snapshot.
pub(crate) fn status<T>(source: &str, result: Result<T>) -> Result<(Option<T>, SourceStatus)> {
    match result {
        Ok(value) => Ok((Some(value), SourceStatus::collected(source))),
        Err(e) if e.code() == Code::NotFound => {
            Ok((None, SourceStatus::absent(source, e.detail())))
        }
        Err(e) => Err(e.context(format!("reading {source}"))),
    }
}
