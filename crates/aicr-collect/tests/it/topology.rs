//! NodeTopology from Node objects: `summary`, `taint`, `label`.

use std::collections::BTreeMap;

use aicr_collect::topology::subtypes;
use aicr_core::snapshot::{Reading, Subtype};
use k8s_openapi::api::core::v1::{Node, NodeSpec, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::support::strings;

fn taint(key: &str, value: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        value: (!value.is_empty()).then(|| value.to_string()),
        effect: effect.into(),
        ..Taint::default()
    }
}

fn node(name: &str, taints: Vec<Taint>, labels: &[(&str, &str)]) -> Node {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: (!labels.is_empty()).then_some(labels),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec {
            taints: Some(taints),
            ..NodeSpec::default()
        }),
        ..Node::default()
    }
}

fn counts(summary: &Subtype) -> [i64; 3] {
    ["node-count", "taint-count", "label-count"].map(|key| match summary.data[key] {
        Reading::Int(n) => n,
        ref other => panic!("{key} is {other:?}, not an integer"),
    })
}

/// Case 41.
#[test]
fn a_taint_shared_by_two_nodes_lists_both() {
    let gpu = || taint("nvidia.com/gpu", "", "NoSchedule");
    let subtypes = subtypes(
        &[
            node("node-b", vec![gpu()], &[]),
            node("node-a", vec![gpu()], &[]),
        ],
        0,
    );
    let names: Vec<&str> = subtypes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["summary", "taint", "label"]);
    assert_eq!(
        subtypes[1].data,
        strings(&[("nvidia.com/gpu", "NoSchedule||node-a,node-b")])
    );
    assert_eq!(counts(&subtypes[0]), [2, 1, 0]);
}

/// Case 42.
#[test]
fn a_taint_key_with_two_effects_gives_one_entry_per_effect() {
    let taints = vec![
        taint("dedicated", "system-workload", "NoSchedule"),
        taint("dedicated", "system-workload", "NoExecute"),
    ];
    let subtypes = subtypes(&[node("node-1", taints, &[])], 0);
    assert_eq!(
        subtypes[1].data,
        strings(&[
            ("dedicated.NoSchedule", "system-workload|node-1"),
            ("dedicated.NoExecute", "system-workload|node-1"),
        ])
    );
    assert_eq!(counts(&subtypes[0]), [1, 2, 0]);
}

/// Case 43.
#[test]
fn node_lists_beyond_the_maximum_are_counted_not_listed() {
    let nodes: Vec<Node> = ["node-c", "node-a", "node-b"]
        .iter()
        .map(|name| node(name, vec![taint("gpu", "", "NoSchedule")], &[]))
        .collect();
    let subtypes = subtypes(&nodes, 2);
    assert_eq!(
        subtypes[1].data,
        strings(&[("gpu", "NoSchedule||node-a,node-b (+1 more)")])
    );
    assert_eq!(
        self::subtypes(&nodes, 3)[1].data,
        strings(&[("gpu", "NoSchedule||node-a,node-b,node-c")])
    );
}

/// Case 44.
#[test]
fn an_empty_label_value_and_an_empty_cluster() {
    let labelled = node(
        "node-1",
        vec![],
        &[("node-role.kubernetes.io/control-plane", "")],
    );
    let subtypes = subtypes(&[labelled], 0);
    assert_eq!(
        subtypes[2].data,
        strings(&[("node-role.kubernetes.io/control-plane", "|node-1")])
    );
    assert_eq!(counts(&subtypes[0]), [1, 0, 1]);

    let empty = self::subtypes(&[], 0);
    assert_eq!(counts(&empty[0]), [0, 0, 0]);
    assert!(empty[1].data.is_empty() && empty[2].data.is_empty());
}

#[test]
fn a_label_key_with_several_values_gives_one_entry_per_value() {
    let nodes = [
        node(
            "cp-1",
            vec![],
            &[("kubernetes.io/arch", "amd64"), ("type", "m5.xlarge")],
        ),
        node(
            "gpu-2",
            vec![],
            &[("kubernetes.io/arch", "amd64"), ("type", "p5.48xlarge")],
        ),
        node(
            "gpu-1",
            vec![],
            &[("kubernetes.io/arch", "amd64"), ("type", "p5.48xlarge")],
        ),
    ];
    let subtypes = subtypes(&nodes, 0);
    assert_eq!(
        subtypes[2].data,
        strings(&[
            ("kubernetes.io/arch", "amd64|cp-1,gpu-1,gpu-2"),
            ("type.m5.xlarge", "m5.xlarge|cp-1"),
            ("type.p5.48xlarge", "p5.48xlarge|gpu-1,gpu-2"),
        ])
    );
    assert_eq!(counts(&subtypes[0]), [3, 0, 3]);
}

#[test]
fn taints_differing_only_by_value_collide_deterministically() {
    // The reference keeps a random one of the two; we keep the last in
    // (key, effect, value) order, and count the entry once.
    let nodes = [
        node(
            "a",
            vec![taint("k", "x", "NoSchedule"), taint("k", "", "NoExecute")],
            &[],
        ),
        node("b", vec![taint("k", "y", "NoSchedule")], &[]),
    ];
    let subtypes = subtypes(&nodes, 0);
    assert_eq!(
        subtypes[1].data,
        strings(&[("k.NoExecute", "|a"), ("k.NoSchedule", "y|b")])
    );
    assert_eq!(counts(&subtypes[0]), [2, 2, 0]);
}
