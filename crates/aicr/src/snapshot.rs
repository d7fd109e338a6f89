//! Taking a snapshot of this node (and, when one is reachable, its
//! cluster): the request a frontend fills in, and the environment values
//! it reads at the edge and passes in.

use std::ffi::OsString;

use aicr_core::criteria::Os;
use aicr_core::snapshot::Snapshot;
use aicr_core::{Error, Result};

use crate::Client;

/// How to take a snapshot here. Flags and their `AICR_*` variables are the
/// frontend's; everything the environment says is passed in, so a library
/// caller controls all of it.
#[derive(Debug, Clone, Default)]
pub struct SnapshotRequest {
    /// Fail with NOT_FOUND when neither PCI enumeration nor nvidia-smi
    /// finds a GPU.
    pub require_gpu: bool,
    /// `--os`: `talos` reads the OS and services from the Node object;
    /// anything else reads `/proc` and systemd.
    pub os: Option<String>,
    /// Node names listed per topology entry before `(+N more)`; 0 lists
    /// them all.
    pub max_nodes_per_entry: usize,
    /// This node's name ([`node_name`](crate::node_name) of the environment).
    pub node_name: Option<String>,
    /// The `PATH` that `nvidia-smi` is looked up in.
    pub path: Option<OsString>,
    /// When the snapshot starts, in seconds since the Unix epoch.
    pub started_at: u64,
}

impl SnapshotRequest {
    /// The `--os` value: one of the OS names of recipes (`al2`/`al2023`
    /// are `amazonlinux`) or `any`.
    pub fn os(&self) -> Result<Os> {
        match &self.os {
            None => Ok(Os::Any),
            Some(text) => Os::parse(text).map_err(|e| {
                Error::invalid(format!(
                    "--os: {} (valid: {}, any)",
                    e.message(),
                    Os::VALUES.join(", ")
                ))
            }),
        }
    }
}

impl Client {
    /// Collects a snapshot of this node: every collector concurrently,
    /// fail-fast, with absent sources recorded in `sources`. The cluster is
    /// this client's ([`Client::with_kubeconfig`], else discovery); none
    /// found makes the Kubernetes sources absent, not an error.
    pub async fn snapshot(&self, request: &SnapshotRequest) -> Result<Snapshot> {
        let os = request.os()?;
        let mut options = aicr_collect::Options::new(crate::VERSION, request.started_at);
        options.path = request.path.clone();
        options.node_name = request.node_name.clone();
        options.require_gpu = request.require_gpu;
        options.os = os;
        options.max_nodes_per_entry = request.max_nodes_per_entry;
        options.cluster = self.cluster.discover().await?;
        aicr_collect::snapshot(options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_values_are_the_recipes_with_their_aliases() {
        let request = |os: &str| SnapshotRequest {
            os: Some(os.to_string()),
            ..SnapshotRequest::default()
        };
        assert_eq!(request("al2023").os().unwrap(), Os::AmazonLinux);
        assert_eq!(request("Talos").os().unwrap(), Os::Talos);
        assert_eq!(request("any").os().unwrap(), Os::Any);
        let err = request("windows").os().unwrap_err();
        assert!(err.to_string().contains("--os"), "{err}");
    }
}
