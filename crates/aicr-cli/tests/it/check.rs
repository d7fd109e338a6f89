//! `aicr validate` and `aicr diff` on snapshot files.

use std::path::Path;

use serde_json::Value;

use crate::support::run;

/// A snapshot that meets the eks/h100/ubuntu/training recipe's
/// constraints, with `version`/`osrelease`/`id` swappable.
fn snapshot(k8s: &str, osrelease: &str, id: &str) -> String {
    format!(
        "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata:\n  timestamp: \"2026-01-30T12:00:00Z\"\n  source-node: gpu-1\nmeasurements:\n  - type: K8s\n    subtypes:\n      - subtype: server\n        data:\n          version: {k8s}\n  - type: OS\n    subtypes:\n      - subtype: release\n        data:\n          ID: {id}\n          VERSION_ID: \"24.04\"\n      - subtype: sysctl\n        data:\n          /proc/sys/kernel/osrelease: {osrelease}\n"
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn recipe(dir: &Path) -> String {
    let path = dir.join("recipe.yaml");
    let (status, _, err) = run([
        "recipe",
        "--service",
        "eks",
        "--accelerator",
        "h100",
        "--os",
        "ubuntu",
        "--intent",
        "training",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(status, 0, "{err}");
    path.to_str().unwrap().to_string()
}

/// A temporary directory holding the eks/h100/ubuntu/training recipe and
/// a snapshot with `text`; the recipe's and the snapshot's paths.
fn recipe_and_snapshot(text: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let r = recipe(dir.path());
    let s = write(dir.path(), "s.yaml", text);
    (dir, r, s)
}

fn tests_by_name(report: &Value) -> Vec<(String, String)> {
    report["results"]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn validate_passes_a_snapshot_that_meets_the_constraints() {
    let (_dir, r, s) =
        recipe_and_snapshot(&snapshot("v1.33.5-eks-3025e55", "6.8.0-1028-aws", "ubuntu"));
    let (status, out, err) = run(["validate", "-r", &r, "-s", &s]);
    assert_eq!(status, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["reportFormat"], "CTRF");
    assert_eq!(report["timestamp"], "2026-01-30T12:00:00Z");
    assert_eq!(report["results"]["summary"]["start"], 1_769_774_400_000u64);
    let tests = tests_by_name(&report);
    assert_eq!(tests.len(), 4, "{out}");
    assert!(tests.iter().all(|(_, s)| s == "passed"), "{out}");
    // Same inputs, same bytes.
    let (_, again, _) = run(["validate", "-r", &r, "-s", &s]);
    assert_eq!(out, again);
}

#[test]
fn validate_fails_closed_and_still_writes_the_report() {
    // Too old a server, a kernel that is not a version, and no VERSION_ID
    // reading at all.
    let text = snapshot("v1.30.2-gke.1318000", "not-a-version", "ubuntu")
        .replace("          VERSION_ID: \"24.04\"\n", "");
    let (dir, r, s) = recipe_and_snapshot(&text);
    let out_file = dir.path().join("report.json");
    let (status, _, err) = run([
        "validate",
        "-r",
        &r,
        "-s",
        &s,
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(status, 8, "{err}");
    assert!(
        err.contains("validation failed: 3 of 4 tests failed"),
        "{err}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let tests = tests_by_name(&report);
    let status_of = |n: &str| tests.iter().find(|(name, _)| name == n).unwrap().1.clone();
    assert_eq!(status_of("K8s.server.version"), "failed");
    assert_eq!(status_of("OS.sysctl./proc/sys/kernel/osrelease"), "failed");
    assert_eq!(status_of("OS.release.VERSION_ID"), "failed");
    assert_eq!(status_of("OS.release.ID"), "passed");
    let missing = &report["results"]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "OS.release.VERSION_ID")
        .unwrap()["message"];
    assert!(
        missing
            .as_str()
            .unwrap()
            .contains("no reading \"VERSION_ID\""),
        "{missing}"
    );
    // --fail-on-error=false: the same report, exit 0.
    let (status, out, _) = run(["validate", "-r", &r, "-s", &s, "--fail-on-error=false"]);
    assert_eq!(status, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), report);
}

#[test]
fn validate_no_cluster_lists_each_phase_check_as_skipped() {
    let (_dir, r, s) = recipe_and_snapshot(&snapshot("v1.33.5", "6.8.0", "ubuntu"));
    let (status, out, err) = run([
        "validate",
        "-r",
        &r,
        "-s",
        &s,
        "--no-cluster",
        "--phase",
        "deployment",
    ]);
    assert_eq!(status, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let skipped: Vec<_> = report["results"]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "skipped")
        .map(|t| {
            assert_eq!(t["suite"], serde_json::json!(["deployment"]));
            assert_eq!(t["message"], "skipped - no-cluster mode");
            t["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        skipped,
        [
            "operator-health",
            "expected-resources",
            "gpu-operator-version",
            "check-nvidia-smi"
        ]
    );
    assert_eq!(report["results"]["summary"]["skipped"], 4);
    let (status, out, _) = run(["validate", "-r", &r, "-s", &s, "--no-cluster"]);
    assert_eq!(status, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["results"]["summary"]["skipped"], 19);
}

#[test]
fn validate_refuses_what_it_cannot_do_or_check() {
    let (dir, r, s) = recipe_and_snapshot(&snapshot("v1.33.5", "6.8.0", "ubuntu"));
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["validate", "-r", &r],
            2,
            "live cluster is not supported yet",
        ),
        (
            &["validate", "-r", &r, "-s", &s, "--phase", "deployment"],
            2,
            "not supported yet",
        ),
        (
            &[
                "validate",
                "-r",
                &r,
                "-s",
                &s,
                "--no-cluster",
                "--phase",
                "all,deployment",
            ],
            2,
            "cannot be combined",
        ),
        (
            &[
                "validate",
                "-r",
                &r,
                "-s",
                &s,
                "--no-cluster",
                "--phase",
                "readiness",
            ],
            2,
            "invalid phase",
        ),
        (
            &["validate", "-r", &r, "-s", "/nonexistent/s.yaml"],
            3,
            "snapshot file not found",
        ),
        (
            &["validate", "-r", &r, "-s", &r],
            2,
            "expected \"Snapshot\"",
        ),
    ];
    for (args, want, text) in cases {
        let (status, _, err) = run(args);
        assert_eq!(status, want, "{args:?}: {err}");
        assert!(err.contains(text), "{args:?}: {err}");
    }
    // A misspelt constraint path is an error, never a pass.
    let typo = std::fs::read_to_string(&r)
        .unwrap()
        .replace("name: K8s.server.version", "name: K8s.server.verison");
    let typo = write(dir.path(), "typo.yaml", &typo);
    let (status, out, err) = run(["validate", "-r", &typo, "-s", &s]);
    assert_eq!((status, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("K8s.server.verison") && err.contains("K8s.server.version"),
        "{err}"
    );
}

#[test]
fn diff_reports_drift_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.yaml",
        &snapshot("v1.33.5", "6.8.0", "ubuntu"),
    );
    let b = write(dir.path(), "b.json", &{
        let s: Value = serde_json::to_value(
            serde_saphyr::from_str::<Value>(&snapshot("v1.34.0", "6.8.0", "ubuntu")).unwrap(),
        )
        .unwrap();
        serde_json::to_string(&s).unwrap()
    });
    let (status, out, err) = run(["diff", "-b", &a, "--target", &b, "-t", "json"]);
    assert_eq!(status, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["baselineSource"], a.as_str());
    assert_eq!(
        report["changes"],
        serde_json::json!([{"kind": "modified", "severity": "info", "path": "K8s.server.version", "baseline": "v1.33.5", "target": "v1.34.0"}])
    );
    assert_eq!(report["summary"]["total"], 1);
    let (status, out, _) = run([
        "diff",
        "-b",
        &a,
        "--target",
        &b,
        "-t",
        "table",
        "--fail-on-drift",
    ]);
    assert_eq!(status, 2);
    assert!(
        out.starts_with("CHANGES (0 added, 0 removed, 1 modified)\n"),
        "{out}"
    );
    assert!(out.ends_with("DRIFT DETECTED\n"), "{out}");
    let (status, out, _) = run([
        "diff",
        "-b",
        &a,
        "--target",
        &a,
        "-t",
        "table",
        "--fail-on-drift",
    ]);
    assert_eq!((status, out.as_str()), (0, "NO CHANGES\n"));
    let (status, out, _) = run(["diff", "-b", &a, "--target", &a]);
    assert_eq!(status, 0);
    assert!(out.contains("changes: []"), "{out}");
    for (args, text) in [
        (
            vec!["diff", "--target", a.as_str()],
            "--baseline is required",
        ),
        (vec!["diff", "-b", a.as_str()], "--target is required"),
        (
            vec!["diff", "-b", a.as_str(), "--target", "/nonexistent.yaml"],
            "not found",
        ),
    ] {
        let (status, _, err) = run(&args);
        assert_ne!(status, 0, "{args:?}");
        assert!(err.contains(text), "{args:?}: {err}");
    }
}

/// The CTRF report validates against the CTRF JSON schema (from the
/// `ctrf` npm package that scripts/install_real_tools.sh installs), with
/// the JSON Schema validator in the tools' Python venv.
#[test]
fn validation_reports_match_the_ctrf_schema() {
    let tools = aicr_test_support::repo_root().join("target/tools");
    let schema = tools.join("node_modules/ctrf/dist/ctrf-schema-0.0.json");
    let python = tools.join("venv/bin/python");
    if !schema.is_file() || !python.is_file() {
        assert!(
            std::env::var_os("AICR_REQUIRE_REAL_TOOLS").is_none(),
            "the CTRF schema or the tools venv is missing: run scripts/install_real_tools.sh"
        );
        eprintln!("skipped: run scripts/install_real_tools.sh for the CTRF schema");
        return;
    }
    let (dir, r, s) = recipe_and_snapshot(&snapshot("v1.30.0", "6.8.0", "rhel"));
    let report = dir.path().join("report.json");
    let (status, _, err) = run([
        "validate",
        "-r",
        &r,
        "-s",
        &s,
        "--no-cluster",
        "--fail-on-error=false",
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!(status, 0, "{err}");
    let check = std::process::Command::new(&python)
        .args([
            "-c",
            "import json,sys,jsonschema_rs; jsonschema_rs.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
        ])
        .arg(&schema)
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
