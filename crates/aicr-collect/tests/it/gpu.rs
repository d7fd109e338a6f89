//! The GPU sources: `nvidia-smi -q -x` → `smi`, PCI and modules →
//! `hardware`.

use aicr_collect::gpu::{
    PciDevice, hardware_subtype, parse_nvidia_smi, read_pci_devices, smi_without_gpus,
};
use aicr_core::Code;
use aicr_core::fingerprint::Fingerprint;
use aicr_core::snapshot::{Measurement, MeasurementType, Reading, Snapshot, Subtype};

use crate::support::{strings, tree};

fn fixture(name: &str) -> Option<Vec<u8>> {
    let path = aicr_test_support::conformance_path(&format!("snapshot/{name}"))?;
    Some(std::fs::read(path).unwrap())
}

/// The readings of `smi` with `gpu-count` as `count` and the rest strings.
fn smi(count: i64, strings_: &[(&str, &str)]) -> Subtype {
    let mut data = strings(strings_);
    data.insert("gpu-count".into(), Reading::Int(count));
    Subtype {
        name: "smi".into(),
        data,
        ..Subtype::default()
    }
}

/// Case 1.
#[test]
fn h100_node_gives_driver_cuda_count_and_the_first_gpus_eight_readings() {
    let Some(xml) = fixture("nvidia-smi-h100x8.xml") else {
        return;
    };
    let expected = smi(
        8,
        &[
            ("driver", "570.86.15"),
            ("cuda-version", "12.8"),
            ("gpu.model", "NVIDIA H100 80GB HBM3"),
            ("gpu.product-architecture", "Hopper"),
            ("gpu.display-mode", "Enabled"),
            ("gpu.display-active", "Disabled"),
            ("gpu.persistence-mode", "Disabled"),
            ("gpu.addressing-mode", "None"),
            ("gpu.vbios-version", "96.00.A5.00.01"),
            ("gpu.gsp-firmware-version", "570.86.15"),
        ],
    );
    assert_eq!(parse_nvidia_smi(&xml).unwrap(), expected);
}

/// Case 2.
#[test]
fn a_log_without_gpus_has_only_driver_cuda_and_a_zero_count() {
    let xml = b"<nvidia_smi_log><driver_version>570.86.15</driver_version>\
        <cuda_version>12.8</cuda_version><attached_gpus>0</attached_gpus></nvidia_smi_log>";
    let expected = smi(0, &[("driver", "570.86.15"), ("cuda-version", "12.8")]);
    assert_eq!(parse_nvidia_smi(xml).unwrap(), expected);
}

/// Case 3.
#[test]
fn gpu_count_counts_gpu_elements_not_attached_gpus() {
    let xml = b"<nvidia_smi_log><driver_version>570.86.15</driver_version>\
        <attached_gpus>8</attached_gpus></nvidia_smi_log>";
    let smi = parse_nvidia_smi(xml).unwrap();
    assert_eq!(smi.data["gpu-count"], Reading::Int(0));
    assert!(!smi.data.keys().any(|k| k.starts_with("gpu.")));
}

/// Case 5, where we differ on purpose: the reference turns a document
/// that is not XML into `{gpu-count: 0}`; we return INVALID_REQUEST so the
/// caller can record the failing source, and `smi_without_gpus` is that
/// zero-GPU subtype for when it chooses to.
#[test]
fn empty_text_non_xml_and_unclosed_xml_are_invalid_not_zero_gpus() {
    for xml in ["", "not xml at all", "<nvidia_smi_log><unclosed>"] {
        let err = parse_nvidia_smi(xml.as_bytes()).unwrap_err();
        assert_eq!(err.code(), Code::InvalidRequest, "{xml:?}: {err}");
        assert!(err.to_string().contains("nvidia-smi XML"), "{err}");
    }
    assert_eq!(smi_without_gpus(), smi(0, &[]));
}

/// Case 6.
#[test]
fn well_formed_xml_of_another_root_reads_empty_strings_and_no_gpus() {
    let xml = b"<other_element><foo>bar</foo></other_element>";
    let expected = smi(0, &[("driver", ""), ("cuda-version", "")]);
    assert_eq!(parse_nvidia_smi(xml).unwrap(), expected);
}

/// Case 7.
#[test]
fn b200_fake_gives_blackwell_with_empty_sparse_fields_and_the_b200_accelerator() {
    let Some(xml) = fixture("nvidia-smi-b200x8.xml") else {
        return;
    };
    let parsed = parse_nvidia_smi(&xml).unwrap();
    let expected = smi(
        8,
        &[
            ("driver", "560.35.03"),
            ("cuda-version", "12.6"),
            ("gpu.model", "NVIDIA B200"),
            ("gpu.product-architecture", "Blackwell"),
            ("gpu.display-mode", ""),
            ("gpu.display-active", ""),
            ("gpu.persistence-mode", ""),
            ("gpu.addressing-mode", ""),
            ("gpu.vbios-version", ""),
            ("gpu.gsp-firmware-version", ""),
        ],
    );
    assert_eq!(parsed, expected);

    let mut snapshot = Snapshot::new();
    snapshot.measurements.push(Measurement {
        kind: MeasurementType::Gpu,
        subtypes: vec![parsed],
    });
    let accelerator = Fingerprint::from_snapshot(&snapshot).accelerator.unwrap();
    assert_eq!(accelerator.value, "b200");
}

#[test]
fn parsing_the_same_document_twice_gives_equal_subtypes() {
    let Some(xml) = fixture("nvidia-smi-h100x8.xml") else {
        return;
    };
    assert_eq!(
        parse_nvidia_smi(&xml).unwrap(),
        parse_nvidia_smi(&xml).unwrap()
    );
}

fn hardware(present: bool, count: i64, driver_loaded: bool) -> Subtype {
    Subtype {
        name: "hardware".into(),
        data: [
            ("gpu-present", Reading::Bool(present)),
            ("gpu-count", Reading::Int(count)),
            ("driver-loaded", Reading::Bool(driver_loaded)),
            ("detection-source", Reading::from("nfd")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        ..Subtype::default()
    }
}

const MODULES: &str = "nvidia_uvm 1234 0 - Live 0xffffffffc0000000\n\
    nvidia 5678 2 nvidia_uvm, Live 0xffffffffc1000000\n";

/// Case 10.
#[test]
fn nvidia_vga_and_3d_controllers_count_and_the_nvidia_module_means_a_loaded_driver() {
    let devices = [
        PciDevice::from_sysfs("0x10de", "0x030000"),
        PciDevice::from_sysfs("0x10de", "0x030200"),
        PciDevice::from_sysfs("0x8086", "0x030000"),
    ];
    assert_eq!(hardware_subtype(&devices, MODULES), hardware(true, 2, true));
}

/// Case 10.
#[test]
fn only_intel_devices_mean_no_gpu() {
    let devices = [PciDevice::from_sysfs("0x8086", "0x030000")];
    assert_eq!(
        hardware_subtype(&devices, MODULES),
        hardware(false, 0, true)
    );
}

/// Case 10.
#[test]
fn no_devices_and_no_modules_give_zeros() {
    assert_eq!(hardware_subtype(&[], ""), hardware(false, 0, false));
}

#[test]
fn nvidia_uvm_alone_is_not_the_nvidia_driver() {
    let modules = "nvidia_uvm 1234 0 - Live 0x0\n";
    assert_eq!(hardware_subtype(&[], modules), hardware(false, 0, false));
}

#[test]
fn pci_devices_are_read_from_a_sysfs_tree_in_name_order_skipping_incomplete_ones() {
    let sysfs = tempfile::tempdir().unwrap();
    let device = |addr: &str, vendor: &str, class: &str| {
        let dir = format!("bus/pci/devices/{addr}");
        [
            (format!("{dir}/vendor"), format!("0x{vendor}\n")),
            (format!("{dir}/class"), format!("0x{class}\n")),
            (format!("{dir}/device"), "0x2330\n".to_string()),
            (format!("{dir}/subsystem_vendor"), "0x10de\n".to_string()),
            (format!("{dir}/subsystem_device"), "0x16c1\n".to_string()),
        ]
    };
    let mut files: Vec<(String, String)> = Vec::new();
    files.extend(device("0000:1b:00.0", "10de", "030200"));
    files.extend(device("0000:00:02.0", "8086", "030000"));
    // No subsystem_device: skipped, as the reference skips it.
    files.extend(device("0000:2a:00.0", "10de", "030200").into_iter().take(4));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    tree(sysfs.path(), &files);

    let devices = read_pci_devices(sysfs.path()).unwrap();
    assert_eq!(
        devices,
        [
            PciDevice::from_sysfs("8086", "0300"),
            PciDevice::from_sysfs("10de", "0302"),
        ]
    );
    assert_eq!(hardware_subtype(&devices, ""), hardware(true, 1, false));
}

#[test]
fn a_sysfs_without_pci_devices_is_not_found() {
    let sysfs = tempfile::tempdir().unwrap();
    let err = read_pci_devices(sysfs.path()).unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}
