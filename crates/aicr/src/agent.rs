//! `aicr snapshot` in agent mode: the flag values as written, turned into
//! the agent's options in the reference's validation order, and the run
//! (deploy a Job, wait, read the snapshot back, clean up).

use std::time::Duration;

use aicr_collect::cluster::agent::{self, AgentOptions, AgentProgress, DEFAULT_TIMEOUT};
use aicr_core::Result;
use tokio::io::AsyncWrite;

use crate::Client;
use crate::io::Output;

/// The agent-mode flags of `aicr snapshot` as the user gave them; the
/// defaults are the reference's.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRequest {
    /// `--namespace` (`default`).
    pub namespace: String,
    /// `--image`; `None` is [`default_image`] of this build.
    pub image: Option<String>,
    /// `--image-pull-secret`.
    pub image_pull_secrets: Vec<String>,
    /// `--job-name` (`aicr`).
    pub job_name: String,
    /// `--service-account-name` (`aicr`).
    pub service_account_name: String,
    /// `--node-selector k=v`.
    pub node_selector: Vec<String>,
    /// `--toleration`.
    pub toleration: Vec<String>,
    /// `--timeout`; zero is the default 5 minutes.
    pub timeout: Duration,
    /// `--no-cleanup`.
    pub no_cleanup: bool,
    /// `--privileged` (true).
    pub privileged: bool,
    /// `--require-gpu`.
    pub require_gpu: bool,
    /// `--runtime-class`.
    pub runtime_class: Option<String>,
    /// `--max-nodes-per-entry`.
    pub max_nodes_per_entry: u32,
    /// `--os`.
    pub os: Option<String>,
    /// `--requests name=qty,...`.
    pub requests: Option<String>,
    /// `--limits name=qty,...`.
    pub limits: Option<String>,
    /// Global `--debug`: the agent logs JSON at debug level.
    pub debug: bool,
    /// `--output`: stdout, a file or `cm://namespace/name`.
    pub output: Option<String>,
}

impl Default for AgentRequest {
    fn default() -> Self {
        AgentRequest {
            namespace: "default".into(),
            image: None,
            image_pull_secrets: Vec::new(),
            job_name: "aicr".into(),
            service_account_name: "aicr".into(),
            node_selector: Vec::new(),
            toleration: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            no_cleanup: false,
            privileged: true,
            require_gpu: false,
            runtime_class: None,
            max_nodes_per_entry: 0,
            os: None,
            requests: None,
            limits: None,
            debug: false,
            output: None,
        }
    }
}

/// The image of this build: `ghcr.io/nvidia/aicr:<version>`.
pub fn default_image() -> String {
    agent::default_image(crate::VERSION)
}

impl AgentRequest {
    /// Where the snapshot ends up (stdout, a file, or the agent's own
    /// ConfigMap).
    pub fn destination(&self) -> Result<Output> {
        Output::parse(self.output.as_deref().unwrap_or("-"))
    }

    /// Parses and checks every flag without touching the cluster, in the
    /// reference's order (spec §5.2): `--os`, `--require-gpu` against
    /// `--runtime-class`, the output, node selectors, tolerations,
    /// requests, limits. The frontend checks `--format` between the
    /// second and third.
    pub fn options(&self) -> Result<AgentOptions> {
        let os = agent::parse_os(self.os.as_deref().unwrap_or(""))?;
        let runtime_class = self.runtime_class.clone().filter(|r| !r.trim().is_empty());
        let image = self.image.clone().filter(|i| !i.trim().is_empty());
        let mut opts =
            AgentOptions::new(self.namespace.clone(), image.unwrap_or_else(default_image));
        opts.require_gpu = self.require_gpu;
        opts.runtime_class = runtime_class;
        opts.validate()?;
        self.destination()?;
        opts.output = agent::agent_output(self.output.as_deref().unwrap_or(""), &self.namespace)?;
        opts.node_selector = agent::parse_node_selectors(&self.node_selector)?;
        opts.tolerations = agent::parse_tolerations(&self.toleration)?;
        let list = |spec: &Option<String>, flag: &str| {
            agent::parse_resource_list(spec.as_deref().unwrap_or(""))
                .map_err(|e| e.context(format!("invalid {flag}")))
        };
        opts.requests = list(&self.requests, "--requests")?;
        opts.limits = list(&self.limits, "--limits")?;
        opts.os = os;
        opts.image_pull_secrets = self.image_pull_secrets.clone();
        opts.job_name = self.job_name.clone();
        opts.service_account_name = self.service_account_name.clone();
        opts.timeout = if self.timeout.is_zero() {
            DEFAULT_TIMEOUT
        } else {
            self.timeout
        };
        opts.cleanup = !self.no_cleanup;
        opts.privileged = self.privileged;
        opts.max_nodes_per_entry = self.max_nodes_per_entry;
        opts.debug = self.debug;
        Ok(opts)
    }
}

impl Client {
    /// Runs the snapshot agent and returns the YAML it wrote. `progress`
    /// hears each phase; the pod's log goes to `logs`. Ctrl-C stops the
    /// run, and the Job and RBAC are still deleted (unless `--no-cleanup`).
    pub async fn run_agent<W>(
        &self,
        request: &AgentRequest,
        progress: impl FnMut(AgentProgress),
        logs: W,
    ) -> Result<Vec<u8>>
    where
        W: AsyncWrite + Unpin,
    {
        let options = request.options()?;
        let kube = self.cluster.get().await.map_err(|e| {
            e.context("the snapshot agent runs as a Job and needs a cluster (or use --local)")
        })?;
        let cancel = async {
            // Without a signal handler, run until done rather than stop at once.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        agent::run_agent_until(&kube, &options, progress, logs, cancel).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aicr_core::Code;

    fn request() -> AgentRequest {
        AgentRequest {
            namespace: "gpu".into(),
            ..AgentRequest::default()
        }
    }

    #[test]
    fn defaults_are_the_references() {
        let opts = request().options().unwrap();
        assert_eq!(opts.image, default_image());
        assert_eq!(opts.output.to_string(), "cm://gpu/aicr-snapshot");
        assert_eq!(
            (opts.job_name.as_str(), opts.cleanup, opts.privileged),
            ("aicr", true, true)
        );
        let zero = AgentRequest {
            timeout: Duration::ZERO,
            ..request()
        };
        assert_eq!(zero.options().unwrap().timeout, DEFAULT_TIMEOUT);
        let cm = AgentRequest {
            output: Some("cm://other/snap".into()),
            ..request()
        };
        assert_eq!(cm.options().unwrap().output.to_string(), "cm://other/snap");
    }

    #[test]
    fn checks_run_in_the_references_order() {
        // Every flag is wrong; each fix reveals the next check.
        let mut r = AgentRequest {
            os: Some("windows".into()),
            require_gpu: true,
            runtime_class: Some("nvidia".into()),
            output: Some("cm://nsonly".into()),
            node_selector: vec!["novalue".into()],
            toleration: vec!["k:Bad".into()],
            requests: Some("cpu=-1".into()),
            limits: Some("cpu=1,cpu=2".into()),
            ..request()
        };
        let mut messages = Vec::new();
        loop {
            let err = r.options().unwrap_err();
            assert_eq!(err.code(), Code::InvalidRequest, "{err}");
            messages.push(err.to_string());
            match messages.len() {
                1 => r.os = None,
                2 => r.runtime_class = None,
                3 => r.output = None,
                4 => r.node_selector.clear(),
                5 => r.toleration.clear(),
                6 => r.requests = None,
                _ => break,
            }
        }
        let expected = [
            "--os",
            "mutually exclusive",
            "cm://",
            "expected key=value",
            "taint effect",
            "--requests",
            "--limits",
        ];
        for (message, needle) in messages.iter().zip(expected) {
            assert!(message.contains(needle), "{message} lacks {needle}");
        }
        r.limits = None;
        assert!(r.options().is_ok());
    }
}
