//! The collector runner over a fake host tree and a fake `nvidia-smi`:
//! absent sources are recorded, failing ones fail the snapshot, the first
//! failure cancels the rest, and deadlines hold.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aicr_collect::run::{BoxFuture, run};
use aicr_collect::{Collected, Collector, Host, Options, gpu, os};
use aicr_core::Code;
use aicr_core::snapshot::{MeasurementType, Reading, SourceState, SourceStatus};

use crate::support::tree;

const SMI_XML: &str = "<nvidia_smi_log><driver_version>570.86.15</driver_version>\
<cuda_version>12.8</cuda_version><gpu><product_name>NVIDIA H100 80GB HBM3</product_name></gpu>\
<gpu><product_name>NVIDIA H100 80GB HBM3</product_name></gpu></nvidia_smi_log>";

/// A host with every OS file and two NVIDIA GPUs on PCI.
fn host(root: &Path) {
    tree(
        root,
        &[
            (
                "proc/cmdline",
                "BOOT_IMAGE=/vmlinuz ro root=/dev/sda1 quiet\n",
            ),
            ("proc/modules", "nvidia 5678 2 - Live 0x0\n"),
            ("proc/sys/kernel/hostname", "node-1\n"),
            ("proc/sys/vm/swappiness", "10\n"),
            ("etc/os-release", "ID=ubuntu\nVERSION_ID=\"22.04\"\n"),
        ],
    );
    for (device, vendor, class) in [
        ("0000:01:00.0", "0x10de", "0x030200"),
        ("0000:02:00.0", "0x10de", "0x030200"),
        ("0000:03:00.0", "0x8086", "0x030000"),
    ] {
        let dir = format!("sys/bus/pci/devices/{device}");
        tree(
            root,
            &[
                (&format!("{dir}/vendor"), vendor),
                (&format!("{dir}/class"), class),
                (&format!("{dir}/device"), "0x2330"),
                (&format!("{dir}/subsystem_vendor"), "0x10de"),
                (&format!("{dir}/subsystem_device"), "0x16c1"),
            ],
        );
    }
}

/// A directory holding an executable `nvidia-smi` running `script`.
fn smi_dir(root: &Path, script: &str) -> OsString {
    let dir = root.join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let program = dir.join("nvidia-smi");
    std::fs::write(&program, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir.into_os_string()
}

fn options(root: &Path, path: Option<OsString>) -> Options {
    let mut options = Options::new("v1.2.3", 1_769_774_400);
    options.host = Host::at(root);
    options.path = path;
    options.node_name = Some("node-1".to_string());
    options
}

fn status<'a>(sources: &'a [SourceStatus], source: &str) -> &'a SourceStatus {
    sources
        .iter()
        .find(|s| s.source == source)
        .unwrap_or_else(|| panic!("no status for {source} in {sources:?}"))
}

const LOCAL: &[&dyn Collector] = &[&gpu::Collector, &os::Collector];

#[tokio::test]
async fn a_full_host_gives_every_subtype_metadata_and_fingerprint() {
    let root = tempfile::tempdir().unwrap();
    host(root.path());
    let path = smi_dir(root.path(), &format!("cat <<'EOF'\n{SMI_XML}\nEOF"));
    let snapshot = run(LOCAL, options(root.path(), Some(path))).await.unwrap();

    let kinds: Vec<_> = snapshot.measurements.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, [MeasurementType::Gpu, MeasurementType::Os]);
    let names = |kind| {
        snapshot
            .measurement(kind)
            .unwrap()
            .subtypes
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(MeasurementType::Gpu), ["hardware", "smi"]);
    assert_eq!(
        names(MeasurementType::Os),
        ["grub", "sysctl", "kmod", "release"]
    );
    assert_eq!(
        snapshot.reading("GPU.hardware.gpu-count").unwrap(),
        &Reading::Int(2)
    );
    assert_eq!(
        snapshot.reading("GPU.smi.gpu-count").unwrap(),
        &Reading::Int(2)
    );
    assert_eq!(
        snapshot
            .reading("OS.sysctl./proc/sys/vm/swappiness")
            .unwrap(),
        &Reading::from("10")
    );
    assert!(
        snapshot
            .sources
            .iter()
            .all(|s| s.status == SourceState::Collected)
    );
    assert_eq!(snapshot.metadata["timestamp"], "2026-01-30T12:00:00Z");
    assert_eq!(snapshot.metadata["version"], "v1.2.3");
    assert_eq!(snapshot.metadata["source-node"], "node-1");
    let fingerprint = snapshot.fingerprint.as_ref().unwrap();
    assert_eq!(fingerprint["accelerator"]["value"], "h100");
    assert_eq!(fingerprint["os"]["value"], "ubuntu");

    // What was written reads back as the same snapshot.
    let yaml = aicr_core::output::Format::Yaml.render(&snapshot);
    let back = aicr_core::snapshot::Snapshot::parse(yaml.as_bytes(), "snapshot.yaml").unwrap();
    assert_eq!(back, snapshot);
}

#[tokio::test]
async fn missing_sources_are_absent_with_a_reason_and_keep_the_reference_shape() {
    let root = tempfile::tempdir().unwrap();
    tree(root.path(), &[("proc/cmdline", "ro\n")]);
    let snapshot = run(LOCAL, options(root.path(), Some(OsString::new())))
        .await
        .unwrap();

    let gpu = snapshot.measurement(MeasurementType::Gpu).unwrap();
    assert_eq!(gpu.subtypes.len(), 1, "only smi: {gpu:?}");
    assert_eq!(
        snapshot.reading("GPU.smi.gpu-count").unwrap(),
        &Reading::Int(0)
    );
    for source in [
        "GPU/hardware",
        "GPU/smi",
        "OS/sysctl",
        "OS/kmod",
        "OS/release",
    ] {
        let status = status(&snapshot.sources, source);
        assert_eq!(status.status, SourceState::Absent, "{source}");
        assert!(
            !status.reason.as_deref().unwrap_or("").is_empty(),
            "{source}"
        );
    }
    assert_eq!(
        status(&snapshot.sources, "GPU/smi").reason.as_deref(),
        Some("nvidia-smi is not on PATH")
    );
    assert_eq!(
        status(&snapshot.sources, "OS/grub").status,
        SourceState::Collected
    );
}

/// Case 11: `--require-gpu` fails only when no GPU subtype counts a GPU.
#[tokio::test]
async fn require_gpu_fails_with_not_found_when_nothing_counts_a_gpu() {
    let root = tempfile::tempdir().unwrap();
    tree(root.path(), &[("proc/cmdline", "ro\n")]);
    let mut no_gpu = options(root.path(), None);
    no_gpu.require_gpu = true;
    let err = run(LOCAL, no_gpu).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.to_string().contains("--require-gpu"), "{err}");

    // PCI sees GPUs although nvidia-smi is missing: found.
    host(root.path());
    let mut pci_only = options(root.path(), None);
    pci_only.require_gpu = true;
    run(LOCAL, pci_only).await.unwrap();
}

#[tokio::test]
async fn a_failing_nvidia_smi_fails_the_snapshot() {
    let root = tempfile::tempdir().unwrap();
    host(root.path());
    let path = smi_dir(
        root.path(),
        "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\" >&2; exit 9",
    );
    let err = run(LOCAL, options(root.path(), Some(path)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal);
    let text = err.to_string();
    assert!(text.contains("collecting GPU"), "{text}");
    assert!(text.contains("couldn't communicate"), "{text}");

    let path = smi_dir(root.path(), "echo 'not xml at all'");
    let err = run(LOCAL, options(root.path(), Some(path)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest, "{err}");
}

#[tokio::test]
async fn a_source_that_exists_but_cannot_be_read_fails_the_snapshot() {
    let root = tempfile::tempdir().unwrap();
    host(root.path());
    std::fs::remove_file(root.path().join("proc/cmdline")).unwrap();
    std::fs::create_dir(root.path().join("proc/cmdline")).unwrap();
    let err = run(LOCAL, options(root.path(), None)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest);
    assert!(err.to_string().contains("OS/grub"), "{err}");
}

/// A collector with its own deadline around another.
struct Within(Duration, &'static dyn Collector);

impl Collector for Within {
    fn kind(&self) -> MeasurementType {
        self.1.kind()
    }
    fn deadline(&self) -> Duration {
        self.0
    }
    fn collect(&self, options: Arc<Options>) -> BoxFuture<aicr_core::Result<Collected>> {
        self.1.collect(options)
    }
}

#[tokio::test]
async fn a_collector_past_its_deadline_fails_with_timeout_and_its_child_is_killed() {
    let root = tempfile::tempdir().unwrap();
    host(root.path());
    let marker = root.path().join("still-running");
    let path = smi_dir(
        root.path(),
        &format!("sleep 2; touch '{}'", marker.display()),
    );
    let slow_gpu = Within(Duration::from_millis(200), &gpu::Collector);
    let started = Instant::now();
    let err = run(
        &[&slow_gpu, &os::Collector],
        options(root.path(), Some(path)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!marker.exists(), "nvidia-smi ran on after the deadline");
}

/// Fails at once.
struct Broken;

impl Collector for Broken {
    fn kind(&self) -> MeasurementType {
        MeasurementType::SystemD
    }
    fn deadline(&self) -> Duration {
        Duration::from_secs(60)
    }
    fn collect(&self, _: Arc<Options>) -> BoxFuture<aicr_core::Result<Collected>> {
        Box::pin(async { Err(aicr_core::Error::new(Code::Unauthorized, "denied")) })
    }
}

/// Never finishes, and says so if it is not cancelled.
struct Endless(Arc<std::sync::atomic::AtomicBool>);

impl Collector for Endless {
    fn kind(&self) -> MeasurementType {
        MeasurementType::K8s
    }
    fn deadline(&self) -> Duration {
        Duration::from_secs(60)
    }
    fn collect(&self, _: Arc<Options>) -> BoxFuture<aicr_core::Result<Collected>> {
        let finished = Arc::clone(&self.0);
        Box::pin(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            finished.store(true, std::sync::atomic::Ordering::SeqCst);
            Err(aicr_core::Error::internal("not cancelled"))
        })
    }
}

#[tokio::test]
async fn the_first_failure_cancels_the_other_collectors() {
    let root = tempfile::tempdir().unwrap();
    let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let endless: &'static Endless = Box::leak(Box::new(Endless(Arc::clone(&finished))));
    let started = Instant::now();
    let err = run(&[endless, &Broken], options(root.path(), None))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthorized);
    assert!(err.to_string().contains("collecting SystemD"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(!finished.load(std::sync::atomic::Ordering::SeqCst));
}
