//! The collectors that read the Kubernetes API (K8s, NodeTopology) or,
//! on Talos, this node's Node object (OS and SystemD), and the systemd
//! collector for every other OS. With no cluster found, each keeps the
//! reference's shape for a missing client and records the source as
//! absent.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aicr_core::Result;
use aicr_core::criteria::Os;
use aicr_core::snapshot::{Measurement, MeasurementType, SourceStatus};

use crate::cluster::{Discovered, fetch};
use crate::run::{BoxFuture, Collected, Options};
use crate::{Outcome, k8s, subtype, systemd, talos, topology};

/// The K8s collector: `server`, `image`, `policy` and `node`, read
/// concurrently; the first failure fails them all.
pub struct K8s;

impl crate::run::Collector for K8s {
    fn kind(&self) -> MeasurementType {
        MeasurementType::K8s
    }

    fn deadline(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn collect(&self, options: Arc<Options>) -> BoxFuture<Result<Collected>> {
        Box::pin(async move {
            let client = match &options.cluster {
                Discovered::Client(client) => client.clone(),
                Discovered::Absent { reason } => {
                    let empty = [k8s::SERVER, k8s::IMAGE, k8s::POLICY, k8s::NODE]
                        .map(|name| subtype(name, BTreeMap::new()));
                    return Ok(Collected {
                        measurement: measurement(MeasurementType::K8s, empty.into()),
                        sources: vec![SourceStatus::absent("K8s", reason.clone())],
                    });
                }
            };
            let name = options.node_name.as_deref();
            let node = async {
                match name {
                    Some(name) => fetch::node(&client, name).await,
                    None => Ok(None),
                }
            };
            let (info, pods, policies, node) = tokio::try_join!(
                fetch::server_version(&client),
                fetch::list_pods(&client),
                fetch::cluster_policies(&client),
                node,
            )?;
            let specs: Vec<_> = policies
                .iter()
                .filter_map(|policy| policy.data.get("spec").cloned())
                .collect();
            let mut sources = vec![SourceStatus::collected("K8s")];
            match (name, &node) {
                (None, _) => sources.push(SourceStatus::absent(
                    "K8s/node",
                    "no node name: NODE_NAME, KUBERNETES_NODE_NAME and HOSTNAME are unset",
                )),
                (Some(name), None) => sources.push(SourceStatus::absent(
                    "K8s/node",
                    format!("the cluster has no node named {name:?}"),
                )),
                _ => {}
            }
            let subtypes = vec![
                k8s::server_subtype(&info),
                k8s::image_subtype(&pods),
                k8s::policy_subtype(&specs),
                k8s::node_subtype(node.as_ref(), name.unwrap_or_default()),
            ];
            Ok(Collected {
                measurement: measurement(MeasurementType::K8s, subtypes),
                sources,
            })
        })
    }
}

/// The NodeTopology collector: every node's taints and labels.
pub struct NodeTopology;

impl crate::run::Collector for NodeTopology {
    fn kind(&self) -> MeasurementType {
        MeasurementType::NodeTopology
    }

    fn deadline(&self) -> Duration {
        Duration::from_secs(90)
    }

    fn collect(&self, options: Arc<Options>) -> BoxFuture<Result<Collected>> {
        Box::pin(async move {
            let (nodes, status) = match &options.cluster {
                Discovered::Client(client) => (
                    fetch::list_nodes(client).await?,
                    SourceStatus::collected("NodeTopology"),
                ),
                Discovered::Absent { reason } => (
                    Vec::new(),
                    SourceStatus::absent("NodeTopology", reason.clone()),
                ),
            };
            Ok(Collected {
                measurement: measurement(
                    MeasurementType::NodeTopology,
                    topology::subtypes(&nodes, options.max_nodes_per_entry),
                ),
                sources: vec![status],
            })
        })
    }
}

/// The SystemD collector: systemd's private D-Bus socket on the host, or
/// on Talos (no systemd) what the Node object says of containerd and the
/// kubelet.
pub struct SystemD;

impl crate::run::Collector for SystemD {
    fn kind(&self) -> MeasurementType {
        MeasurementType::SystemD
    }

    fn deadline(&self) -> Duration {
        Duration::from_secs(10)
    }

    fn collect(&self, options: Arc<Options>) -> BoxFuture<Result<Collected>> {
        Box::pin(async move {
            let (subtypes, status) = if options.os == Os::Talos {
                match options.this_node().await? {
                    Ok(node) => (
                        talos::service_subtypes(&node),
                        SourceStatus::collected("SystemD/kubernetes-node-info"),
                    ),
                    Err(reason) => (
                        Vec::new(),
                        SourceStatus::absent("SystemD/kubernetes-node-info", reason),
                    ),
                }
            } else {
                let socket = options.host.path(systemd::PRIVATE_SOCKET);
                match systemd::collect(&socket, &systemd::DEFAULT_SERVICES).await? {
                    Outcome::Collected(m) => (m.subtypes, SourceStatus::collected("SystemD")),
                    Outcome::Absent(reason) => {
                        (Vec::new(), SourceStatus::absent("SystemD", reason))
                    }
                }
            };
            Ok(Collected {
                measurement: measurement(MeasurementType::SystemD, subtypes),
                sources: vec![status],
            })
        })
    }
}

/// The OS measurement of a Talos node, from its Node object.
pub(crate) async fn talos_os(options: &Options) -> Result<Collected> {
    let (subtypes, status) = match options.this_node().await? {
        Ok(node) => (
            talos::os_subtypes(&node),
            SourceStatus::collected("OS/kubernetes-node-info"),
        ),
        Err(reason) => (
            Vec::new(),
            SourceStatus::absent("OS/kubernetes-node-info", reason),
        ),
    };
    Ok(Collected {
        measurement: measurement(MeasurementType::Os, subtypes),
        sources: vec![status],
    })
}

fn measurement(kind: MeasurementType, subtypes: Vec<aicr_core::snapshot::Subtype>) -> Measurement {
    Measurement { kind, subtypes }
}
