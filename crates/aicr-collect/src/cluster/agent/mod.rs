//! The snapshot agent (spec §5): deploy a Job that runs `aicr snapshot`
//! on a node, wait for it, read its snapshot back from a ConfigMap and
//! clean up.
//!
//! [`run_agent`] is the entry point. Options are parsed beforehand by the
//! pure functions of [`options`]; the Job and RBAC objects are built by
//! [`job`]. Progress goes to a callback (phase and elapsed time) for the
//! frontend to render, and the pod's log to a caller-provided writer.

mod deploy;
pub mod job;
pub mod options;
mod wait;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use aicr_core::criteria::Os;
use aicr_core::{Code, Error, Result};
use k8s_openapi::api::core::v1::Toleration;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::ConfigMapRef;
pub use job::build_job;
pub use options::{parse_node_selectors, parse_os, parse_resource_list, parse_tolerations};

/// The default `--timeout` (and what `0` means).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// The ConfigMap name the agent writes when `--output` is not `cm://`.
pub const DEFAULT_CONFIGMAP: &str = "aicr-snapshot";

/// Everything the agent run needs, parsed and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentOptions {
    /// Namespace of the Job, RBAC and default ConfigMap.
    pub namespace: String,
    /// Container image.
    pub image: String,
    /// Pod imagePullSecrets.
    pub image_pull_secrets: Vec<String>,
    /// Job name (`aicr`).
    pub job_name: String,
    /// ServiceAccount name, also the Role and RoleBinding name (`aicr`).
    pub service_account_name: String,
    /// Pod nodeSelector.
    pub node_selector: BTreeMap<String, String>,
    /// Pod tolerations ([`options::default_tolerations`] by default).
    pub tolerations: Vec<Toleration>,
    /// How long to wait for the Job ([`DEFAULT_TIMEOUT`]).
    pub timeout: Duration,
    /// Delete the Job and RBAC afterwards (true).
    pub cleanup: bool,
    /// Where the agent writes its snapshot ([`agent_output`]).
    pub output: ConfigMapRef,
    /// Run the agent with `--debug --log-json`.
    pub debug: bool,
    /// Privileged pod shape (true) or PSS-restricted.
    pub privileged: bool,
    /// Ask for one GPU (privileged shape only).
    pub require_gpu: bool,
    /// Pod runtimeClassName; must exist in the cluster.
    pub runtime_class: Option<String>,
    /// Passed as `AICR_MAX_NODES_PER_ENTRY` when above zero.
    pub max_nodes_per_entry: u32,
    /// Passed as `AICR_OS`; `talos` drops the host mounts.
    pub os: Option<Os>,
    /// Per-key overrides of the container's requests.
    pub requests: BTreeMap<String, Quantity>,
    /// Per-key overrides of the container's limits.
    pub limits: BTreeMap<String, Quantity>,
}

impl AgentOptions {
    /// The reference's defaults for a namespace and an image.
    pub fn new(namespace: impl Into<String>, image: impl Into<String>) -> Self {
        let namespace = namespace.into();
        AgentOptions {
            output: ConfigMapRef::new(namespace.clone(), DEFAULT_CONFIGMAP),
            namespace,
            image: image.into(),
            image_pull_secrets: Vec::new(),
            job_name: "aicr".into(),
            service_account_name: "aicr".into(),
            node_selector: BTreeMap::new(),
            tolerations: options::default_tolerations(),
            timeout: DEFAULT_TIMEOUT,
            cleanup: true,
            debug: false,
            privileged: true,
            require_gpu: false,
            runtime_class: None,
            max_nodes_per_entry: 0,
            os: None,
            requests: BTreeMap::new(),
            limits: BTreeMap::new(),
        }
    }

    /// Cross-option rules: `--require-gpu` and `--runtime-class` exclude
    /// each other.
    pub fn validate(&self) -> Result<()> {
        if self.require_gpu && self.runtime_class.is_some() {
            return Err(Error::invalid(
                "--require-gpu and --runtime-class are mutually exclusive: the runtime class exposes GPUs through NVIDIA_VISIBLE_DEVICES instead of a GPU limit",
            ));
        }
        Ok(())
    }
}

/// The agent's ConfigMap for an `--output` value (spec §5.3 step 2): the
/// value itself when it is `cm://...`, else `cm://<namespace>/aicr-snapshot`.
pub fn agent_output(output: &str, namespace: &str) -> Result<ConfigMapRef> {
    let output = output.trim();
    if output.starts_with("cm://") {
        ConfigMapRef::parse(output)
    } else {
        Ok(ConfigMapRef::new(namespace, DEFAULT_CONFIGMAP))
    }
}

/// The default image for a build version: `ghcr.io/nvidia/aicr:v<version>`,
/// `:latest` for `dev` and `-next` builds.
pub fn default_image(version: &str) -> String {
    let version = version.trim_start_matches('v');
    if version.is_empty() || version == "dev" || version.contains("-next") {
        "ghcr.io/nvidia/aicr:latest".into()
    } else {
        format!("ghcr.io/nvidia/aicr:v{version}")
    }
}

/// A step of the run, reported as it starts.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AgentPhase {
    /// SelfSubjectAccessReviews for the permissions the run needs.
    CheckingPermissions,
    /// Looking up the RuntimeClass.
    CheckingRuntimeClass,
    /// Creating or labelling the namespace.
    PreparingNamespace,
    /// ServiceAccount, Role, RoleBinding, ClusterRole, ClusterRoleBinding.
    CreatingRbac,
    /// Deleting a previous Job of the same name and creating the new one.
    StartingJob,
    /// Waiting for the Job to complete.
    WaitingForJob,
    /// Reading `snapshot.yaml` from the ConfigMap.
    RetrievingSnapshot,
    /// Deleting the Job and RBAC.
    CleaningUp,
    /// Something went wrong that does not fail the run (log streaming,
    /// cleanup).
    Warning(String),
    /// The run is over (successfully or not).
    Finished,
}

/// A progress report: the phase and the time since the run started.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentProgress {
    /// What is happening.
    pub phase: AgentPhase,
    /// Since [`run_agent`] was called.
    pub elapsed: Duration,
}

/// Runs the agent: deploy, wait (streaming the pod's log to `logs`, best
/// effort), read the snapshot's YAML back, clean up. Returns the YAML
/// bytes the agent wrote. Cleanup runs after failures too, unless
/// `opts.cleanup` is false; its failures are reported as warnings only.
pub async fn run_agent<W>(
    client: &kube::Client,
    opts: &AgentOptions,
    progress: impl FnMut(AgentProgress),
    logs: W,
) -> Result<Vec<u8>>
where
    W: AsyncWrite + Unpin,
{
    run_agent_until(client, opts, progress, logs, std::future::pending()).await
}

/// [`run_agent`], stopped early when `cancel` completes (Ctrl-C): the run
/// fails and the cleanup still runs, which dropping the future would skip.
pub async fn run_agent_until<W>(
    client: &kube::Client,
    opts: &AgentOptions,
    mut progress: impl FnMut(AgentProgress),
    mut logs: W,
    cancel: impl Future<Output = ()>,
) -> Result<Vec<u8>>
where
    W: AsyncWrite + Unpin,
{
    opts.validate()?;
    let start = Instant::now();
    let mut report = |phase| {
        progress(AgentProgress {
            phase,
            elapsed: start.elapsed(),
        })
    };
    let result = tokio::select! {
        result = run(client, opts, &mut report, &mut logs) => result,
        () = cancel => Err(Error::internal("snapshot agent cancelled")),
    };
    if opts.cleanup {
        report(AgentPhase::CleaningUp);
        if let Some(warning) = deploy::cleanup(client, opts).await {
            report(AgentPhase::Warning(warning));
        }
    }
    report(AgentPhase::Finished);
    result
}

async fn run<W>(
    client: &kube::Client,
    opts: &AgentOptions,
    report: &mut impl FnMut(AgentPhase),
    logs: &mut W,
) -> Result<Vec<u8>>
where
    W: AsyncWrite + Unpin,
{
    report(AgentPhase::CheckingPermissions);
    deploy::check_permissions(client, &opts.namespace).await?;
    if let Some(runtime_class) = &opts.runtime_class {
        report(AgentPhase::CheckingRuntimeClass);
        deploy::check_runtime_class(client, runtime_class).await?;
    }
    report(AgentPhase::PreparingNamespace);
    deploy::ensure_namespace(client, opts).await?;
    report(AgentPhase::CreatingRbac);
    deploy::ensure_rbac(client, opts).await?;
    report(AgentPhase::StartingJob);
    deploy::ensure_job(client, opts).await?;
    report(AgentPhase::WaitingForJob);
    if let Err(err) = wait::wait_with_logs(client, opts, report, logs).await {
        print_full_log(client, opts, logs).await;
        // A timeout keeps its code (exit 5); every other failure is the
        // reference's INTERNAL "job failed".
        let code = if err.code() == Code::Timeout {
            Code::Timeout
        } else {
            Code::Internal
        };
        return Err(err.wrap(code, "job failed"));
    }
    report(AgentPhase::RetrievingSnapshot);
    deploy::retrieve(client, &opts.output)
        .await
        .map_err(|e| e.wrap(Code::Internal, "failed to retrieve snapshot"))
}

/// After a failure, the pod's whole log between markers (best effort).
async fn print_full_log<W: AsyncWrite + Unpin>(
    client: &kube::Client,
    opts: &AgentOptions,
    logs: &mut W,
) {
    if let Some(text) = wait::full_pod_log(client, &opts.namespace)
        .await
        .filter(|t| !t.is_empty())
    {
        let text = format!(
            "--- agent logs ---\n{}\n--- end logs ---\n",
            text.trim_end_matches('\n')
        );
        let _ = logs.write_all(text.as_bytes()).await;
        let _ = logs.flush().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_routing_follows_the_reference() {
        for output in ["snapshot.yaml", "", "-"] {
            assert_eq!(
                agent_output(output, "gpu").unwrap().to_string(),
                "cm://gpu/aicr-snapshot"
            );
        }
        let custom = agent_output("cm://custom-ns/my-snapshot", "gpu").unwrap();
        assert_eq!(custom, ConfigMapRef::new("custom-ns", "my-snapshot"));
        assert!(agent_output("cm://nsonly", "gpu").is_err());
    }

    #[test]
    fn default_image_follows_the_build_version() {
        assert_eq!(default_image("v0.9.0"), "ghcr.io/nvidia/aicr:v0.9.0");
        assert_eq!(default_image("0.9.0"), "ghcr.io/nvidia/aicr:v0.9.0");
        assert_eq!(default_image("dev"), "ghcr.io/nvidia/aicr:latest");
        assert_eq!(default_image("0.10.0-next"), "ghcr.io/nvidia/aicr:latest");
    }

    #[test]
    fn require_gpu_excludes_runtime_class() {
        let mut opts = AgentOptions::new("ns", "img");
        opts.require_gpu = true;
        assert!(opts.validate().is_ok());
        opts.runtime_class = Some("nvidia".into());
        assert_eq!(opts.validate().unwrap_err().code(), Code::InvalidRequest);
    }
}
