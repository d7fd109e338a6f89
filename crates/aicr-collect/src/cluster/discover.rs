//! Finding the cluster (spec §4.5): an explicit kubeconfig path, else
//! `$KUBECONFIG` (one path), else `~/.kube/config` when it exists, else the
//! in-cluster service account. Finding nothing is not an error: collectors
//! record the Kubernetes source as absent.

use std::path::{Path, PathBuf};

use aicr_core::{Error, Result};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// The outcome of discovery.
#[derive(Clone)]
pub enum Discovered {
    /// A client for the cluster found.
    Client(kube::Client),
    /// No configuration anywhere; `reason` says where discovery looked.
    Absent {
        /// Human-readable, for a warning.
        reason: String,
    },
}

impl std::fmt::Debug for Discovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Discovered::Client(_) => f.write_str("Client"),
            Discovered::Absent { reason } => write!(f, "Absent({reason})"),
        }
    }
}

/// What discovery looks at, so that it can be tested without touching the
/// process environment ([`DiscoveryInputs::from_env`] reads it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscoveryInputs {
    /// `--kubeconfig`, where a command honours it.
    pub kubeconfig: Option<PathBuf>,
    /// `$KUBECONFIG`, taken as one path.
    pub kubeconfig_env: Option<PathBuf>,
    /// `$HOME`, for `~/.kube/config`.
    pub home: Option<PathBuf>,
    /// Whether `$KUBERNETES_SERVICE_HOST` is set (running in a pod).
    pub in_cluster: bool,
}

impl DiscoveryInputs {
    /// The inputs from the process environment, with an optional explicit
    /// path.
    #[allow(clippy::disallowed_methods)] // discovery is defined by the environment (spec §4.5)
    pub fn from_env(kubeconfig: Option<PathBuf>) -> Self {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        DiscoveryInputs {
            kubeconfig: kubeconfig.filter(|p| !p.as_os_str().is_empty()),
            kubeconfig_env: non_empty("KUBECONFIG").map(PathBuf::from),
            home: non_empty("HOME").map(PathBuf::from),
            in_cluster: non_empty("KUBERNETES_SERVICE_HOST").is_some(),
        }
    }
}

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A kubeconfig file; `required` when the user named it (a missing
    /// file is then an error, not an absence).
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// Named by `--kubeconfig` or `$KUBECONFIG`.
        required: bool,
    },
    /// The pod's service account.
    InCluster,
    /// Nothing to use.
    Absent(String),
}

/// Picks the source by the order of spec §4.5; `exists` tells whether a
/// file is there.
pub fn choose_source(inputs: &DiscoveryInputs, exists: impl Fn(&Path) -> bool) -> Source {
    if let Some(path) = inputs
        .kubeconfig
        .as_ref()
        .or(inputs.kubeconfig_env.as_ref())
    {
        return Source::Kubeconfig {
            path: path.clone(),
            required: true,
        };
    }
    if let Some(home) = &inputs.home {
        let path = home.join(".kube").join("config");
        if exists(&path) {
            return Source::Kubeconfig {
                path,
                required: false,
            };
        }
    }
    if inputs.in_cluster {
        return Source::InCluster;
    }
    Source::Absent(
        "no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a cluster"
            .into(),
    )
}

/// Finds the cluster and builds one client for it. A kubeconfig that was
/// named but is missing, or that exists but cannot be read or used, is an
/// INTERNAL "failed to create Kubernetes client" error.
pub async fn discover_client(inputs: &DiscoveryInputs) -> Result<Discovered> {
    match choose_source(inputs, Path::is_file) {
        Source::Kubeconfig { path, .. } => {
            let config = config_from_file(&path).await?;
            Ok(Discovered::Client(client_from_config(config)?))
        }
        Source::InCluster => match kube::Config::incluster() {
            Ok(config) => Ok(Discovered::Client(client_from_config(config)?)),
            Err(e) => Ok(Discovered::Absent {
                reason: format!("in-cluster configuration unusable: {e}"),
            }),
        },
        Source::Absent(reason) => Ok(Discovered::Absent { reason }),
    }
}

/// The client configuration in a kubeconfig file (its current context).
pub async fn config_from_file(path: &Path) -> Result<kube::Config> {
    let failed = |e: kube::config::KubeconfigError| {
        Error::internal("failed to create Kubernetes client").with_source(Error::invalid(format!(
            "kubeconfig {}: {e}",
            path.display()
        )))
    };
    let kubeconfig = Kubeconfig::read_from(path).map_err(failed)?;
    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(failed)
}

/// A client for `config`. kube's built-in retry is turned off: the
/// requests of this module retry on their own terms ([`super::ATTEMPTS`]).
pub fn client_from_config(mut config: kube::Config) -> Result<kube::Client> {
    config.default_retry = false;
    kube::Client::try_from(config)
        .map_err(|e| Error::internal("failed to create Kubernetes client").with_source(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> DiscoveryInputs {
        DiscoveryInputs {
            kubeconfig: Some("/flag".into()),
            kubeconfig_env: Some("/env".into()),
            home: Some("/home/u".into()),
            in_cluster: true,
        }
    }

    #[test]
    fn explicit_path_wins_then_env_then_home_then_cluster() {
        let mut i = inputs();
        let kc = |p: &str, required| Source::Kubeconfig {
            path: p.into(),
            required,
        };
        assert_eq!(choose_source(&i, |_| true), kc("/flag", true));
        i.kubeconfig = None;
        assert_eq!(choose_source(&i, |_| true), kc("/env", true));
        i.kubeconfig_env = None;
        assert_eq!(
            choose_source(&i, |_| true),
            kc("/home/u/.kube/config", false)
        );
        assert_eq!(choose_source(&i, |_| false), Source::InCluster);
        i.in_cluster = false;
        assert!(matches!(choose_source(&i, |_| false), Source::Absent(_)));
    }
}
