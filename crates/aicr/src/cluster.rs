//! The Kubernetes connection: found by discovery (spec §4.5) on first use
//! and then shared by every ConfigMap read and write of one [`Client`].
//!
//! [`Client`]: crate::Client

use std::path::PathBuf;
use std::sync::Arc;

use aicr_collect::cluster::configmap::{self, ConfigMapRef};
use aicr_collect::cluster::{Discovered, DiscoveryInputs, discover_client};
use aicr_core::output::Format;
use aicr_core::{Error, Result};
use tokio::sync::OnceCell;

use crate::io::{Input, Output};

/// A lazily made connection. A kube client lives on the tokio runtime it
/// was made on, which is why [`crate::block_on`] keeps one runtime per
/// process.
#[derive(Clone, Default)]
pub(crate) struct Connection {
    kubeconfig: Option<PathBuf>,
    discovered: Arc<OnceCell<Discovered>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("kubeconfig", &self.kubeconfig)
            .field("discovered", &self.discovered.initialized())
            .finish()
    }
}

impl Connection {
    /// A connection through `kubeconfig` when given, else discovery.
    pub(crate) fn new(kubeconfig: Option<PathBuf>) -> Self {
        Connection {
            kubeconfig,
            discovered: Arc::default(),
        }
    }

    /// The cluster, or why there is none; discovered on the first call.
    pub(crate) async fn discover(&self) -> Result<Discovered> {
        self.discovered
            .get_or_try_init(|| async {
                discover_client(&DiscoveryInputs::from_env(self.kubeconfig.clone())).await
            })
            .await
            .cloned()
    }

    /// The client. Finding no cluster is an error here: every caller needs
    /// one (a ConfigMap, the agent).
    pub(crate) async fn get(&self) -> Result<kube::Client> {
        match self.discover().await? {
            Discovered::Client(client) => Ok(client),
            Discovered::Absent { reason } => Err(Error::internal(format!(
                "failed to create Kubernetes client: no cluster found ({reason}); pass --kubeconfig or set KUBECONFIG"
            ))),
        }
    }

    /// Reads a whole document: a ConfigMap through this connection, every
    /// other source as [`Input::read`] does. The one place that decides
    /// how a source is read.
    pub(crate) async fn read(&self, input: &Input, limit: u64) -> Result<Vec<u8>> {
        let Input::ConfigMap { namespace, name } = input else {
            return input.read(limit).await;
        };
        let target = ConfigMapRef::new(namespace.clone(), name.clone());
        let doc = configmap::read_document(&self.get().await?, &target).await?;
        if doc.content.len() as u64 > limit {
            return Err(crate::io::too_large(&input.describe(), limit));
        }
        Ok(doc.content.into_bytes())
    }

    /// [`Connection::read`] for synchronous callers; a runtime is used
    /// only for a remote source.
    pub(crate) fn read_blocking(&self, input: &Input, limit: u64) -> Result<Vec<u8>> {
        if input.is_remote() {
            crate::block_on(self.read(input, limit))
        } else {
            input.read_blocking(limit)
        }
    }

    /// Writes a rendered document: a ConfigMap (server-side apply, stamped
    /// with `now` as RFC 3339 UTC) through this connection, stdout or a
    /// file as [`Output::write`] does. The one place that decides.
    pub(crate) async fn write(
        &self,
        output: &Output,
        format: Format,
        text: &str,
        now: u64,
    ) -> Result<()> {
        let Output::ConfigMap { namespace, name } = output else {
            return output.write(text.as_bytes());
        };
        let target = ConfigMapRef::new(namespace.clone(), name.clone());
        // The ConfigMap holds JSON without its trailing newline, as the
        // reference writes it.
        let text = match format {
            Format::Json => text.trim_end_matches('\n'),
            _ => text,
        };
        let timestamp = aicr_core::time::rfc3339(now, None);
        configmap::write_document(&self.get().await?, &target, format, text, &timestamp).await
    }
}
