//! `aicr snapshot --local` on the machine the tests run on, with an
//! environment that has no nvidia-smi and no Kubernetes configuration.

use std::process::Command;

use aicr::{MeasurementType, Snapshot, SourceState};

/// Runs `aicr snapshot --local ARGS` with no nvidia-smi on `PATH`, no
/// kubeconfig and not in a pod.
fn local_snapshot(args: &[&str]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_aicr"))
        .args(["snapshot", "--local"])
        .args(args)
        .env("PATH", home.path())
        .env("HOME", home.path())
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("AICR_REQUIRE_GPU")
        .output()
        .unwrap();
    aicr_test_support::output_text(output)
}

/// Whether PCI enumeration on this machine sees an NVIDIA GPU (then the
/// no-GPU expectations cannot hold).
fn machine_has_nvidia_gpu() -> bool {
    let Ok(devices) = std::fs::read_dir("/sys/bus/pci/devices") else {
        return false;
    };
    devices.flatten().any(|d| {
        let read = |f: &str| std::fs::read_to_string(d.path().join(f)).unwrap_or_default();
        read("vendor").trim() == "0x10de" && read("class").trim().starts_with("0x030")
    })
}

#[test]
fn a_local_snapshot_records_missing_sources_as_absent_and_exits_zero() {
    let (status, stdout, stderr) = local_snapshot(&[]);
    assert_eq!(status, 0, "{stderr}");
    let snapshot = Snapshot::parse(stdout.as_bytes(), "stdout").unwrap();
    assert!(snapshot.measurement(MeasurementType::Gpu).is_some());
    assert!(snapshot.measurement(MeasurementType::Os).is_some());
    let smi = snapshot
        .sources
        .iter()
        .find(|s| s.source == "GPU/smi")
        .unwrap();
    assert_eq!(smi.status, SourceState::Absent);
    assert_eq!(
        snapshot.reading("GPU.smi.gpu-count").unwrap(),
        &aicr::Reading::Int(0)
    );
    assert!(snapshot.metadata.contains_key("timestamp"));
    assert_eq!(snapshot.metadata["version"], aicr::VERSION);

    // No cluster: the Kubernetes sources are absent, in the reference's
    // empty shape (case 21).
    let status = |source: &str| {
        snapshot
            .sources
            .iter()
            .find(|s| s.source == source)
            .unwrap_or_else(|| panic!("no status for {source}"))
            .status
    };
    assert_eq!(status("K8s"), SourceState::Absent);
    assert_eq!(status("NodeTopology"), SourceState::Absent);
    let k8s = snapshot.measurement(MeasurementType::K8s).unwrap();
    let names: Vec<_> = k8s.subtypes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["server", "image", "policy", "node"]);
    assert!(k8s.subtypes.iter().all(|s| s.data.is_empty()));
    assert_eq!(
        snapshot.reading("NodeTopology.summary.node-count").unwrap(),
        &aicr::Reading::Int(0)
    );
    if !std::path::Path::new("/run/systemd/private").exists() {
        assert_eq!(status("SystemD"), SourceState::Absent);
        let systemd = snapshot.measurement(MeasurementType::SystemD).unwrap();
        assert!(systemd.subtypes.is_empty());
    }
}

#[test]
fn formats_are_yaml_json_and_table() {
    let (status, json, stderr) = local_snapshot(&["-t", "json"]);
    assert_eq!(status, 0, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["kind"], "Snapshot");
    Snapshot::parse(json.as_bytes(), "snapshot.json").unwrap();

    let (status, table, _) = local_snapshot(&["-t", "table"]);
    assert_eq!(status, 0);
    assert!(table.starts_with("FIELD"), "{table}");

    let (status, _, stderr) = local_snapshot(&["-t", "xml"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("unknown output format"), "{stderr}");
}

#[test]
fn require_gpu_without_a_gpu_exits_with_not_found() {
    if machine_has_nvidia_gpu() {
        return;
    }
    let (status, stdout, stderr) = local_snapshot(&["--require-gpu"]);
    assert_eq!(status, 3, "{stderr}");
    assert!(stderr.contains("[NOT_FOUND]"), "{stderr}");
    assert!(stdout.is_empty(), "nothing is written on failure: {stdout}");
}

#[test]
fn a_snapshot_file_is_written_whole_and_an_unknown_os_is_refused_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snapshot.yaml");
    let (status, _, stderr) = local_snapshot(&["-o", file.to_str().unwrap()]);
    assert_eq!(status, 0, "{stderr}");
    Snapshot::parse(&std::fs::read(&file).unwrap(), "snapshot.yaml").unwrap();

    let other = dir.path().join("other.yaml");
    let (status, _, stderr) = local_snapshot(&["--os", "windows", "-o", other.to_str().unwrap()]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("--os"), "{stderr}");
    assert!(!other.exists());
}
