//! `aicr recipe --snapshot` (and `query --snapshot`) on the hand-written
//! snapshots in `tests/fixtures/recipe-snapshot/`. Every expectation here
//! was checked against the reference binary (`aicr recipe --snapshot FILE
//! ...`, NVIDIA/aicr at the surveyed commit): same criteria, applied and
//! excluded overlays and warnings, word for word. Where we differ on
//! purpose, the test says so.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::run;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/recipe-snapshot")
        .join(name)
        .display()
        .to_string()
}

/// The recipe for `snapshot` and `flags`, as JSON, and stderr.
fn recipe(snapshot: &str, flags: &[&str]) -> (Value, String) {
    let fixture = fixture(snapshot);
    let mut args = vec!["recipe", "--snapshot", &fixture, "-t", "json"];
    args.extend(flags);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{args:?}: {err}");
    (serde_json::from_str(&out).unwrap(), err)
}

fn applied(doc: &Value) -> &Value {
    &doc["metadata"]["appliedOverlays"]
}

#[test]
fn criteria_come_from_the_snapshot_alone() {
    let (doc, err) = recipe("eks-h100-ubuntu.yaml", &[]);
    assert_eq!(
        doc["criteria"],
        json!({"service": "eks", "accelerator": "h100", "intent": "any", "os": "ubuntu", "platform": "any", "nodes": 4})
    );
    // Intent is not measured, so no training or inference leaf is chosen.
    assert_eq!(applied(&doc), &json!(["base", "monitoring-hpa", "eks"]));
    assert!(doc["metadata"].get("excludedOverlays").is_none());
    assert!(doc["metadata"].get("constraintWarnings").is_none());
    assert_eq!(err, "");
}

#[test]
fn a_snapshot_meeting_every_constraint_gives_the_plain_recipe() {
    let (doc, _) = recipe("eks-h100-ubuntu.yaml", &["--intent", "training"]);
    assert_eq!(
        applied(&doc),
        &json!([
            "base",
            "monitoring-hpa",
            "eks",
            "eks-training",
            "h100-eks-training",
            "h100-eks-ubuntu-training"
        ])
    );
    let (code, plain, err) = run([
        "recipe",
        "--service",
        "eks",
        "--gpu",
        "h100",
        "--os",
        "ubuntu",
        "--intent",
        "training",
        "--nodes",
        "4",
        "-t",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc, serde_json::from_str::<Value>(&plain).unwrap());
}

#[test]
fn flags_override_what_the_snapshot_implies() {
    let (doc, _) = recipe(
        "eks-h100-ubuntu.yaml",
        &[
            "--service",
            "gke",
            "--accelerator",
            "a100",
            "--os",
            "rhel",
            "--nodes",
            "9",
            "--intent",
            "inference",
        ],
    );
    assert_eq!(
        doc["criteria"],
        json!({"service": "gke", "accelerator": "a100", "intent": "inference", "os": "rhel", "platform": "any", "nodes": 9})
    );
    assert_eq!(applied(&doc), &json!(["base", "monitoring-hpa"]));
}

#[test]
fn config_criteria_lie_between_the_snapshot_and_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "kind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  recipe:\n    criteria:\n      intent: training\n      accelerator: gb200\n      nodes: 2\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let (doc, _) = recipe("eks-h100-ubuntu.yaml", &["--config", &config]);
    assert_eq!(
        doc["criteria"],
        json!({"service": "eks", "accelerator": "gb200", "intent": "training", "os": "ubuntu", "platform": "any", "nodes": 2})
    );
    let (doc, _) = recipe(
        "eks-h100-ubuntu.yaml",
        &["--config", &config, "--accelerator", "h100", "--nodes", "5"],
    );
    assert_eq!(doc["criteria"]["accelerator"], "h100");
    assert_eq!(doc["criteria"]["nodes"], 5);
    assert_eq!(doc["criteria"]["intent"], "training");
}

#[test]
fn a_snapshot_named_in_the_config_is_read_and_the_flag_wins_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "kind: AICRConfig\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  recipe:\n    input:\n      snapshot: {}\n",
            fixture("eks-h100-old-kernel.yaml")
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let (code, out, err) = run([
        "recipe", "--config", &config, "--intent", "training", "-t", "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(applied(&doc), &json!(["base", "monitoring-hpa"]));
    let (doc, _) = recipe(
        "eks-h100-ubuntu.yaml",
        &["--config", &config, "--intent", "training"],
    );
    assert!(doc["metadata"].get("excludedOverlays").is_none());
}

#[test]
fn a_failing_mixin_constraint_excludes_the_leaf_and_its_chain() {
    let (doc, err) = recipe("eks-h100-old-kernel.yaml", &["--intent", "training"]);
    assert_eq!(applied(&doc), &json!(["base", "monitoring-hpa"]));
    assert_eq!(
        doc["metadata"]["excludedOverlays"],
        json!([{"name": "h100-eks-ubuntu-training", "reason": "mixin-constraint-failed"}])
    );
    assert_eq!(
        doc["metadata"]["constraintWarnings"],
        json!([{
            "overlay": "h100-eks-ubuntu-training",
            "constraint": "OS.sysctl./proc/sys/kernel/osrelease",
            "expected": ">= 6.8",
            "actual": "5.15.0-91-generic",
            "reason": "mixin-constraint-failed: expected >= 6.8, got 5.15.0-91-generic"
        }])
    );
    // The criteria stay those asked for: the recipe is less specific than
    // they are, and stderr says why.
    assert_eq!(doc["criteria"]["intent"], "training");
    assert!(
        err.contains("overlay h100-eks-ubuntu-training excluded by constraint OS.sysctl./proc/sys/kernel/osrelease"),
        "{err}"
    );
}

#[test]
fn a_failing_own_constraint_excludes_the_leaf_before_merging() {
    let (doc, _) = recipe("eks-h100-old-k8s.yaml", &["--intent", "training"]);
    assert_eq!(applied(&doc), &json!(["base", "monitoring-hpa"]));
    assert_eq!(
        doc["metadata"]["excludedOverlays"],
        json!([{"name": "h100-eks-ubuntu-training", "reason": "constraint-failed"}])
    );
    assert_eq!(
        doc["metadata"]["constraintWarnings"],
        json!([{
            "overlay": "h100-eks-ubuntu-training",
            "constraint": "K8s.server.version",
            "expected": ">= 1.32.4",
            "actual": "v1.31.2-eks-abc",
            "reason": "expected >= 1.32.4, got v1.31.2-eks-abc"
        }])
    );
}

#[test]
fn a_missing_reading_fails_its_constraint_without_an_actual_value() {
    let (doc, _) = recipe("eks-h100-no-version-id.yaml", &["--intent", "training"]);
    assert_eq!(
        doc["metadata"]["constraintWarnings"],
        json!([{
            "overlay": "h100-eks-ubuntu-training",
            "constraint": "OS.release.VERSION_ID",
            "expected": "24.04",
            "reason": "mixin-constraint-failed: [NOT_FOUND] value not found in snapshot: [NOT_FOUND] key not found in subtype"
        }])
    );
    let (doc, _) = recipe(
        "eks-h100-no-os.yaml",
        &["--intent", "training", "--os", "ubuntu"],
    );
    let missing = "mixin-constraint-failed: [NOT_FOUND] value not found in snapshot: [NOT_FOUND] measurement type not found in snapshot";
    let warnings: Vec<(&str, &str)> = doc["metadata"]["constraintWarnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["constraint"].as_str().unwrap(),
                w["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        warnings,
        [
            ("OS.release.ID", missing),
            ("OS.release.VERSION_ID", missing),
            ("OS.sysctl./proc/sys/kernel/osrelease", missing)
        ]
    );
}

#[test]
fn other_matching_leaves_survive_an_exclusion() {
    let (doc, _) = recipe("eks-gb200-old-kernel.yaml", &["--intent", "training"]);
    assert_eq!(
        applied(&doc),
        &json!(["base", "monitoring-hpa", "gb200-any-training"])
    );
    assert_eq!(
        doc["metadata"]["excludedOverlays"],
        json!([{"name": "gb200-eks-ubuntu-training", "reason": "mixin-constraint-failed"}])
    );
    // The reference also carries the excluded chain's deployment and
    // conformance phases here (its merge writes them into a shared
    // overlay); ours are gb200-any-training's alone, as without the EKS
    // leaf.
    assert_eq!(
        doc["validation"],
        json!({"performance": {"checks": ["nccl-all-reduce-bw"], "constraints": [{"name": "nccl-all-reduce-bw", "value": ">= 720"}]}})
    );
}

#[test]
fn a_snapshot_implying_nothing_gives_the_generic_recipe() {
    let (doc, _) = recipe("empty.yaml", &[]);
    assert_eq!(
        doc["criteria"],
        json!({"service": "any", "accelerator": "any", "intent": "any", "os": "any", "platform": "any"})
    );
    assert_eq!(applied(&doc), &json!(["base", "monitoring-hpa"]));
}

#[test]
fn query_reads_the_snapshot_too() {
    let fixture = fixture("eks-h100-old-kernel.yaml");
    let (code, out, err) = run([
        "query",
        "--snapshot",
        &fixture,
        "--intent",
        "training",
        "--selector",
        "metadata.excludedOverlays",
        "-t",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!([{"name": "h100-eks-ubuntu-training", "reason": "mixin-constraint-failed"}])
    );
}

/// The reference reads any YAML as a snapshot (a criteria document becomes
/// an empty one and gives the generic recipe) and wraps every read failure
/// as INTERNAL (exit 8); ours keeps the typed code of what went wrong.
#[test]
fn unreadable_snapshots_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    let padding = "#".repeat(1024 * 1024);
    let text = std::fs::read_to_string(fixture("empty.yaml")).unwrap() + &padding;
    std::fs::write(&big, text).unwrap();
    let table: PathBuf = dir.path().join("s.txt");
    std::fs::write(&table, "FIELD  VALUE\n").unwrap();
    // cm:// sources are covered against the API server double (agent.rs).
    let cases: [(String, i32, &str); 4] = [
        (
            fixture("wrong-kind.yaml"),
            2,
            "kind is \"RecipeCriteria\", expected \"Snapshot\"",
        ),
        (
            big.display().to_string(),
            2,
            "larger than the 1048576-byte limit",
        ),
        (fixture("missing.yaml"), 3, "snapshot file not found"),
        (
            table.display().to_string(),
            2,
            "table format cannot be read back",
        ),
    ];
    for (source, status, text) in cases {
        let (code, out, err) = run(["recipe", "--snapshot", &source, "--service", "eks"]);
        assert_eq!((code, out.as_str()), (status, ""), "{source}: {err}");
        assert!(err.contains(text), "{source}: {err}");
    }
}
