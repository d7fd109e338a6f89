//! Waiting with watches (spec §5.3 steps 3e, 4, 5): for a Job to be
//! deleted, for the agent Job to finish, and for its pod, whose log is
//! streamed meanwhile.

use std::time::Duration;

use aicr_core::{Code, Error, Result};
use futures_util::io::AsyncReadExt;
use futures_util::{Stream, TryStreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams, WatchEvent, WatchParams};
use kube::core::Status;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::job::APP_LABEL;
use super::{AgentOptions, AgentPhase};
use crate::cluster::api_error;

/// How long log streaming waits for the pod to be Ready.
const POD_READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a finished Job's log stream may take to drain.
const LOG_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// A watch that ends sooner than this was closed on us, not timed out by
/// the server; it is not opened again.
const SHORTEST_WATCH: Duration = Duration::from_secs(1);

fn by_name(name: &str, remaining: Duration) -> WatchParams {
    // The server ends a watch after timeoutSeconds; kube caps it below 295.
    let seconds = remaining.as_secs().clamp(1, 290) as u32;
    WatchParams::default()
        .fields(&format!("metadata.name={name}"))
        .timeout(seconds)
}

fn watch_error(status: Box<Status>) -> Error {
    Error::internal(format!("watch stream error: {}", status.message))
}

/// Waits up to `limit` for the Job to disappear: GET, then WATCH from its
/// resourceVersion until a DELETED event.
pub(super) async fn wait_for_deletion(api: &Api<Job>, name: &str, limit: Duration) -> Result<()> {
    let wait = async {
        let Some(job) = api
            .get_opt(name)
            .await
            .map_err(|e| api_error("failed to get Job", e))?
        else {
            return Ok(());
        };
        let version = job.metadata.resource_version.unwrap_or_default();
        let events = api
            .watch(&by_name(name, limit), &version)
            .await
            .map_err(|e| api_error("failed to watch Job", e))?;
        futures_util::pin_mut!(events);
        while let Some(event) = events
            .try_next()
            .await
            .map_err(|e| api_error("watch stream error", e))?
        {
            match event {
                WatchEvent::Deleted(_) => return Ok(()),
                WatchEvent::Error(status) => return Err(watch_error(status)),
                _ => {}
            }
        }
        match api.get_opt(name).await {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err(Error::new(
                Code::ServiceUnavailable,
                "Job watch channel closed before deletion observed",
            )),
            Err(e) => Err(api_error("Job watch channel closed", e)),
        }
    };
    tokio::time::timeout(limit, wait)
        .await
        .unwrap_or_else(|_| Err(Error::new(Code::Timeout, "Job deletion wait timeout")))
}

/// Whether a Job is done: `Some(Ok)` when Complete, `Some(Err)` with the
/// condition's reason and message when Failed, `None` while running.
pub fn job_outcome(job: &Job) -> Option<Result<()>> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    conditions
        .iter()
        .filter(|c| c.status == "True")
        .find_map(|c| match c.type_.as_str() {
            "Complete" => Some(Ok(())),
            "Failed" => Some(Err(Error::internal(format!(
                "Job {}/{} failed: reason {:?}: {}",
                job.metadata.namespace.as_deref().unwrap_or_default(),
                job.metadata.name.as_deref().unwrap_or_default(),
                c.reason.as_deref().unwrap_or_default(),
                c.message.as_deref().unwrap_or_default(),
            )))),
            _ => None,
        })
}

/// Waits up to `limit` for the Job to reach Complete or Failed, watching
/// it; a watch the server ends on its timeout is opened again.
async fn wait_for_completion(api: &Api<Job>, name: &str, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    let wait = async {
        let job = api
            .get(name)
            .await
            .map_err(|e| api_error("failed to get Job", e))?;
        if let Some(outcome) = job_outcome(&job) {
            return outcome;
        }
        let mut version = job.metadata.resource_version.unwrap_or_default();
        loop {
            let opened = Instant::now();
            let events = api
                .watch(&by_name(name, deadline - opened), &version)
                .await
                .map_err(|e| api_error("failed to watch Job", e))?;
            if let Some(outcome) = next_outcome(events, &mut version).await {
                return outcome;
            }
            let job = api
                .get(name)
                .await
                .map_err(|e| api_error("watch closed and Job re-check failed", e))?;
            if let Some(outcome) = job_outcome(&job) {
                return outcome;
            }
            if opened.elapsed() < SHORTEST_WATCH {
                return Err(Error::new(
                    Code::ServiceUnavailable,
                    "watch channel closed before Job reached terminal state",
                ));
            }
            version = job.metadata.resource_version.unwrap_or(version);
        }
    };
    tokio::time::timeout_at(deadline, wait)
        .await
        .unwrap_or_else(|_| {
            Err(Error::new(
                Code::Timeout,
                format!("job completion timeout after {}s", limit.as_secs_f64()),
            ))
        })
}

/// Reads Job events until one is terminal (`Some`) or the watch ends
/// (`None`), keeping track of the last resourceVersion seen.
async fn next_outcome(
    events: impl Stream<Item = kube::Result<WatchEvent<Job>>>,
    version: &mut String,
) -> Option<Result<()>> {
    futures_util::pin_mut!(events);
    loop {
        let event = match events.try_next().await {
            Ok(Some(event)) => event,
            Ok(None) => return None,
            Err(e) => return Some(Err(api_error("watch stream error", e))),
        };
        match event {
            WatchEvent::Added(job) | WatchEvent::Modified(job) | WatchEvent::Deleted(job) => {
                if let Some(v) = &job.metadata.resource_version {
                    version.clone_from(v);
                }
                if let Some(outcome) = job_outcome(&job) {
                    return Some(outcome);
                }
            }
            WatchEvent::Bookmark(mark) => version.clone_from(&mark.metadata.resource_version),
            WatchEvent::Error(status) => return Some(Err(watch_error(status))),
        }
    }
}

/// Waits for the Job while streaming its pod's log to `logs`. Streaming
/// is best effort: its failures become warnings. After success the
/// stream gets a moment to deliver the log's end.
pub(super) async fn wait_with_logs<W: AsyncWrite + Unpin>(
    client: &kube::Client,
    opts: &AgentOptions,
    report: &mut impl FnMut(AgentPhase),
    logs: &mut W,
) -> Result<()> {
    let jobs: Api<Job> = Api::namespaced(client.clone(), &opts.namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &opts.namespace);
    let wait = wait_for_completion(&jobs, &opts.job_name, opts.timeout);
    let stream = stream_logs(&pods, logs);
    tokio::pin!(wait, stream);
    let mut streaming = true;
    let outcome = loop {
        tokio::select! {
            outcome = &mut wait => break outcome,
            streamed = &mut stream, if streaming => {
                streaming = false;
                if let Err(e) = streamed {
                    report(AgentPhase::Warning(format!("agent log streaming ended early: {e}")));
                }
            }
        }
    };
    if outcome.is_ok() && streaming {
        match tokio::time::timeout(LOG_DRAIN_TIMEOUT, &mut stream).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => report(AgentPhase::Warning(format!(
                "agent log streaming ended early: {e}"
            ))),
            Err(_) => report(AgentPhase::Warning(
                "agent log stream did not end after the Job completed".into(),
            )),
        }
    }
    outcome
}

/// Finds the agent's pod, waits for it to be Ready, then copies its
/// followed log to `out`.
async fn stream_logs<W: AsyncWrite + Unpin>(pods: &Api<Pod>, out: &mut W) -> Result<()> {
    let name = tokio::time::timeout(POD_READY_TIMEOUT, ready_pod(pods))
        .await
        .unwrap_or_else(|_| Err(Error::new(Code::Timeout, "timeout waiting for Pod ready")))?;
    let params = LogParams {
        follow: true,
        ..LogParams::default()
    };
    let reader = pods
        .log_stream(&name, &params)
        .await
        .map_err(|e| api_error(format!("failed to stream logs of Pod {name}"), e))?;
    futures_util::pin_mut!(reader);
    let mut buffer = vec![0; 8192];
    let io = |e: std::io::Error| Error::internal("failed to copy agent logs").with_source(e);
    loop {
        let n = reader.read(&mut buffer).await.map_err(io)?;
        if n == 0 {
            return out.flush().await.map_err(io);
        }
        out.write_all(&buffer[..n]).await.map_err(io)?;
    }
}

/// The agent's pod once it is Ready (or already finished): the youngest
/// live one labelled `app.kubernetes.io/name=aicr`, or the first to appear.
async fn ready_pod(pods: &Api<Pod>) -> Result<String> {
    let selector = format!("{}={}", APP_LABEL.0, APP_LABEL.1);
    let list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| api_error("failed to list Pods", e))?;
    let mut version = list.metadata.resource_version.clone().unwrap_or_default();
    let mut pod = pick_live_pod(&list.items).cloned();
    loop {
        if let Some(p) = &pod {
            match p.status.as_ref().and_then(|s| s.phase.as_deref()) {
                Some("Failed") => {
                    return Err(Error::internal(format!(
                        "Pod {} failed",
                        p.metadata.name.as_deref().unwrap_or_default()
                    )));
                }
                Some("Succeeded") => return Ok(p.metadata.name.clone().unwrap_or_default()),
                _ if is_ready(p) => return Ok(p.metadata.name.clone().unwrap_or_default()),
                _ => {}
            }
        }
        let mut params = WatchParams::default().labels(&selector);
        if let Some(name) = pod.as_ref().and_then(|p| p.metadata.name.as_deref()) {
            params = params.fields(&format!("metadata.name={name}"));
        }
        let events = pods
            .watch(&params, &version)
            .await
            .map_err(|e| api_error("failed to watch Pods", e))?;
        futures_util::pin_mut!(events);
        match events
            .try_next()
            .await
            .map_err(|e| api_error("Pod watch failed", e))?
        {
            Some(WatchEvent::Added(p) | WatchEvent::Modified(p)) => {
                version = p.metadata.resource_version.clone().unwrap_or(version);
                pod = Some(p);
            }
            Some(WatchEvent::Bookmark(mark)) => version = mark.metadata.resource_version,
            Some(WatchEvent::Deleted(_)) => pod = None,
            Some(WatchEvent::Error(status)) => return Err(watch_error(status)),
            None => {
                return Err(Error::new(
                    Code::ServiceUnavailable,
                    "Pod watch channel closed before the pod was ready",
                ));
            }
        }
    }
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The youngest pod that is neither being deleted nor Failed.
fn pick_live_pod(pods: &[Pod]) -> Option<&Pod> {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Failed"))
        .max_by(|a, b| {
            a.metadata
                .creation_timestamp
                .cmp(&b.metadata.creation_timestamp)
        })
}

/// The whole log of the agent's pod, for printing after a failure. Unlike
/// log streaming, a Failed pod is fine here: it is the interesting one.
pub(super) async fn full_pod_log(client: &kube::Client, namespace: &str) -> Option<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let selector = format!("{}={}", APP_LABEL.0, APP_LABEL.1);
    let list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .ok()?;
    let pod = list
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .max_by(|a, b| {
            a.metadata
                .creation_timestamp
                .cmp(&b.metadata.creation_timestamp)
        })?;
    pods.logs(pod.metadata.name.as_deref()?, &LogParams::default())
        .await
        .ok()
}
