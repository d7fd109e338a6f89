//! The NodeTopology measurement from the cluster's Node objects: how many
//! nodes, and which taints and labels they carry, each with the sorted
//! names of the nodes that carry it. Listing the nodes is the caller's.

use std::collections::BTreeMap;

use aicr_core::snapshot::{Reading, Subtype};
use k8s_openapi::api::core::v1::Node;

use crate::subtype;

/// Name of the subtype holding the counts.
pub const SUMMARY: &str = "summary";
/// Name of the subtype holding the taints.
pub const TAINT: &str = "taint";
/// Name of the subtype holding the labels.
pub const LABEL: &str = "label";

/// The `summary`, `taint` and `label` subtypes of `nodes`, in that order.
///
/// Taints are grouped by (key, effect, value) and labels by (key, value),
/// each group with the sorted names of its nodes, joined by `,`; with
/// `max_nodes_per_entry` N > 0, only the first N names are listed,
/// followed by ` (+K more)`.
/// - A taint key in one group reads `<key>: <effect>|<value>|<nodes>`; in
///   several, one entry per group, `<key>.<effect>: <value>|<nodes>`.
///   Groups that differ only by value then share an entry: the last in
///   (key, effect, value) order is kept (the reference keeps a random one).
/// - A label key with one value reads `<key>: <value>|<nodes>`; with
///   several, `<key>.<value>: <value>|<nodes>` for each.
///
/// `summary` holds `node-count`, `taint-count` and `label-count` (the
/// entries written), as integers. No nodes (also the reference's answer
/// when there is no client) gives zero counts and empty subtypes.
pub fn subtypes(nodes: &[Node], max_nodes_per_entry: usize) -> Vec<Subtype> {
    let mut taints: BTreeMap<(&str, &str, &str), Vec<&str>> = BTreeMap::new();
    let mut labels: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for node in nodes {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        let node_taints = node.spec.as_ref().and_then(|spec| spec.taints.as_ref());
        for taint in node_taints.into_iter().flatten() {
            let value = taint.value.as_deref().unwrap_or_default();
            let id = (taint.key.as_str(), taint.effect.as_str(), value);
            taints.entry(id).or_default().push(name);
        }
        for (key, value) in node.metadata.labels.iter().flatten() {
            labels.entry((key, value)).or_default().push(name);
        }
    }
    let taint = encode_taints(taints, max_nodes_per_entry);
    let label = encode_labels(labels, max_nodes_per_entry);
    let count = |n: usize| Reading::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let summary = BTreeMap::from([
        ("node-count".to_string(), count(nodes.len())),
        ("taint-count".to_string(), count(taint.len())),
        ("label-count".to_string(), count(label.len())),
    ]);
    vec![
        subtype(SUMMARY, summary),
        subtype(TAINT, taint),
        subtype(LABEL, label),
    ]
}

fn encode_taints(
    taints: BTreeMap<(&str, &str, &str), Vec<&str>>,
    max_nodes: usize,
) -> BTreeMap<String, Reading> {
    let groups_per_key = groups_per_key(taints.keys().map(|(key, _, _)| *key));
    let mut data = BTreeMap::new();
    for ((key, effect, value), nodes) in taints {
        let nodes = node_list(nodes, max_nodes);
        let (entry, text) = if groups_per_key[key] > 1 {
            (format!("{key}.{effect}"), format!("{value}|{nodes}"))
        } else {
            (key.to_string(), format!("{effect}|{value}|{nodes}"))
        };
        data.insert(entry, Reading::Str(text));
    }
    data
}

fn encode_labels(
    labels: BTreeMap<(&str, &str), Vec<&str>>,
    max_nodes: usize,
) -> BTreeMap<String, Reading> {
    let groups_per_key = groups_per_key(labels.keys().map(|(key, _)| *key));
    let mut data = BTreeMap::new();
    for ((key, value), nodes) in labels {
        let entry = if groups_per_key[key] > 1 {
            format!("{key}.{value}")
        } else {
            key.to_string()
        };
        let text = format!("{value}|{}", node_list(nodes, max_nodes));
        data.insert(entry, Reading::Str(text));
    }
    data
}

fn groups_per_key<'a>(keys: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for key in keys {
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// Node names sorted and joined by `,`, the first `max` of them when
/// `max` > 0, then ` (+K more)`.
fn node_list(mut nodes: Vec<&str>, max: usize) -> String {
    nodes.sort_unstable();
    if max > 0 && nodes.len() > max {
        format!("{} (+{} more)", nodes[..max].join(","), nodes.len() - max)
    } else {
        nodes.join(",")
    }
}
