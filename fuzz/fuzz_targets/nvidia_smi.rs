//! Fuzzes the `nvidia-smi -q -x` parser: no input panics, and a document
//! that parses gives the `smi` subtype's shape: `driver` and
//! `cuda-version` strings, an integer `gpu-count` ≥ 0, and the eight
//! `gpu.*` strings exactly when `gpu-count` > 0.
#![no_main]

use aicr_collect::gpu::parse_nvidia_smi;
use aicr_core::snapshot::Reading;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(smi) = parse_nvidia_smi(data) else {
        return;
    };
    assert_eq!(smi.name, "smi");
    let Some(Reading::Int(count)) = smi.data.get("gpu-count") else {
        panic!("gpu-count is not an integer: {:?}", smi.data);
    };
    assert!(*count >= 0, "negative gpu-count {count}");
    let gpu_keys = smi.data.keys().filter(|k| k.starts_with("gpu.")).count();
    assert_eq!(gpu_keys, if *count > 0 { 8 } else { 0 }, "{:?}", smi.data);
    assert_eq!(smi.data.len(), 3 + gpu_keys, "{:?}", smi.data);
    for key in ["driver", "cuda-version"] {
        assert!(matches!(smi.data.get(key), Some(Reading::Str(_))), "{key}");
    }
    assert!(
        smi.data
            .iter()
            .filter(|(k, _)| k.starts_with("gpu."))
            .all(|(_, v)| matches!(v, Reading::Str(_)))
    );
});
