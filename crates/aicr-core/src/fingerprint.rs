//! The cluster identity a snapshot's measurements imply, and the recipe
//! criteria it gives `aicr recipe --snapshot`. Derived from the
//! measurements every time (a snapshot's own `fingerprint` is advisory),
//! with the reference's rules (snapshot spec, section 6).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::criteria::{Accelerator, Criteria, Os, Service};
use crate::snapshot::{MeasurementType, Reading, Snapshot, Subtype};

/// One derived dimension: its value, where it came from, and why it is
/// empty when a source existed but could not be read as a known value.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Dimension<T> {
    /// The value; `""`/0 when undetermined.
    pub value: T,
    /// The reading it came from (`k8s.node.provider`, ...).
    pub source: String,
    /// `unknown-sku`, `multi-gpu`, `multi-region`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// The OS version (`VERSION_ID`), for `os` only.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
}

impl<T> Dimension<T> {
    fn new(value: T, source: impl Into<String>) -> Self {
        Dimension {
            value,
            source: source.into(),
            note: String::new(),
            version: String::new(),
        }
    }

    fn noted(mut self, note: &str) -> Self {
        self.note = note.into();
        self
    }
}

/// The derived identity; a dimension is `None` when no source held it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fingerprint {
    /// Kubernetes service (`eks`, `gke`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Dimension<String>>,
    /// Server version without the leading `v`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k8s_version: Option<Dimension<String>>,
    /// GPU family (`h100`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accelerator: Option<Dimension<String>>,
    /// OS family, with its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<Dimension<String>>,
    /// Nodes in the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_count: Option<Dimension<i64>>,
    /// Region of the nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Dimension<String>>,
    /// Nodes with a GPU product label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_node_count: Option<Dimension<i64>>,
}

const GPU_PRODUCT: &str = "nvidia.com/gpu.product";
const REGION: &str = "topology.kubernetes.io/region";

impl Fingerprint {
    /// Derives the identity from `snapshot`'s measurements.
    pub fn from_snapshot(snapshot: &Snapshot) -> Self {
        let sub = |t: MeasurementType, s: &str| -> Option<&Subtype> {
            snapshot.measurement(t).and_then(|m| m.subtype(s))
        };
        let text = |t, s, k: &str| -> Option<String> {
            match sub(t, s)?.data.get(k)? {
                Reading::Str(v) => Some(v.clone()),
                _ => None,
            }
        };
        let mut fp = Fingerprint {
            service: text(MeasurementType::K8s, "node", "provider")
                .filter(|v| !v.is_empty())
                .map(|v| Dimension::new(v, "k8s.node.provider")),
            k8s_version: text(MeasurementType::K8s, "server", "version")
                .filter(|v| !v.is_empty())
                .map(|v| {
                    let v = v.strip_prefix('v').unwrap_or(&v).to_string();
                    Dimension::new(v, "k8s.server.version")
                }),
            accelerator: text(MeasurementType::Gpu, "smi", "gpu.model")
                .filter(|v| !v.trim().is_empty())
                .map(|model| match accelerator_family(&model) {
                    Some(family) => Dimension::new(family.to_string(), "gpu.smi.gpu.model"),
                    None => Dimension::new(String::new(), "gpu.smi.gpu.model").noted("unknown-sku"),
                }),
            os: os_dimension(
                text(MeasurementType::Os, "release", "ID"),
                text(MeasurementType::Os, "release", "VERSION_ID"),
            ),
            ..Fingerprint::default()
        };
        if let Some(topology) = snapshot.measurement(MeasurementType::NodeTopology) {
            fp.node_count = topology
                .subtype("summary")
                .and_then(|s| s.data.get("node-count"))
                .and_then(Reading::as_int)
                .map(|n| Dimension::new(n, "nodeTopology.summary.node-count"));
            if let Some(labels) = topology.subtype("label") {
                fp.region = region(labels);
                fp.gpu_node_count = gpu_node_count(labels);
                fp.accelerator = reconcile_accelerator(fp.accelerator.take(), labels);
            }
        }
        fp
    }

    /// Recipe criteria: service, accelerator and OS when they are known
    /// recipe values (anything else is `any`), nodes from the node count;
    /// intent and platform stay `any`.
    pub fn criteria(&self) -> Criteria {
        let value = |d: &Option<Dimension<String>>| d.as_ref().map(|d| d.value.clone());
        Criteria {
            service: value(&self.service)
                .and_then(|v| Service::parse(&v).ok())
                .unwrap_or_default(),
            accelerator: value(&self.accelerator)
                .and_then(|v| Accelerator::parse(&v).ok())
                .unwrap_or_default(),
            os: value(&self.os)
                .and_then(|v| Os::parse(&v).ok())
                .unwrap_or_default(),
            nodes: self
                .node_count
                .as_ref()
                .map_or(0, |d| d.value.clamp(0, i64::from(u32::MAX)) as u32),
            ..Criteria::default()
        }
    }
}

/// The family of a GPU model or product label; the first match wins, so
/// `GB200` is not read as `B200`.
fn accelerator_family(model: &str) -> Option<&'static str> {
    let upper = model.trim().to_ascii_uppercase().replace('-', " ");
    [
        ("GB200", "gb200"),
        ("B200", "b200"),
        ("H100", "h100"),
        ("A100", "a100"),
        ("RTX PRO 6000", "rtx-pro-6000"),
        ("L40", "l40"),
    ]
    .into_iter()
    .find(|(needle, _)| upper.contains(needle))
    .map(|(_, family)| family)
}

fn os_dimension(id: Option<String>, version: Option<String>) -> Option<Dimension<String>> {
    let family = match id?.trim().to_ascii_lowercase().as_str() {
        "ubuntu" => "ubuntu",
        "rhel" | "redhat" | "redhatenterpriselinux" => "rhel",
        "cos" => "cos",
        "amazonlinux" | "amzn" | "amazon" | "al2" | "al2023" => "amazonlinux",
        "talos" => "talos",
        _ => return None,
    };
    let mut d = Dimension::new(family.to_string(), "os.release");
    d.version = version.unwrap_or_default();
    Some(d)
}

/// A label reading `value|node,node,...` split into the value and the
/// node names.
fn split_label(reading: &Reading) -> (String, Vec<String>) {
    let text = reading.to_string();
    let (value, nodes) = text.split_once('|').unwrap_or((&text, ""));
    let nodes = nodes
        .split(',')
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect();
    (value.to_string(), nodes)
}

/// The readings of `label`: its plain key and its per-value keys
/// (`label.<value>`, written when nodes disagree on the value).
fn label_readings<'a>(labels: &'a Subtype, label: &'a str) -> impl Iterator<Item = &'a Reading> {
    labels.data.iter().filter_map(move |(key, reading)| {
        let rest = key.strip_prefix(label)?;
        (rest.is_empty() || rest.starts_with('.')).then_some(reading)
    })
}

/// How many per-value keys `label` has; two or more mean the nodes
/// disagree.
fn per_value_keys(labels: &Subtype, label: &str) -> usize {
    let prefix = format!("{label}.");
    labels
        .data
        .keys()
        .filter(|k| k.starts_with(&prefix))
        .count()
}

fn region(labels: &Subtype) -> Option<Dimension<String>> {
    let source = format!("nodeTopology.label.{REGION}");
    if per_value_keys(labels, REGION) >= 2 {
        return Some(Dimension::new(String::new(), source).noted("multi-region"));
    }
    labels
        .data
        .get(REGION)
        .map(|r| Dimension::new(split_label(r).0, source))
}

fn gpu_node_count(labels: &Subtype) -> Option<Dimension<i64>> {
    let mut readings = label_readings(labels, GPU_PRODUCT).peekable();
    readings.peek()?;
    let nodes: BTreeSet<String> = readings.flat_map(|r| split_label(r).1).collect();
    Some(Dimension::new(
        nodes.len() as i64,
        format!("nodeTopology.label.{GPU_PRODUCT}"),
    ))
}

/// nvidia-smi's model against the GPU product labels: several products
/// make the family undetermined; otherwise smi wins, and the single label
/// fills in when smi gave nothing.
fn reconcile_accelerator(
    smi: Option<Dimension<String>>,
    labels: &Subtype,
) -> Option<Dimension<String>> {
    let source = format!("nodeTopology.label.{GPU_PRODUCT}");
    if per_value_keys(labels, GPU_PRODUCT) >= 2 {
        return Some(Dimension::new(String::new(), source).noted("multi-gpu"));
    }
    if smi.as_ref().is_some_and(|d| !d.value.is_empty()) {
        return smi;
    }
    let product = label_readings(labels, GPU_PRODUCT)
        .next()
        .map(|r| split_label(r).0);
    match product {
        Some(p) => match accelerator_family(&p) {
            Some(family) => Some(Dimension::new(family.to_string(), source)),
            None => {
                smi.or_else(|| Some(Dimension::new(String::new(), source).noted("unknown-sku")))
            }
        },
        None => smi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(yaml: &str) -> Snapshot {
        let doc =
            format!("kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmeasurements:\n{yaml}");
        Snapshot::parse(doc.as_bytes(), "s.yaml").unwrap()
    }

    const EKS: &str = "  - type: K8s\n    subtypes:\n      - subtype: server\n        data: {version: v1.33.5-eks-3025e55}\n      - subtype: node\n        data: {provider: eks}\n  - type: GPU\n    subtypes:\n      - subtype: smi\n        data: {gpu.model: NVIDIA H100 80GB HBM3}\n  - type: OS\n    subtypes:\n      - subtype: release\n        data: {ID: ubuntu, VERSION_ID: \"22.04\"}\n  - type: NodeTopology\n    subtypes:\n      - subtype: summary\n        data: {node-count: 3}\n      - subtype: label\n        data:\n          nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3|gpu-1,gpu-2\n          topology.kubernetes.io/region: us-west-2|cp-1,gpu-1,gpu-2\n";

    #[test]
    fn the_reference_example() {
        let fp = Fingerprint::from_snapshot(&snapshot(EKS));
        assert_eq!(fp.service.as_ref().unwrap().value, "eks");
        assert_eq!(fp.k8s_version.as_ref().unwrap().value, "1.33.5-eks-3025e55");
        assert_eq!(fp.accelerator.as_ref().unwrap().value, "h100");
        assert_eq!(fp.accelerator.as_ref().unwrap().source, "gpu.smi.gpu.model");
        let os = fp.os.as_ref().unwrap();
        assert_eq!(
            (os.value.as_str(), os.version.as_str()),
            ("ubuntu", "22.04")
        );
        assert_eq!(fp.node_count.as_ref().unwrap().value, 3);
        assert_eq!(fp.region.as_ref().unwrap().value, "us-west-2");
        assert_eq!(fp.gpu_node_count.as_ref().unwrap().value, 2);
        let c = fp.criteria();
        assert_eq!(
            (c.service, c.accelerator, c.os, c.nodes),
            (Service::Eks, Accelerator::H100, Os::Ubuntu, 3)
        );
        assert_eq!(c.intent, Default::default());
    }

    #[test]
    fn families_and_notes() {
        assert_eq!(accelerator_family("NVIDIA GB200"), Some("gb200"));
        assert_eq!(accelerator_family("NVIDIA B200"), Some("b200"));
        assert_eq!(
            accelerator_family("NVIDIA-RTX-PRO-6000-Blackwell"),
            Some("rtx-pro-6000")
        );
        assert_eq!(accelerator_family("Tesla T4"), None);
        let fp = Fingerprint::from_snapshot(&snapshot(
            "  - type: GPU\n    subtypes:\n      - subtype: smi\n        data: {gpu.model: Tesla T4}\n  - type: OS\n    subtypes:\n      - subtype: release\n        data: {ID: Debian}\n",
        ));
        let acc = fp.accelerator.unwrap();
        assert_eq!((acc.value.as_str(), acc.note.as_str()), ("", "unknown-sku"));
        assert!(fp.os.is_none());
        let fp = Fingerprint::from_snapshot(&snapshot(
            "  - type: NodeTopology\n    subtypes:\n      - subtype: label\n        data:\n          nvidia.com/gpu.product.NVIDIA-H100: NVIDIA-H100|a\n          nvidia.com/gpu.product.NVIDIA-A100: NVIDIA-A100|b,c\n          topology.kubernetes.io/region.us-east-1: us-east-1|a\n          topology.kubernetes.io/region.us-west-2: us-west-2|b\n",
        ));
        assert_eq!(fp.accelerator.unwrap().note, "multi-gpu");
        assert_eq!(fp.region.unwrap().note, "multi-region");
        assert_eq!(fp.gpu_node_count.unwrap().value, 3);
    }

    #[test]
    fn labels_fill_in_when_smi_is_absent() {
        let fp = Fingerprint::from_snapshot(&snapshot(
            "  - type: NodeTopology\n    subtypes:\n      - subtype: label\n        data:\n          nvidia.com/gpu.product: NVIDIA-B200|n1\n",
        ));
        let acc = fp.accelerator.clone().unwrap();
        assert_eq!(
            (acc.value.as_str(), acc.source.as_str()),
            ("b200", "nodeTopology.label.nvidia.com/gpu.product")
        );
        assert_eq!(fp.criteria().accelerator, Accelerator::B200);
    }
}
