//! Fuzzes the unpacking of a pulled OCI layer, the one archive format we
//! read from a registry we do not control: the input is a tar stream
//! (gzip'd here, so that the fuzzer explores tar headers rather than
//! deflate), unpacked under small caps. Nothing panics, and a tree that
//! comes out holds only plain relative paths and repacks to a layer that
//! unpacks to the same tree.
#![no_main]

use std::io::Write;

use aicr_bundle::oci::{Limits, pack, unpack, unpack_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    let layer = gz.finish().unwrap();
    let limits = Limits {
        entries: 64,
        file_bytes: 64 * 1024,
        total_bytes: 256 * 1024,
    };
    // Raw bytes as a layer too: gzip errors must be errors, not panics.
    let _ = unpack_with(data, &limits);
    let Ok(tree) = unpack_with(&layer, &limits) else {
        return;
    };
    for (path, _) in tree.iter() {
        assert!(!path.is_empty() && !path.starts_with('/'), "{path:?}");
        assert!(
            path.split('/').all(|p| !p.is_empty() && p != "." && p != ".."),
            "{path:?}"
        );
    }
    let again = pack(&tree, "v0").unwrap();
    assert_eq!(unpack(&again.layer).unwrap(), tree);
});
