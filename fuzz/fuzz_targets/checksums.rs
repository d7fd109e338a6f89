//! Fuzzes `verify`'s reading of `checksums.txt`: the input is written as
//! the checksums file of a small bundle and the bundle verified. Nothing
//! panics or hangs, and a clean report means every listed path is a plain
//! relative path to a regular file inside the bundle.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// A bundle of two files, made once per process; only its checksums.txt
/// changes between runs.
fn bundle() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("aicr-fuzz-checksums-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("001-a")).unwrap();
        std::fs::write(dir.join("001-a/values.yaml"), "a: 1\n").unwrap();
        std::fs::write(dir.join("deploy.sh"), "#!/bin/sh\n").unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let (_, bad) = aicr_bundle::checksum::parse_all(&String::from_utf8_lossy(data));
    assert!(bad.windows(2).all(|w| w[0] < w[1]), "line numbers ascend");

    let dir = bundle();
    std::fs::write(dir.join("checksums.txt"), data).unwrap();
    let Ok(report) = aicr_bundle::verify_dir(dir, None) else {
        return;
    };
    if report.is_valid() {
        let text = std::str::from_utf8(data).expect("a valid bundle's checksums are UTF-8");
        for (path, _) in aicr_bundle::checksum::parse(text).expect("valid means parsed") {
            assert!(!path.starts_with('/') && !path.split('/').any(|s| s == ".." || s.is_empty()));
            assert!(dir.join(&path).symlink_metadata().unwrap().is_file());
        }
    }
});
