//! `aicr snapshot`: flag parsing and output around the facade's snapshot,
//! local (`--local`, or `AICR_AGENT_MODE=true` inside the agent's pod) or
//! through the agent Job on the cluster.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use aicr::{AgentPhase, AgentProgress, AgentRequest, Client, Format, Output, Result};
use aicr::{SnapshotRequest, block_on};
use clap::Args;

/// `aicr snapshot` flags.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Collect on this machine instead of deploying the agent Job (also
    /// when AICR_AGENT_MODE=true, as inside the agent's pod).
    #[arg(long)]
    local: bool,
    /// Destination: a file, `-` or nothing for stdout, or
    /// cm://namespace/name.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Output format: yaml, json, table [default: yaml]; the agent always
    /// writes YAML.
    #[arg(short = 't', long)]
    format: Option<String>,
    /// Fail (NOT_FOUND) when no GPU is found; the agent's pod asks for one
    /// GPU.
    #[arg(long, env = "AICR_REQUIRE_GPU")]
    require_gpu: bool,
    /// Node OS: ubuntu, rhel, cos, amazonlinux, talos, any (talos reads
    /// the OS and services from the Node object).
    #[arg(long, env = "AICR_OS")]
    os: Option<String>,
    /// Node names listed per topology entry (0: all).
    #[arg(long, env = "AICR_MAX_NODES_PER_ENTRY", default_value_t = 0)]
    max_nodes_per_entry: u32,
    #[command(flatten)]
    agent: AgentArgs,
}

/// The agent's flags (spec §5.2).
#[derive(Debug, Args)]
struct AgentArgs {
    /// Namespace of the agent's Job, RBAC and default ConfigMap.
    #[arg(short = 'n', long, env = "AICR_NAMESPACE", default_value = "default")]
    namespace: String,
    /// Agent image [default: ghcr.io/nvidia/aicr:<this version>].
    #[arg(long, env = "AICR_IMAGE")]
    image: Option<String>,
    /// Image pull secret of the agent's pod (repeatable).
    #[arg(long = "image-pull-secret")]
    image_pull_secrets: Vec<String>,
    /// Name of the agent's Job.
    #[arg(long, default_value = "aicr")]
    job_name: String,
    /// ServiceAccount (and Role, RoleBinding) name.
    #[arg(long, default_value = "aicr")]
    service_account_name: String,
    /// Node selector `key=value` of the agent's pod (repeatable).
    #[arg(long)]
    node_selector: Vec<String>,
    /// Toleration `key=value:Effect`, `key:Effect` or `*` (repeatable;
    /// default: tolerate everything).
    #[arg(long)]
    toleration: Vec<String>,
    /// How long to wait for the Job, e.g. 30s, 5m, 1h (0: 5m).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    timeout: Duration,
    /// Keep the Job and RBAC afterwards.
    #[arg(long)]
    no_cleanup: bool,
    /// Privileged pod (host namespaces and mounts); --privileged=false for
    /// a PSS-restricted pod.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    privileged: bool,
    /// RuntimeClass of the agent's pod (excludes --require-gpu).
    #[arg(long, env = "AICR_RUNTIME_CLASS")]
    runtime_class: Option<String>,
    /// Container requests `name=qty,...` over the defaults.
    #[arg(long, env = "AICR_REQUESTS")]
    requests: Option<String>,
    /// Container limits `name=qty,...` over the defaults.
    #[arg(long, env = "AICR_LIMITS")]
    limits: Option<String>,
    /// Kubeconfig for deploying the agent [default: $KUBECONFIG,
    /// ~/.kube/config, in-cluster].
    #[arg(short = 'k', long)]
    kubeconfig: Option<PathBuf>,
}

/// Runs `aicr snapshot`.
pub fn snapshot(args: SnapshotArgs, debug: bool) -> Result<()> {
    if args.local || agent_mode() {
        return local(args);
    }
    let request = AgentRequest {
        namespace: args.agent.namespace,
        image: args.agent.image,
        image_pull_secrets: args.agent.image_pull_secrets,
        job_name: args.agent.job_name,
        service_account_name: args.agent.service_account_name,
        node_selector: args.agent.node_selector,
        toleration: args.agent.toleration,
        timeout: args.agent.timeout,
        no_cleanup: args.agent.no_cleanup,
        privileged: args.agent.privileged,
        require_gpu: args.require_gpu,
        runtime_class: args.agent.runtime_class,
        max_nodes_per_entry: args.max_nodes_per_entry,
        os: args.os,
        requests: args.agent.requests,
        limits: args.agent.limits,
        debug,
        output: args.output,
    };
    // Checked with the other flags, before the cluster is touched, though
    // the agent always writes YAML.
    Format::parse(args.format.as_deref().unwrap_or("yaml"))?;
    request.options()?;
    let destination = request.destination()?;
    let client = Client::embedded()?.with_kubeconfig(args.agent.kubeconfig);
    let mut progress = Progress::new();
    let yaml = block_on(client.run_agent(&request, |p| progress.show(&p), tokio::io::stderr()))?;
    match destination {
        // The Job already wrote it.
        Output::ConfigMap { namespace, name } => {
            crate::cli::note(&format!("snapshot saved to ConfigMap {namespace}/{name}"));
            Ok(())
        }
        Output::Stdout => destination.write(&[yaml.as_slice(), b"\n"].concat()),
        _ => destination.write(&yaml),
    }
}

fn local(args: SnapshotArgs) -> Result<()> {
    let format = Format::parse(args.format.as_deref().unwrap_or("yaml"))?;
    let output = Output::parse(args.output.as_deref().unwrap_or("-"))?;
    let request = SnapshotRequest {
        require_gpu: args.require_gpu,
        os: args.os,
        max_nodes_per_entry: args.max_nodes_per_entry as usize,
        ..SnapshotRequest::default()
    };
    let request = from_environment(request);
    request.os()?;
    let client = Client::embedded()?.with_kubeconfig(args.agent.kubeconfig);
    let snapshot = block_on(client.snapshot(&request))?;
    client.write_output_blocking(
        &output,
        format,
        &format.render(&snapshot),
        request.started_at,
    )
}

/// Progress on stderr: on a terminal one line rewritten in place, else a
/// plain line per phase.
struct Progress {
    tty: bool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, progress: &AgentProgress) {
        let secs = progress.elapsed.as_secs_f64();
        let line = match &progress.phase {
            AgentPhase::Warning(text) => {
                crate::cli::note(&format!("{}warning: {text}", self.clear()));
                return;
            }
            AgentPhase::Finished if self.tty => format!("\r\x1b[Kfinished ({secs:.1}s)\n"),
            phase if self.tty => format!("\r\x1b[K{} ({secs:.1}s)", describe(phase)),
            phase => format!("{} ({secs:.1}s)\n", describe(phase)),
        };
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes()).and_then(|()| err.flush());
    }

    /// On a terminal, what ends the in-place line before another line.
    fn clear(&self) -> &'static str {
        if self.tty { "\r\x1b[K" } else { "" }
    }
}

fn describe(phase: &AgentPhase) -> String {
    match phase {
        AgentPhase::CheckingPermissions => "checking permissions".into(),
        AgentPhase::CheckingRuntimeClass => "checking runtime class".into(),
        AgentPhase::PreparingNamespace => "preparing namespace".into(),
        AgentPhase::CreatingRbac => "creating RBAC".into(),
        AgentPhase::StartingJob => "starting Job".into(),
        AgentPhase::WaitingForJob => "waiting for Job".into(),
        AgentPhase::RetrievingSnapshot => "retrieving snapshot".into(),
        AgentPhase::CleaningUp => "cleaning up".into(),
        AgentPhase::Finished => "finished".into(),
        other => format!("{other:?}"),
    }
}

/// `--timeout`: a number with a unit (`ms`, `s`, `m`, `h`), or a sum such
/// as `1m30s`; a bare `0` means the default.
fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let bad = || format!("invalid duration {text:?}: use e.g. 30s, 5m, 1h30m");
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..digits].parse().map_err(|_| bad())?;
        let unit_len = rest[digits..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len() - digits);
        let seconds = match &rest[digits..digits + unit_len] {
            "ms" => value / 1000.0,
            "s" => value,
            "m" => value * 60.0,
            "h" => value * 3600.0,
            _ => return Err(bad()),
        };
        total += Duration::try_from_secs_f64(seconds).map_err(|_| bad())?;
        rest = &rest[digits + unit_len..];
    }
    if text.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

// The CLI is the edge where the environment and the clock are read.
#[allow(clippy::disallowed_methods)]
fn from_environment(request: SnapshotRequest) -> SnapshotRequest {
    SnapshotRequest {
        node_name: aicr::node_name(|name| std::env::var(name).ok()),
        path: std::env::var_os("PATH"),
        started_at: crate::cli::now(),
        ..request
    }
}

/// Inside the agent's pod (`AICR_AGENT_MODE=true`) collection is local.
#[allow(clippy::disallowed_methods)] // the edge reads the environment
fn agent_mode() -> bool {
    std::env::var("AICR_AGENT_MODE").is_ok_and(|v| v == "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_go_writes_them() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "5", "5x", "m", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
