//! `aicr snapshot`: flag parsing and output around the facade's snapshot.

use aicr::{Client, Format, Output, Result, SnapshotRequest};
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
    /// Output format: yaml, json, table [default: yaml].
    #[arg(short = 't', long)]
    format: Option<String>,
    /// Fail (NOT_FOUND) when no GPU is found.
    #[arg(long, env = "AICR_REQUIRE_GPU")]
    require_gpu: bool,
    /// Node OS: ubuntu, rhel, cos, amazonlinux, talos, any (talos reads
    /// the OS and services from the Node object).
    #[arg(long, env = "AICR_OS")]
    os: Option<String>,
    /// Node names listed per topology entry (0: all).
    #[arg(long, env = "AICR_MAX_NODES_PER_ENTRY", default_value_t = 0)]
    max_nodes_per_entry: usize,
}

/// Runs `aicr snapshot`.
pub fn snapshot(args: SnapshotArgs) -> Result<()> {
    let format = Format::parse(args.format.as_deref().unwrap_or("yaml"))?;
    let output = Output::parse(args.output.as_deref().unwrap_or("-"))?;
    let request = SnapshotRequest {
        require_gpu: args.require_gpu,
        os: args.os,
        max_nodes_per_entry: args.max_nodes_per_entry,
        ..SnapshotRequest::default()
    };
    let request = from_environment(request);
    request.os()?;
    if !(args.local || agent_mode()) {
        return Err(aicr::Error::invalid(
            "deploying the snapshot agent is not wired in yet: pass --local to collect on this machine",
        ));
    }
    let client = Client::embedded()?;
    let snapshot = aicr::block_on(client.snapshot(&request))?;
    output.write(format.render(&snapshot).as_bytes())
}

// The CLI is the edge where the environment and the clock are read.
#[allow(clippy::disallowed_methods)]
fn from_environment(request: SnapshotRequest) -> SnapshotRequest {
    SnapshotRequest {
        node_name: aicr::node_name(|name| std::env::var(name).ok()),
        path: std::env::var_os("PATH"),
        started_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
        ..request
    }
}

/// Inside the agent's pod (`AICR_AGENT_MODE=true`) collection is local.
#[allow(clippy::disallowed_methods)] // the edge reads the environment
fn agent_mode() -> bool {
    std::env::var("AICR_AGENT_MODE").is_ok_and(|v| v == "true")
}
